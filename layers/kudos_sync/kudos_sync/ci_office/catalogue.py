"""CI Office, read side of the push: the current Internet-Active catalogue in a few set-based queries.

Rows are passed on as CI Office holds them (missing prices, negative stock): the push mapping judges
them and parks what is invalid. Models are built without validation because the values come typed
from the database and tens of thousands of variants must be read in well under a second; the few
conversions needed (naive UTC to aware, NULL size order to 0) are done here explicitly.

Codes are passed on as the owning table spells them (a SKU as `skus` has it, a style code as
`styles` has it), because under a case-insensitive collation a referencing row may spell the same
code in another case; where Python has to match two columns it uses `domain.codes.code_key`.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Select, case, select

from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.errors import translate_db_errors
from kudos_sync.domain.catalogue import ImageMeta, StockOnHand, Style, Variant
from kudos_sync.domain.codes import code_key
from kudos_sync.domain.errors import ConfigurationError, RecordError

_YIELD_PER = 2000
# A read that fails for a reason the error table does not know: the database is not what this adapter
# expects, so stop and alarm rather than park or retry.
_READ_FAILURE = ConfigurationError
# The largest image sent to Magento: far above a product photo (a few MB), far below what would
# strain the function's memory when base64-encoded (x 4/3) into a request.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_BRANCH_CHUNK = 500
# Plain dataclasses, built straight from typed columns (one per SKU, stock row and image).
_construct_style = Style
_construct_variant = Variant
_construct_stock = StockOnHand
_construct_image = ImageMeta


def _style_query() -> Select[Any]:
    st = s.styles
    return (
        select(
            st.c.code,
            st.c.description,
            st.c.brand,
            st.c.stock_group,
            st.c.internet_category,
            st.c.internet_long_description,
            st.c.retail_price,
            st.c.sale_price,
            st.c.sale_from,
            st.c.sale_to,
        )
        .where(st.c.internet_active == True)  # noqa: E712 (SQL expression, not a Python comparison)
        .order_by(st.c.code)
    )


def _variant_query() -> Select[Any]:
    st, sk, co, si = s.styles, s.skus, s.colours, s.sizes
    return (
        select(
            sk.c.style_code,
            sk.c.sku,
            co.c.description,
            si.c.description,
            si.c.size_order,
            sk.c.barcode,
        )
        .select_from(
            sk.join(st, st.c.code == sk.c.style_code)
            .outerjoin(co, co.c.code == sk.c.colour_code)
            .outerjoin(si, si.c.code == sk.c.size_code)
        )
        .where(st.c.internet_active == True)  # noqa: E712
        .order_by(sk.c.style_code, sk.c.colour_code, si.c.size_order, sk.c.sku)
    )


def _stock_query(branches: Sequence[str]) -> Select[Any]:
    st, sk, soh = s.styles, s.skus, s.stock_on_hand
    return (
        select(sk.c.sku, soh.c.branch_code, soh.c.quantity)
        .select_from(soh.join(sk, sk.c.sku == soh.c.sku).join(st, st.c.code == sk.c.style_code))
        .where(st.c.internet_active == True, soh.c.branch_code.in_(list(branches)))  # noqa: E712
        .order_by(sk.c.sku, soh.c.branch_code)
    )


def _image_meta_query() -> Select[Any]:
    st, im, co = s.styles, s.product_images, s.colours
    return (
        select(
            im.c.image_id,
            st.c.code,
            im.c.sequence,
            co.c.description,
            im.c.byte_length,
            im.c.updated_at,
        )
        .select_from(im.join(st, st.c.code == im.c.style_code).outerjoin(co, co.c.code == im.c.colour_code))
        .where(st.c.internet_active == True)  # noqa: E712
        .order_by(st.c.code, im.c.sequence, im.c.image_id)
    )


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SqlCatalogueSource:
    """CatalogueSource over the CI Office database (reference schema in `ci_office.schema`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read_styles(self) -> Iterator[Style]:
        """Every Internet-Active style with its variants, ordered by style code.

        Two queries in one transaction: the styles (a few thousand rows, fetched first so that SQL
        Server, which has one active result set per connection, can then stream the variants), and
        the variants of all of them, ordered by style, colour and size order, merged in step.
        A variant finds its style by `code_key`: under a case-insensitive collation its
        `style_code` may be spelt in another case than the style's own code."""
        construct_variant = _construct_variant
        construct_style = _construct_style
        with translate_db_errors("reading styles", _READ_FAILURE), self._snapshot() as conn:
            style_rows = conn.execute(_style_query()).all()
            position = {row[0]: index for index, row in enumerate(style_rows)}
            by_key: dict[str, int] = {}
            for index, row in enumerate(style_rows):
                by_key.setdefault(code_key(row[0]), index)
            variants: list[list[Variant]] = [[] for _ in style_rows]
            result = conn.execution_options(yield_per=_YIELD_PER).execute(_variant_query())
            index = 0
            for row in result:
                style_code, sku, colour, size, size_order, barcode = row
                at = position.get(style_code)
                if at is None:
                    at = by_key.get(code_key(style_code))
                if at is None:  # a style that became active between the two queries
                    continue
                if at < index:  # both queries sort by style code in the database's collation
                    raise _READ_FAILURE(
                        f"CI Office returned the variants of style {style_code!r} out of style order"
                    )
                while index < at:
                    yield self._style(construct_style, style_rows[index], variants[index])
                    variants[index] = []
                    index += 1
                variants[at].append(
                    construct_variant(
                        sku=sku,
                        colour=colour,
                        size=size,
                        size_order=size_order if size_order is not None else 0,
                        barcode=barcode,
                    )
                )
            while index < len(style_rows):
                yield self._style(construct_style, style_rows[index], variants[index])
                variants[index] = []
                index += 1

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A connection whose reads see one state of the database where the dialect offers it cheaply
        (PostgreSQL: REPEATABLE READ; SQLite: one read transaction in WAL mode), so that a style
        switched between the two queries cannot appear without its variants. SQL Server keeps its
        default READ COMMITTED (SNAPSHOT needs a database option); the next run heals such a race.

        READ COMMITTED SNAPSHOT is recommended, not assumed (`kudos-sync check` reports it): with
        it, reads see the last committed rows and neither wait for nor block a till. Without it, a
        read waits for a till's open write on a row it reaches, up to the lock timeout, then the push
        stops with a TransientError and the next run retries; its own shared locks last only as
        long as each row is read, and the push consumes the rows without calling Magento between."""
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    @staticmethod
    def _style(construct: Any, row: Any, variants: list[Variant]) -> Style:
        code, description, brand, stock_group, category, long_description, retail, sale, s_from, s_to = row
        style: Style = construct(
            code=code,
            description=description,
            brand=brand,
            stock_group=stock_group,
            category_path=category,
            long_description=long_description,
            retail_price=retail,
            sale_price=sale,
            sale_from=s_from,
            sale_to=s_to,
            variants=tuple(variants),
        )
        return style

    def read_stock(self, branches: Sequence[str]) -> Iterator[StockOnHand]:
        """Stock on hand per SKU of Internet-Active styles at these branches, by SKU and branch,
        with the SKU as `skus` spells it and the branch as `branches` was given. Negative quantities
        are passed on as they are."""
        wanted = sorted(set(branches))
        if not wanted:
            return
        # A stock row may spell its branch in another case than the caller (case-insensitive
        # collation): hand the caller's spelling back, so its own lookups by branch find it.
        asked = {code_key(branch): branch for branch in wanted}
        construct = _construct_stock
        with translate_db_errors("reading stock on hand", _READ_FAILURE), self._engine.connect() as conn:
            streaming = conn.execution_options(yield_per=_YIELD_PER)
            # More branches than one IN list should hold is unheard of; chunk anyway, in SKU order
            # per chunk (callers key by SKU and branch, not by position).
            for start in range(0, len(wanted), _BRANCH_CHUNK):
                for sku, branch, quantity in streaming.execute(
                    _stock_query(wanted[start : start + _BRANCH_CHUNK])
                ):
                    yield construct(
                        sku=sku,
                        branch=asked.get(code_key(branch), branch),
                        quantity=quantity if isinstance(quantity, Decimal) else Decimal(str(quantity)),
                    )

    def read_image_meta(self) -> Iterator[ImageMeta]:
        """Image metadata (no bytes) of Internet-Active styles, ordered by style and sequence.
        `colour` is the colour's description, as on the variants."""
        construct = _construct_image
        with translate_db_errors("reading image metadata", _READ_FAILURE), self._engine.connect() as conn:
            result = conn.execution_options(yield_per=_YIELD_PER).execute(_image_meta_query())
            for image_id, style_code, sequence, colour, byte_length, updated_at in result:
                yield construct(
                    image_id=image_id,
                    style_code=style_code,
                    sequence=sequence,
                    colour=colour,
                    byte_length=byte_length,
                    updated_at=_aware(updated_at),
                )

    def read_image(self, image_id: int, limit: int = MAX_IMAGE_BYTES) -> bytes:
        """The bytes of one image; RecordError when it is gone or larger than `limit` (the size is
        in the message, which is the reason the image is parked with). The database sends the bytes
        only when CI Office's recorded length is within the limit."""
        im = s.product_images
        within = case((im.c.byte_length <= limit, im.c.data), else_=None)
        query = select(im.c.byte_length, within).where(im.c.image_id == image_id)
        with translate_db_errors(f"reading image {image_id}", _READ_FAILURE), self._engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise RecordError(
                f"CI Office image {image_id} not found", record=f"image {image_id}", field="image_id"
            )
        recorded, data = row
        size = len(data) if data is not None else recorded
        if data is None or size > limit:
            raise RecordError(
                f"CI Office image {image_id} is {size} bytes, over the {limit}-byte limit",
                record=f"image {image_id}",
                field="data",
            )
        return bytes(data)
