"""An in-memory CatalogueSource (CI Office, read side) built from Style lists, with helpers to edit it
the way a retailer would in CI Office between two pushes."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from kudos_sync.domain.catalogue import ImageMeta, StockOnHand, Style, Variant
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import BranchCode, Sku, StyleCode

# Smallest valid image bodies (magic numbers are all the mapping looks at).
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def jpeg(seed: str) -> bytes:
    """A distinct tiny JPEG-looking body per seed."""
    return JPEG + seed.encode()


def variant(sku: str, colour: str | None = None, size: str | None = None, **extra: Any) -> Variant:
    return Variant(sku=Sku(sku), colour=colour, size=size, **extra)


def style(
    code: str,
    description: str = "Crew Tee",
    *,
    category: str | None = "Womens/Tops",
    retail: str | None = "49.90",
    variants: Iterable[Variant] | None = None,
    colours: Sequence[str] = (),
    sizes: Sequence[str] = (),
    **extra: Any,
) -> Style:
    """A style; with colours/sizes given, one variant per combination (sku "<code>-<colour>-<size>")."""
    if variants is None:
        if colours or sizes:
            variants = [
                variant(
                    "-".join(p for p in (code, c, s) if p),
                    c or None,
                    s or None,
                    size_order=i,
                    barcode=f"BC-{code}-{c}-{s}",
                )
                for c in (colours or [""])
                for i, s in enumerate(sizes or [""])
            ]
        else:
            variants = [variant(f"{code}-1", barcode=f"BC-{code}")]
    return Style(
        code=StyleCode(code),
        description=description,
        category_path=category,
        retail_price=Decimal(retail) if retail is not None else None,
        variants=tuple(variants),
        **extra,
    )


class FakeCatalogue:
    """CatalogueSource over plain lists. Counts reads so tests can assert set-based access."""

    def __init__(self, styles: Iterable[Style] = ()) -> None:
        self.styles: dict[str, Style] = {s.code: s for s in styles}
        self.stock: dict[tuple[str, str], Decimal] = {}  # (sku, branch) -> on hand
        self.image_meta: dict[int, ImageMeta] = {}
        self.image_bytes: dict[int, bytes] = {}
        self.reads: dict[str, int] = {"styles": 0, "stock": 0, "image_meta": 0, "image": 0}
        # SKUs of styles whose Internet Active flag is cleared: their stock rows are never read.
        self.inactive_skus: set[str] = set()
        self._next_image = 1
        self._tick = 0

    # ------------------------------------------------------------ the port

    def read_styles(self) -> Iterator[Style]:
        self.reads["styles"] += 1
        return iter([self.styles[code] for code in sorted(self.styles)])

    def read_stock(self, branches: Sequence[str]) -> Iterator[StockOnHand]:
        self.reads["stock"] += 1
        wanted = set(branches)
        return iter(
            [
                StockOnHand(sku=Sku(sku), branch=BranchCode(branch), quantity=qty)
                for (sku, branch), qty in sorted(self.stock.items())
                if branch in wanted and sku not in self.inactive_skus
            ]
        )

    def read_image_meta(self) -> Iterator[ImageMeta]:
        self.reads["image_meta"] += 1
        metas = [m for m in self.image_meta.values() if m.style_code in self.styles]
        return iter(sorted(metas, key=lambda m: (m.style_code, m.sequence)))

    def read_image(self, image_id: int) -> bytes:
        self.reads["image"] += 1
        if image_id not in self.image_bytes:
            raise RecordError(
                f"CI Office image {image_id} not found", record=f"image {image_id}", field="image_id"
            )
        return self.image_bytes[image_id]

    # ------------------------------------------------------------ edits

    def put(self, *styles: Style) -> None:
        for s in styles:
            self.styles[s.code] = s

    def remove(self, code: str) -> None:
        """Internet Active cleared: the style is no longer read."""
        self.styles.pop(code, None)

    def edit(self, code: str, **changes: Any) -> Style:
        if "retail_price" in changes and isinstance(changes["retail_price"], str):
            changes["retail_price"] = Decimal(changes["retail_price"])
        if "sale_price" in changes and isinstance(changes["sale_price"], str):
            changes["sale_price"] = Decimal(changes["sale_price"])
        updated = replace(self.styles[code], **changes)
        self.styles[code] = updated
        return updated

    def set_stock(self, sku: str, branch: str, quantity: int | str | Decimal) -> None:
        self.stock[(sku, branch)] = Decimal(str(quantity))

    def add_image(self, style_code: str, sequence: int, data: bytes | None = None, **extra: Any) -> int:
        image_id = self._next_image
        self._next_image += 1
        body = data if data is not None else jpeg(f"{style_code}-{sequence}-{image_id}")
        self._tick += 1
        self.image_meta[image_id] = ImageMeta(
            image_id=image_id,
            style_code=StyleCode(style_code),
            sequence=sequence,
            byte_length=extra.pop("byte_length", len(body)),
            updated_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self._tick),
            **extra,
        )
        self.image_bytes[image_id] = body
        return image_id

    def remove_image(self, image_id: int) -> None:
        self.image_meta.pop(image_id, None)
        self.image_bytes.pop(image_id, None)

    def sale(self, code: str, price: str | None, start: date | None = None, end: date | None = None) -> None:
        self.edit(
            code,
            sale_price=Decimal(price) if price is not None else None,
            sale_from=start,
            sale_to=end,
        )
