"""The image exporter: each carrier product's gallery holds the style's image set, in order.

diff (the set's fingerprint; `on_create` only for new, never-imaged or resync'd products) -> read,
check and stage each new image -> upload, delete what left the set -> bind the gallery (incomplete
while a bad image is parked, so the next run tries again) -> park what was refused. Galleries are
independent: several styles are synced at once, each style's own requests in order. The adapter
marks every upload with its content hash, so entries made before a crash are recognised, not redone.
"""

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from kudos_sync.config import Ownership
from kudos_sync.domain.catalogue import ImageMeta
from kudos_sync.domain.desired import DesiredCatalogue, Problem
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.push_fingerprints import image_set_fingerprint
from kudos_sync.domain.push_rules import MAX_IMAGE_BYTES, image_problem, sniff_image
from kudos_sync.domain.state import Binding, BindingStatus
from kudos_sync.sync.ports import CatalogueSource, ImageStage, MediaUpload
from kudos_sync.sync.push import binders
from kudos_sync.sync.push.context import PushContext, Tally

STEP = "images"


@dataclass(slots=True)
class _Upload:
    meta: ImageMeta
    sha: str
    content_type: str
    extension: str
    data: bytes


def diff_images(
    ownership: Ownership,
    desired: DesiredCatalogue,
    bindings: Mapping[str, Binding],
    present: set[str],
    created: set[str],
) -> tuple[list[str], int]:
    """Carrier skus whose image set must be synced now, by ownership: `always` on every change;
    `on_create` only for products created now, never imaged, or asked to resync."""
    work: list[str] = []
    unchanged = 0
    if ownership is Ownership.NEVER:
        return work, unchanged
    for sku, metas in desired.images.items():
        if sku not in present:
            continue
        binding = bindings.get(sku)
        if binding is None and not metas:
            continue
        if binding is not None and binding.in_step(image_set_fingerprint(metas)):
            unchanged += 1
            continue
        gallery = binding.gallery if binding is not None else None
        if ownership is Ownership.ON_CREATE and not (
            sku in created
            or binding is None
            or binding.status in (BindingStatus.RESYNC, BindingStatus.INCOMPLETE)
            or gallery is None
            or not gallery.entries
        ):
            unchanged += 1  # the web team owns this gallery now
            continue
        work.append(sku)
    return work, unchanged


class ImageExporter:
    def __init__(
        self,
        ctx: PushContext,
        desired: DesiredCatalogue,
        bindings: Mapping[str, Binding],
        catalogue: CatalogueSource,
        stage: ImageStage,
    ) -> None:
        self.ctx = ctx
        self.desired = desired
        self.bindings = bindings
        self.catalogue = catalogue
        self.stage = stage
        # CI Office reads of image bytes happen on image workers; one at a time keeps any driver safe.
        self._catalogue_lock = threading.Lock()

    def push(self, present: set[str]) -> None:
        ctx = self.ctx
        work, unchanged = diff_images(
            ctx.config.owns("images"), self.desired, self.bindings, present, ctx.tally.created
        )
        ctx.tally.counts.unchanged += unchanged

        def synced(_: str, outcome: tuple[Binding, Tally]) -> None:
            binding, tally = outcome
            ctx.tally.add_images_of(tally)
            ctx.writes.save([binding])
            ctx.progress.advance(STEP, 1)

        # Twice the request slots: while some styles read CI Office or stage in S3, others keep the
        # store busy (the Magento client's limiter still caps requests in flight at `concurrency`).
        with ctx.step(STEP, len(work)):
            ctx.in_flight(work, self.sync_gallery, synced, 2 * ctx.slots)

    def sync_gallery(self, sku: str) -> tuple[Binding, Tally]:
        """Stage, upload and delete so the product's gallery holds its set. Runs on an image worker:
        returns the binding to save and what it counted and found, for the run to fold in."""
        metas = self.desired.images[sku]
        binding = self.bindings.get(sku)
        magento = self.ctx.magento
        tally = Tally()
        old = binding.gallery if binding is not None else None
        shas: dict[str, str] = dict(old.shas) if old else {}  # image version -> sha256
        entries: dict[str, int] = dict(old.entries) if old else {}
        # List the gallery once: drop entries someone removed, adopt ours a crashed run made.
        listed = magento.list_media(sku)
        listed_ids = {entry.entry_id for entry in listed}
        entries = {sha: entry for sha, entry in entries.items() if entry in listed_ids}
        for entry in listed:
            if entry.sha256 is not None and entry.sha256 not in entries:
                entries[entry.sha256] = entry.entry_id

        complete = True
        wanted: list[str] = []
        uploads: list[_Upload] = []
        for meta in metas:
            known = shas.get(meta.version)
            if known is not None and known in entries:
                wanted.append(known)
                continue
            upload, reason = self._read(meta)
            if upload is None:
                tally.problem(image_problem(sku, meta, reason))
                complete = False
                continue
            shas[meta.version] = upload.sha
            wanted.append(upload.sha)
            if upload.sha not in entries:
                uploads.append(upload)

        first = wanted[0] if wanted else None
        positions = {sha: index + 1 for index, sha in enumerate(wanted)}
        if (
            first is not None
            and old is not None
            and old.first is not None
            and old.first != first
            and first in entries
            and all(u.sha != first for u in uploads)
        ):
            # The image that is now first was uploaded without roles, and roles cannot be moved
            # without Magento re-creating the entry anyway: replace it by an upload that carries them.
            meta = next(m for m in metas if shas.get(m.version) == first)
            upload, _ = self._read(meta)
            if upload is not None and upload.sha == first:
                uploads.insert(0, upload)
                stale = entries.pop(first)
                try:
                    magento.delete_media(sku, stale)
                    tally.counts.images_deleted += 1
                except RecordError as exc:
                    tally.problem(Problem("images", sku, f"media entry {stale}", f"sku {sku}: {exc}"))
        for upload in uploads:
            if upload.sha in entries:
                continue  # the same bytes twice in one set
            if self.stage.stage(upload.sha, upload.extension, upload.data):
                tally.counts.images_staged += 1
            meta = upload.meta
            request = MediaUpload(
                sha256=upload.sha,
                title=f"{meta.style_code} {meta.sequence}",
                position=positions[upload.sha],
                main=upload.sha == first,
                content_type=upload.content_type,
                file_name=f"{meta.style_code}-{meta.sequence}.{upload.extension}",
                data=upload.data,
            )
            try:
                entries[upload.sha] = magento.add_media(sku, request)
            except RecordError as exc:
                tally.problem(image_problem(sku, meta, str(exc)))
                complete = False
                continue
            tally.counts.images_uploaded += 1
        keep = set(wanted)
        for sha, entry_id in sorted(entries.items()):
            if sha in keep:
                continue
            try:
                magento.delete_media(sku, entry_id)
            except RecordError as exc:  # e.g. 2.4.6+: still used as a role in another store view
                reason = f"sku {sku}: delete entry {entry_id}: {exc}"
                tally.problem(Problem("images", sku, f"media entry {entry_id}", reason))
                complete = False
                keep.add(sha)  # still there: remembered, retried next run
                continue
            tally.counts.images_deleted += 1
        entries = {sha: entry for sha, entry in entries.items() if sha in keep}
        versions = {meta.version for meta in metas}
        bound = binders.gallery(
            sku,
            image_set_fingerprint(metas),
            complete,
            first if first in entries else None,
            entries,
            {version: sha for version, sha in shas.items() if version in versions},
        )
        return bound, tally

    def _read(self, meta: ImageMeta) -> tuple[_Upload | None, str]:
        """The image's bytes, checked: (upload, "") or (None, why it cannot be sent)."""
        if meta.byte_length > MAX_IMAGE_BYTES:
            return None, f"{meta.byte_length} bytes is over the 5 MB limit"
        with self._catalogue_lock:
            data = self.catalogue.read_image(meta.image_id)
        if len(data) > MAX_IMAGE_BYTES:
            return None, f"{len(data)} bytes is over the 5 MB limit"
        kind = sniff_image(data)
        if kind is None:
            return None, "the bytes are not a JPEG, PNG or GIF image"
        return _Upload(meta, hashlib.sha256(data).hexdigest(), kind[0], kind[1], data), ""
