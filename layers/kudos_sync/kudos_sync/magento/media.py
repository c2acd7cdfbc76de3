"""How our gallery entries look in Magento: the label carries the image's content hash, and the main
image carries the image roles. The catalogue adapter writes and reads this; nothing else needs to."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from kudos_sync.magento.catalog_rows import delete_if_present
from kudos_sync.magento.client import MagentoClient, guarded_write
from kudos_sync.sync.ports import MediaEntry, MediaUpload

IMAGE_ROLES = ("image", "small_image", "thumbnail")
_SHA_IN_LABEL = re.compile(r"sha256:([0-9a-f]{64})")


def media_label(title: str, sha256: str) -> str:
    """The entry's label: what a person sees, then the hash a re-run recognises it by."""
    return f"{title} sha256:{sha256}"


def sha_in_label(label: str) -> str | None:
    """The content hash a label of ours carries; None for an entry someone else made."""
    match = _SHA_IN_LABEL.search(label)
    return match.group(1) if match else None


def roles_of(main: bool) -> tuple[str, ...]:
    return IMAGE_ROLES if main else ()


class Gallery:
    """A product's media gallery (part of RestMagentoCatalog)."""

    def __init__(self, client: MagentoClient) -> None:
        self.client = client

    def list(self, sku: str) -> list[MediaEntry]:
        entries = self.client.get("/V1/products/{sku}/media", path={"sku": sku}, scope="all", record=sku)
        return [
            MediaEntry(
                entry_id=int(e["id"]),
                sha256=sha_in_label(str(e.get("label") or "")),
                position=int(e.get("position") or 0),
            )
            for e in entries or []
            if isinstance(e, Mapping) and e.get("id") is not None
        ]

    def add(self, sku: str, upload: MediaUpload) -> int:
        """Upload one image; returns its entry id. Not repeatable (a repeat adds a second image): after
        an ambiguous failure the gallery is listed and an entry with the upload's hash is returned."""
        entry = {
            "media_type": "image",
            "label": media_label(upload.title, upload.sha256),
            "position": upload.position,
            "disabled": False,
            "types": list(roles_of(upload.main)),
            "content": {
                "base64_encoded_data": base64.b64encode(upload.data).decode("ascii"),
                "type": upload.content_type,
                "name": upload.file_name,
            },
        }

        def send() -> int:
            result = self.client.call(
                "POST",
                "/V1/products/{sku}/media",
                path={"sku": sku},
                body={"entry": entry},
                scope="all",
                idempotent=False,
                record=f"{sku} image {upload.file_name}",
            )
            return int(str(result).strip('"'))

        def find() -> int | None:
            return next((e.entry_id for e in self.list(sku) if e.sha256 == upload.sha256), None)

        return guarded_write(send, find)

    def delete(self, sku: str, entry_id: int) -> None:
        """Delete one gallery entry; an entry already gone is fine."""
        delete_if_present(
            self.client,
            "/V1/products/{sku}/media/{entry}",
            {"sku": sku, "entry": entry_id},
            f"{sku} image {entry_id}",
            ("not_found",),
        )
