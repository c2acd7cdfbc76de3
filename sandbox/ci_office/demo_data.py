"""A believable, deterministic CI Office for an apparel retailer, and the edits a retailer makes.

`generate(engine, skus, seed)` fills the reference schema (`kudos_sync.ci_office.schema`) with
branches (WEB, AKL, WLG), tender types, brands and stock groups, styles in internet categories such
as `Womens/Dresses`, colours and ordered size runs, SKUs with EAN-13 barcodes, stock on hand per
branch, small real images made with Pillow, and customers. The same seed gives the same rows.

The mutators (`change_price`, `put_on_sale`, `set_stock`, `add_variant`...) change CI Office the way
a retailer would in the back office, so demos and tests can watch the sync follow; the `pick_*`
helpers choose records deterministically.
"""

import io
import random
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from kudos_sync.ci_office import schema as s
from PIL import Image, ImageDraw
from sqlalchemy import Engine, Table, delete, func, insert, select, update

WEB_BRANCH = "WEB"
BRANCHES: tuple[tuple[str, str, bool], ...] = (
    (WEB_BRANCH, "Web Store", True),
    ("AKL", "Auckland Queen Street", False),
    ("WLG", "Wellington Lambton Quay", False),
)
TENDER_TYPES: tuple[tuple[str, str], ...] = (
    ("CASH", "Cash"),
    ("EFTPOS", "EFTPOS"),
    ("VISA", "Visa"),
    ("MC", "Mastercard"),
    ("AMEX", "American Express"),
    ("BANK", "Bank Transfer"),
    ("PAYPAL", "PayPal"),
    ("AFTERPAY", "Afterpay"),
    ("VOUCHER", "Gift Voucher"),
    ("ONACC", "On Account"),
)
CASH_SALE_CUSTOMER = "CASH"

COLOURS: tuple[tuple[str, str, tuple[int, int, int]], ...] = (
    ("BLK", "Black", (25, 25, 25)),
    ("WHT", "White", (250, 250, 250)),
    ("NVY", "Navy", (24, 38, 82)),
    ("OAT", "Oatmeal", (222, 208, 182)),
    ("SAG", "Sage", (156, 175, 136)),
    ("RUS", "Rust", (183, 65, 14)),
    ("CHR", "Charcoal", (54, 69, 79)),
    ("DEN", "Denim", (21, 96, 189)),
    ("SKY", "Sky Blue", (135, 206, 235)),
    ("BLS", "Blush", (222, 93, 131)),
    ("RED", "Red", (200, 30, 45)),
    ("OLV", "Olive", (107, 112, 45)),
    ("CAM", "Camel", (193, 154, 107)),
    ("GRM", "Grey Marle", (160, 160, 165)),
    ("MUS", "Mustard", (225, 173, 1)),
    ("FOR", "Forest", (34, 85, 51)),
    ("STR", "Navy Stripe", (40, 60, 110)),
    ("IVY", "Ivory", (255, 250, 235)),
)
_COLOUR_RGB = {code: rgb for code, _, rgb in COLOURS}

# Size runs: (code, description, size order). Codes are unique across runs.
ALPHA = (
    ("XS", "XS", 10),
    ("S", "S", 20),
    ("M", "M", 30),
    ("L", "L", 40),
    ("XL", "XL", 50),
    ("XXL", "XXL", 60),
)
WOMENS = tuple((str(n), str(n), n) for n in range(6, 18, 2))  # 6..16
WAIST = tuple((f"W{n}", str(n), n) for n in range(28, 40, 2))  # 28..38
KIDS = tuple((f"K{n}", f"{n}Y", n) for n in range(2, 16, 2))  # 2..14
SIZE_RUNS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "alpha": ALPHA,
    "womens": WOMENS,
    "waist": WAIST,
    "kids": KIDS,
    "one": (),
}


@dataclass(frozen=True)
class _Category:
    path: str
    prefix: str  # style code prefix
    stock_group: str
    garments: tuple[str, ...]
    size_run: str
    price: tuple[int, int]  # whole dollars, inclusive range
    brands: tuple[str, ...]
    weight: int


CATEGORIES: tuple[_Category, ...] = (
    _Category(
        "Womens/Dresses",
        "WD",
        "DRESSES",
        ("Linen Midi Dress", "Wrap Dress", "Slip Dress", "Shirt Dress", "Tiered Maxi Dress", "Knit Dress"),
        "womens",
        (89, 249),
        ("Harbour & Co", "Southern Loom", "Tidewater"),
        9,
    ),
    _Category(
        "Womens/Tops",
        "WT",
        "TOPS",
        ("Crew Tee", "V-Neck Tee", "Silk Cami", "Linen Shirt", "Breton Top"),
        "alpha",
        (39, 129),
        ("Harbour & Co", "Southern Loom", "Tidewater"),
        9,
    ),
    _Category(
        "Womens/Knitwear",
        "WK",
        "KNITWEAR",
        ("Merino Crew Jumper", "Cable Cardigan", "Alpaca Blend Sweater"),
        "alpha",
        (119, 259),
        ("Southern Loom", "Tidewater"),
        5,
    ),
    _Category(
        "Womens/Pants",
        "WP",
        "PANTS",
        ("Wide Leg Pant", "Straight Jean", "Linen Pant"),
        "womens",
        (99, 179),
        ("Harbour & Co", "Tidewater"),
        5,
    ),
    _Category(
        "Womens/Jackets",
        "WJ",
        "OUTERWEAR",
        ("Wool Coat", "Trench Coat", "Puffer Jacket"),
        "womens",
        (199, 449),
        ("Southern Loom", "Tidewater"),
        3,
    ),
    _Category(
        "Mens/Shirts",
        "MS",
        "SHIRTS",
        ("Oxford Shirt", "Linen Shirt", "Flannel Shirt", "Poplin Shirt"),
        "alpha",
        (89, 149),
        ("Harbour & Co", "Ironbark", "Southern Loom"),
        7,
    ),
    _Category(
        "Mens/Tees",
        "MT",
        "TEES",
        ("Crew Tee", "Pocket Tee", "Henley Tee", "Long Sleeve Tee"),
        "alpha",
        (35, 69),
        ("Harbour & Co", "Ironbark"),
        8,
    ),
    _Category(
        "Mens/Knitwear",
        "MK",
        "KNITWEAR",
        ("Merino Crew Jumper", "Quarter Zip Knit"),
        "alpha",
        (129, 229),
        ("Ironbark", "Southern Loom"),
        4,
    ),
    _Category(
        "Mens/Pants",
        "MP",
        "PANTS",
        ("Chino", "Slim Jean", "Cargo Pant"),
        "waist",
        (99, 169),
        ("Ironbark", "Harbour & Co"),
        5,
    ),
    _Category(
        "Mens/Jackets",
        "MJ",
        "OUTERWEAR",
        ("Puffer Jacket", "Wool Overshirt", "Rain Shell"),
        "alpha",
        (199, 399),
        ("Ironbark",),
        3,
    ),
    _Category(
        "Kids/Tees",
        "KT",
        "KIDS",
        ("Crew Tee", "Graphic Tee", "Stripe Tee"),
        "kids",
        (19, 35),
        ("Little Fern",),
        5,
    ),
    _Category(
        "Kids/Dresses", "KD", "KIDS", ("Twirl Dress", "Pinafore Dress"), "kids", (39, 69), ("Little Fern",), 3
    ),
    _Category(
        "Kids/Pants", "KP", "KIDS", ("Track Pant", "Denim Short"), "kids", (29, 49), ("Little Fern",), 3
    ),
    _Category(
        "Accessories/Bags",
        "AB",
        "ACCESSORIES",
        ("Canvas Tote", "Leather Crossbody Bag", "Weekender Bag"),
        "one",
        (49, 289),
        ("Carry Co", "Harbour & Co"),
        4,
    ),
    _Category(
        "Accessories/Hats",
        "AH",
        "ACCESSORIES",
        ("Bucket Hat", "Wool Beanie", "Cotton Cap"),
        "one",
        (29, 59),
        ("Carry Co", "Ironbark"),
        3,
    ),
    _Category(
        "Accessories/Scarves",
        "AS",
        "ACCESSORIES",
        ("Merino Scarf", "Silk Scarf"),
        "one",
        (49, 129),
        ("Southern Loom",),
        2,
    ),
    _Category("Accessories/Belts", "AL", "ACCESSORIES", ("Leather Belt",), "one", (59, 99), ("Carry Co",), 2),
)

_ADJECTIVES = ("Organic", "Relaxed", "Classic", "Essential", "Recycled", "Everyday")
_FABRICS = ("organic cotton", "European linen", "New Zealand merino", "recycled polyester", "cotton twill")
_FITS = ("Relaxed fit.", "True to size.", "Cut for an easy, oversized fit.", "Fitted through the body.")
_FIRST_NAMES = (
    "Aroha", "Liam", "Olivia", "Noah", "Charlotte", "Jack", "Isla", "Oliver", "Amelia", "Nikau",
    "Mia", "Leo", "Harper", "Mason", "Ella", "Hunter", "Sophie", "Tama", "Grace", "William",
)  # fmt: skip
_LAST_NAMES = (
    "Ngata", "Smith", "Williams", "Brown", "Wilson", "Taylor", "Anderson", "Thompson", "Walker",
    "Te Whare", "Harris", "Martin", "Clarke", "Patel", "Singh", "Campbell", "Young", "King",
)  # fmt: skip
_CITIES = (
    ("Auckland", "Auckland", "1010"),
    ("Wellington", "Wellington", "6011"),
    ("Christchurch", "Canterbury", "8011"),
    ("Hamilton", "Waikato", "3204"),
    ("Tauranga", "Bay of Plenty", "3110"),
    ("Dunedin", "Otago", "9016"),
)
_STREETS = (
    "Queen Street",
    "Cuba Street",
    "Riccarton Road",
    "Victoria Street",
    "Devonport Road",
    "George Street",
)

BASE_TIME = datetime(2026, 10, 1, 9, 0)  # naive UTC, as CI Office stores it
BASE_DATE = date(2026, 11, 1)
_CHUNK = 5000


@dataclass(frozen=True)
class DemoCatalogueSummary:
    """What `generate` wrote."""

    seed: int
    styles: int
    internet_active_styles: int
    skus: int
    stock_rows: int
    images: int
    customers: int
    branches: tuple[str, ...]
    web_branch: str
    tender_types: tuple[str, ...]
    cash_sale_customer: str


# ---------------------------------------------------------------- small helpers


def ean13(first12: str) -> str:
    """The EAN-13 barcode for 12 digits: the digits and their check digit."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("EAN-13 needs 12 digits before the check digit")
    total = sum(map(int, first12[0::2])) + 3 * sum(map(int, first12[1::2]))
    return first12 + str((10 - total % 10) % 10)


@lru_cache(maxsize=4096)
def _draw_image(rgb: tuple[int, int, int], variant: int, png: bool) -> bytes:
    image = Image.new("RGB", (16, 20), (245, 243, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle((3 + variant % 3, 3, 12 - variant % 2, 18), fill=rgb)
    draw.point(
        [(variant % 16, (variant // 16) % 20), ((variant // 7) % 16, (variant // 3) % 20)],
        fill=((variant * 37) % 256, (variant * 11) % 256, 90),
    )
    buffer = io.BytesIO()
    if png:
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=60)
    return buffer.getvalue()


def _stamp(data: bytes, label: str, png: bool) -> bytes:
    """The same picture with `label` embedded as metadata (a JPEG comment or a PNG tEXt chunk):
    still a valid image, with bytes (and so a content hash) of its own."""
    text = label.encode("ascii", "replace")
    if png:
        body = b"Comment\x00" + text
        chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
        return data[:33] + chunk + data[33:]  # after the signature and the IHDR chunk
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]  # after SOI


def make_image(
    rgb: tuple[int, int, int], variant: int, *, png: bool = False, label: str | None = None
) -> tuple[bytes, str]:
    """A tiny real product image (a garment-ish block on a light background): (bytes, content type).
    `variant` moves a few pixels; `label` (e.g. the style code and sequence) is embedded so that
    every style's image has distinct bytes without drawing and encoding thousands of pictures."""
    data = _draw_image(rgb, variant % 512, png)
    if label:
        data = _stamp(data, label, png)
    return data, "image/png" if png else "image/jpeg"


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) + rng.choice((Decimal("0.90"), Decimal("0.00"), Decimal("0.99")))


def _insert_chunks(conn: Any, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(table), list(rows[start : start + _CHUNK]))


def _now(now: datetime | None) -> datetime:
    value = now or datetime.now(UTC)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


# ---------------------------------------------------------------- generate


def generate(engine: Engine, skus: int, seed: int = 7, *, anomalies: bool = False) -> DemoCatalogueSummary:
    """Fill an empty CI Office (creating the schema if needed) with exactly `skus` SKUs.

    With `anomalies`, a few records are as messy as real back offices: a style without a retail
    price, a handful of negative stock quantities (the push must park or clamp these, not crash)."""
    if not 1 <= skus <= 200_000:
        raise ValueError("skus must be between 1 and 200,000")
    rng = random.Random(seed)
    s.create_schema(engine)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(s.branches)).scalar_one():
            raise ValueError("this CI Office already has data: generate fills an empty one")

    size_rows = [
        {"code": code, "description": desc, "size_order": order}
        for run in SIZE_RUNS.values()
        for code, desc, order in run
    ]
    colour_rows = [{"code": code, "description": desc} for code, desc, _ in COLOURS]
    weights = [c.weight for c in CATEGORIES]

    style_rows: list[dict[str, Any]] = []
    sku_rows: list[dict[str, Any]] = []
    stock_rows: list[dict[str, Any]] = []
    image_rows: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    remaining = skus
    barcode_base = 100_000 + (seed % 1000) * 100_000
    while remaining > 0:
        category = rng.choices(CATEGORIES, weights)[0]
        counters[category.prefix] = counters.get(category.prefix, 0) + 1
        style_code = f"{category.prefix}{counters[category.prefix]:05d}"
        garment = rng.choice(category.garments)
        description = f"{rng.choice(_ADJECTIVES)} {garment}" if rng.random() < 0.3 else garment
        price = _price(rng, *category.price)
        retail: Decimal | None = price
        sale_price: Decimal | None = None
        sale_from: date | None = None
        sale_to: date | None = None
        if rng.random() < 0.12:
            sale_price = (price * Decimal("0.7")).quantize(Decimal("1")) - Decimal("0.10")
            if rng.random() < 0.5:
                sale_from = BASE_DATE - timedelta(days=rng.randint(0, 20))
                sale_to = BASE_DATE + timedelta(days=rng.randint(5, 40))
        if anomalies and len(style_rows) % 97 == 1:
            retail = None  # priced at the till, never in the back office
        fabric, fit = rng.choice(_FABRICS), rng.choice(_FITS)
        long_description = None
        if rng.random() < 0.7:
            long_description = (
                f"The {garment.lower()} in {fabric}. {fit}"
                if category.size_run != "one"
                else f"The {garment.lower()}: everyday {category.path.split('/')[1].lower()}, made to last."
            )
        style_rows.append(
            {
                "code": style_code,
                "description": description,
                "brand": rng.choice(category.brands),
                "stock_group": category.stock_group,
                "internet_active": rng.random() < 0.9,
                "internet_category": category.path,
                "internet_long_description": long_description,
                "retail_price": retail,
                "sale_price": sale_price,
                "sale_from": sale_from,
                "sale_to": sale_to,
                "updated_at": BASE_TIME + timedelta(minutes=rng.randint(0, 40_000)),
            }
        )
        run = SIZE_RUNS[category.size_run]
        combos: list[tuple[str | None, str | None]]
        if run:
            colours = sorted(rng.sample(range(len(COLOURS)), rng.randint(1, 4)))
            low = rng.randint(0, 1) if len(run) > 4 else 0
            high = len(run) - (rng.randint(0, 1) if len(run) > 4 else 0)
            combos = [(COLOURS[c][0], run[i][0]) for c in colours for i in range(low, high)]
        else:
            colours = [rng.randrange(len(COLOURS))]
            combos = [(None, None)]
        combos = combos[:remaining]
        for colour_code, size_code in combos:
            sku = style_code if colour_code is None else f"{style_code}-{colour_code}-{size_code}"
            barcode_base += 1
            sku_rows.append(
                {
                    "sku": sku,
                    "style_code": style_code,
                    "colour_code": colour_code,
                    "size_code": size_code,
                    "barcode": ean13(f"9421{barcode_base:08d}") if rng.random() < 0.97 else None,
                }
            )
            for branch, presence, most in ((WEB_BRANCH, 0.85, 12), ("AKL", 0.8, 15), ("WLG", 0.65, 8)):
                if rng.random() < presence:
                    quantity = Decimal(int(rng.random() * (most + 1)))  # randint, at a fifth of the cost
                    if anomalies and len(sku_rows) % 211 == 5:
                        quantity = Decimal(-rng.randint(1, 3))  # sold before it was receipted
                    stock_rows.append({"sku": sku, "branch_code": branch, "quantity": quantity})
        remaining -= len(combos)
        # 1-3 images; after the first, images may show a particular colour.
        png = category.size_run == "one"
        for sequence in range(1, rng.randint(1, 3) + 1):
            colour_index = colours[(sequence - 1) % len(colours)]
            colour_code = COLOURS[colour_index][0] if run and sequence > 1 else None
            data, content_type = make_image(
                COLOURS[colour_index][2],
                len(style_rows) * 3 + sequence,
                png=png,
                label=f"{style_code}/{sequence}",
            )
            image_rows.append(
                {
                    "style_code": style_code,
                    "sequence": sequence,
                    "colour_code": colour_code,
                    "content_type": content_type,
                    "data": data,
                    "byte_length": len(data),
                    "updated_at": BASE_TIME + timedelta(minutes=rng.randint(0, 40_000)),
                }
            )

    customer_rows = _customers(rng, max(5, min(500, skus // 20)))
    with engine.begin() as conn:
        conn.execute(insert(s.branches), [{"code": c, "name": n, "is_web": w} for c, n, w in BRANCHES])
        conn.execute(insert(s.tender_types), [{"code": c, "description": d} for c, d in TENDER_TYPES])
        conn.execute(insert(s.colours), colour_rows)
        conn.execute(insert(s.sizes), size_rows)
        _insert_chunks(conn, s.styles, style_rows)
        _insert_chunks(conn, s.skus, sku_rows)
        _insert_chunks(conn, s.stock_on_hand, stock_rows)
        for start in range(0, len(image_rows), 500):  # blobs: smaller batches
            conn.execute(insert(s.product_images), image_rows[start : start + 500])
        _insert_chunks(conn, s.customers, customer_rows)
    return DemoCatalogueSummary(
        seed=seed,
        styles=len(style_rows),
        internet_active_styles=sum(1 for row in style_rows if row["internet_active"]),
        skus=len(sku_rows),
        stock_rows=len(stock_rows),
        images=len(image_rows),
        customers=len(customer_rows),
        branches=tuple(code for code, _, _ in BRANCHES),
        web_branch=WEB_BRANCH,
        tender_types=tuple(code for code, _ in TENDER_TYPES),
        cash_sale_customer=CASH_SALE_CUSTOMER,
    )


def _customers(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "code": CASH_SALE_CUSTOMER,
            "first_name": "Cash",
            "last_name": "Sale",
            "email": None,
            "external_link": None,
            "country": "NZ",
            "created_at": BASE_TIME - timedelta(days=2000),
        }
    ]
    for n in range(1, count):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        city, region, postcode = rng.choice(_CITIES)
        # People type their e-mail in any case; the ledger matches it case-insensitively.
        email = f"{first}.{last.replace(' ', '')}{n}@example.co.nz"
        rows.append(
            {
                "code": f"C{n:05d}",
                "first_name": first,
                "last_name": last,
                "email": email if rng.random() < 0.5 else email.lower(),
                "phone": f"021 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "address1": f"{rng.randint(1, 300)} {rng.choice(_STREETS)}",
                "city": city,
                "region": region,
                "postcode": postcode,
                "country": "NZ",
                "external_link": f"magento:{1000 + n}" if rng.random() < 0.4 else None,
                "created_at": BASE_TIME - timedelta(days=rng.randint(1, 1500)),
            }
        )
    return rows


# ---------------------------------------------------------------- mutators


def _touch_style(engine: Engine, style_code: str, values: dict[str, Any], now: datetime | None) -> None:
    st = s.styles
    with engine.begin() as conn:
        changed = conn.execute(
            update(st).where(st.c.code == style_code).values(**values, updated_at=_now(now))
        ).rowcount
    if changed != 1:
        raise KeyError(f"style {style_code!r} not found")


def change_price(
    engine: Engine, style_code: str, price: Decimal | str | None, *, now: datetime | None = None
) -> None:
    """Set a style's retail price (None: no price, as a careless back office allows)."""
    _touch_style(engine, style_code, {"retail_price": None if price is None else Decimal(price)}, now)


def put_on_sale(
    engine: Engine,
    style_code: str,
    price: Decimal | str,
    from_: date | None = None,
    to: date | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Give a style a sale price, optionally limited to dates."""
    _touch_style(engine, style_code, {"sale_price": Decimal(price), "sale_from": from_, "sale_to": to}, now)


def end_sale(engine: Engine, style_code: str, *, now: datetime | None = None) -> None:
    """Remove a style's sale price and dates."""
    _touch_style(engine, style_code, {"sale_price": None, "sale_from": None, "sale_to": None}, now)


def move_category(
    engine: Engine, style_code: str, category_path: str | None, *, now: datetime | None = None
) -> None:
    """Move a style to another internet category ("Womens/Dresses"), or none."""
    _touch_style(engine, style_code, {"internet_category": category_path}, now)


def set_internet_active(
    engine: Engine, style_code: str, active: bool, *, now: datetime | None = None
) -> None:
    """Switch a style's Internet Active flag."""
    _touch_style(engine, style_code, {"internet_active": active}, now)


def set_description(
    engine: Engine, style_code: str, description: str, *, now: datetime | None = None
) -> None:
    """Rename a style."""
    _touch_style(engine, style_code, {"description": description}, now)


def set_stock(engine: Engine, sku: str, branch: str, quantity: Decimal | int | str) -> None:
    """Set stock on hand of a SKU at a branch (creating the row when there was none)."""
    soh = s.stock_on_hand
    qty = Decimal(quantity)
    with engine.begin() as conn:
        changed = conn.execute(
            update(soh).where(soh.c.sku == sku, soh.c.branch_code == branch).values(quantity=qty)
        ).rowcount
        if changed == 0:
            conn.execute(insert(soh).values(sku=sku, branch_code=branch, quantity=qty))


def get_stock(engine: Engine, sku: str, branch: str) -> Decimal | None:
    """Stock on hand of a SKU at a branch, None when there is no row."""
    soh = s.stock_on_hand
    with engine.connect() as conn:
        value: Decimal | None = conn.execute(
            select(soh.c.quantity).where(soh.c.sku == sku, soh.c.branch_code == branch)
        ).scalar_one_or_none()
    return value


def replace_image(
    engine: Engine, image_id: int, *, variant: int | None = None, now: datetime | None = None
) -> int:
    """Replace an image's bytes with a new picture (as when a photo is re-shot); returns the new length."""
    im = s.product_images
    with engine.begin() as conn:
        row = conn.execute(select(im.c.data, im.c.content_type).where(im.c.image_id == image_id)).first()
        if row is None:
            raise KeyError(f"image {image_id} not found")
        old, content_type = bytes(row[0]), row[1]
        rng = random.Random(f"{image_id}:{len(old)}:{variant}")
        data = old
        while data == old:
            rgb = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            data, content_type = make_image(
                rgb, rng.randrange(512), png=content_type == "image/png", label=f"image {image_id} {variant}"
            )
        conn.execute(
            update(im)
            .where(im.c.image_id == image_id)
            .values(data=data, content_type=content_type, byte_length=len(data), updated_at=_now(now))
        )
    return len(data)


def add_image(
    engine: Engine, style_code: str, colour_code: str | None = None, *, now: datetime | None = None
) -> int:
    """Add an image at the end of a style's images; returns its image id."""
    im = s.product_images
    rgb = _COLOUR_RGB.get(colour_code or "", (120, 120, 120))
    with engine.begin() as conn:
        last = conn.execute(select(func.max(im.c.sequence)).where(im.c.style_code == style_code)).scalar()
        sequence = (last or 0) + 1
        data, content_type = make_image(
            rgb, sequence * 7919 + len(style_code), label=f"{style_code}/{sequence}"
        )
        result = conn.execute(
            insert(im).values(
                style_code=style_code,
                sequence=sequence,
                colour_code=colour_code,
                content_type=content_type,
                data=data,
                byte_length=len(data),
                updated_at=_now(now),
            )
        )
        key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_variant(
    engine: Engine,
    style_code: str,
    colour_code: str,
    size_code: str,
    *,
    sku: str | None = None,
    barcode: str | None = None,
    stock: dict[str, int] | None = None,
    now: datetime | None = None,
) -> str:
    """Add a colour/size SKU to a style (the colour and size must exist); returns the SKU code."""
    code = sku or f"{style_code}-{colour_code}-{size_code}"
    with engine.begin() as conn:
        conn.execute(
            insert(s.skus).values(
                sku=code, style_code=style_code, colour_code=colour_code, size_code=size_code, barcode=barcode
            )
        )
        if stock:
            conn.execute(
                insert(s.stock_on_hand),
                [{"sku": code, "branch_code": b, "quantity": Decimal(q)} for b, q in sorted(stock.items())],
            )
        conn.execute(update(s.styles).where(s.styles.c.code == style_code).values(updated_at=_now(now)))
    return code


def remove_variant(engine: Engine, sku: str, *, now: datetime | None = None) -> None:
    """Delete a SKU and its stock (it must not be on any invoice)."""
    with engine.begin() as conn:
        style_code = conn.execute(select(s.skus.c.style_code).where(s.skus.c.sku == sku)).scalar_one_or_none()
        if style_code is None:
            raise KeyError(f"SKU {sku!r} not found")
        conn.execute(delete(s.stock_on_hand).where(s.stock_on_hand.c.sku == sku))
        conn.execute(delete(s.skus).where(s.skus.c.sku == sku))
        conn.execute(update(s.styles).where(s.styles.c.code == style_code).values(updated_at=_now(now)))


# ---------------------------------------------------------------- deterministic picks


def _pick(values: Iterable[Any], seed: int, what: str) -> Any:
    ordered = sorted(values)
    if not ordered:
        raise LookupError(f"no {what} matches")
    return random.Random(seed).choice(ordered)


def pick_style(
    engine: Engine,
    seed: int = 0,
    *,
    internet_active: bool | None = True,
    with_variants: bool | None = None,
    on_sale: bool | None = None,
    with_images: bool | None = None,
) -> str:
    """A style code chosen deterministically among those matching.
    `with_variants`: True for styles whose SKUs have a colour or size, False for one-size styles."""
    st, sk, im = s.styles, s.skus, s.product_images
    query = select(st.c.code)
    if internet_active is not None:
        query = query.where(st.c.internet_active == internet_active)
    if on_sale is not None:
        query = query.where(st.c.sale_price.is_not(None) if on_sale else st.c.sale_price.is_(None))
    if with_variants is not None:
        varied = select(sk.c.style_code).where(sk.c.colour_code.is_not(None) | sk.c.size_code.is_not(None))
        query = query.where(st.c.code.in_(varied) if with_variants else st.c.code.not_in(varied))
    if with_images is not None:
        pictured = select(im.c.style_code)
        query = query.where(st.c.code.in_(pictured) if with_images else st.c.code.not_in(pictured))
    with engine.connect() as conn:
        codes = list(conn.scalars(query))
    return str(_pick(codes, seed, "style"))


def pick_styles(
    engine: Engine, count: int, seed: int = 0, *, internet_active: bool | None = True
) -> list[str]:
    """`count` distinct style codes chosen deterministically."""
    st = s.styles
    query = select(st.c.code)
    if internet_active is not None:
        query = query.where(st.c.internet_active == internet_active)
    with engine.connect() as conn:
        codes = sorted(conn.scalars(query))
    return sorted(random.Random(seed).sample(codes, min(count, len(codes))))


def pick_sku(
    engine: Engine, seed: int = 0, *, style_code: str | None = None, internet_active: bool | None = True
) -> str:
    """A SKU chosen deterministically (of one style, or of any matching style)."""
    st, sk = s.styles, s.skus
    query = select(sk.c.sku).join(st, st.c.code == sk.c.style_code)
    if style_code is not None:
        query = query.where(sk.c.style_code == style_code)
    if internet_active is not None:
        query = query.where(st.c.internet_active == internet_active)
    with engine.connect() as conn:
        return str(_pick(conn.scalars(query), seed, "SKU"))


def pick_image(engine: Engine, seed: int = 0, *, style_code: str | None = None) -> int:
    """An image id chosen deterministically (of one style, or of any Internet-Active style)."""
    st, im = s.styles, s.product_images
    query = select(im.c.image_id).join(st, st.c.code == im.c.style_code)
    if style_code:
        query = query.where(im.c.style_code == style_code)
    else:
        query = query.where(st.c.internet_active == True)  # noqa: E712 (SQL expression)
    with engine.connect() as conn:
        return int(_pick(conn.scalars(query), seed, "image"))


def pick_customer(engine: Engine, seed: int = 0, *, linked: bool | None = None) -> str:
    """A customer code (not the cash-sale customer) chosen deterministically; `linked` selects those
    with (True) or without (False) a Magento link."""
    c = s.customers
    query = select(c.c.code).where(c.c.code != CASH_SALE_CUSTOMER, c.c.email.is_not(None))
    if linked is not None:
        query = query.where(c.c.external_link.is_not(None) if linked else c.c.external_link.is_(None))
    with engine.connect() as conn:
        return str(_pick(conn.scalars(query), seed, "customer"))


def pick_new_variant(engine: Engine, style_code: str, seed: int = 0) -> tuple[str, str]:
    """A (colour, size) the style does not have yet, using one of its sizes and a colour it lacks."""
    sk = s.skus
    with engine.connect() as conn:
        rows = conn.execute(
            select(sk.c.colour_code, sk.c.size_code).where(sk.c.style_code == style_code)
        ).all()
    sizes_used = sorted({size for _, size in rows if size is not None})
    colours_used = {colour for colour, _ in rows}
    if not sizes_used:
        raise LookupError(f"style {style_code!r} has no sizes")
    free = [code for code, _, _ in COLOURS if code not in colours_used]
    rng = random.Random(seed)
    return rng.choice(free), rng.choice(sizes_used)
