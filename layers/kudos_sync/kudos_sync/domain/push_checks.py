"""The push mapping's checks: what makes a style, a variant or a sale unfit to send, as Problems that
name the record and the field. A problem holds what it covers (left as it is in Magento)."""

from datetime import date

from kudos_sync.domain.catalogue import Style
from kudos_sync.domain.codes import code_key
from kudos_sync.domain.desired import MAX_NAME_LENGTH, DesiredSpecial, Problem
from kudos_sync.domain.push_rules import is_valid_sku, normalise_category_path


def is_configurable(style: Style) -> bool:
    """A style with colours or sizes (or several SKUs) is a configurable parent with children."""
    return len(style.variants) > 1 or any(
        (v.colour and v.colour.strip()) or (v.size and v.size.strip()) for v in style.variants
    )


def check_style(style: Style) -> list[Problem]:
    """Style-level problems: any of these holds the whole style."""
    problems: list[Problem] = []
    code = style.code

    def add(field_name: str, reason: str) -> None:
        problems.append(Problem("products", code, field_name, f"style {code}: {reason}"))

    if not is_valid_sku(code):
        add("code", f"style code {code!r} has characters or a length Magento rejects in a SKU")
    description = style.description.strip()
    if not description:
        add("description", "description is empty")
    elif len(description) > MAX_NAME_LENGTH:
        add("description", f"description is {len(description)} characters, Magento allows {MAX_NAME_LENGTH}")
    if style.retail_price is None:
        if style.sale_price is not None:
            add("retail_price", f"sale price {style.sale_price} without a retail price")
        else:
            add("retail_price", "retail price is missing")
    elif style.retail_price < 0:
        add("retail_price", f"retail price {style.retail_price} is negative")
    if style.category_path is None or not style.category_path.strip():
        add("category_path", "internet category is missing")
    elif normalise_category_path(style.category_path) is None:
        add("category_path", f"internet category {style.category_path!r} is empty after trimming")
    if not style.variants:
        add("variants", "style has no SKUs")
    return problems


def check_special(style: Style, today: date) -> tuple[DesiredSpecial | None, Problem | None]:
    """The style's special price, None when there is no sale or it has ended."""
    if style.sale_price is None:
        return None, None
    code = style.code
    if style.sale_price < 0:
        return None, Problem(
            "special_prices", code, "sale_price", f"style {code}: sale price {style.sale_price} is negative"
        )
    if style.sale_from and style.sale_to and style.sale_to < style.sale_from:
        return None, Problem(
            "special_prices",
            code,
            "sale_to",
            f"style {code}: sale ends {style.sale_to.isoformat()} before it starts "
            f"{style.sale_from.isoformat()}",
        )
    if style.sale_to is not None and style.sale_to < today:
        return None, None  # the sale has ended: any special price sent before is deleted
    return DesiredSpecial(style.sale_price, style.sale_from, style.sale_to), None


def problem(key: str, field_name: str, reason: str) -> Problem:
    return Problem("products", key, field_name, reason)


def variant_problems(
    style_code: str,
    sku: str,
    barcode: str | None,
    duplicate_skus: dict[str, str],
    duplicate_barcodes: dict[str, str],
) -> list[Problem]:
    bad: list[Problem] = []
    if not is_valid_sku(sku):
        bad.append(
            problem(
                sku, "sku", f"sku {sku!r} of style {style_code} has characters or a length Magento rejects"
            )
        )
    other = duplicate_skus.get(sku)
    if other == sku:
        bad.append(problem(sku, "sku", f"sku {sku} appears in more than one style (style {style_code})"))
    elif other is not None:
        bad.append(
            problem(
                sku,
                "sku",
                f"sku {sku!r} (style {style_code}) and sku {other!r} differ only in case or trailing "
                "spaces: CI Office and Magento hold them as one SKU",
            )
        )
    if sku in duplicate_barcodes:
        bad.append(
            problem(sku, "barcode", f"sku {sku}: barcode {duplicate_barcodes[sku]} is used by other SKUs")
        )
    return bad


def find_duplicates(style_list: list[Style]) -> tuple[dict[str, str], dict[str, str]]:
    """(sku -> another sku equal to it under `code_key`, or itself when repeated exactly; sku -> barcode
    for barcodes on more than one SKU): set-based, across styles. Every occurrence is parked, because
    nothing says which one is right. Lists are kept only for values seen more than once.
    SKUs are compared by `code_key`: `TEE1` and `tee1 ` are one SKU to SQL Server and to Magento."""
    seen_skus: dict[str, str] = {}  # code_key -> the first sku with it
    duplicate_skus: dict[str, str] = {}
    barcode_first: dict[str, str] = {}  # barcode -> its first sku, in the order first seen
    barcode_shared: dict[str, list[str]] = {}  # barcode -> every sku, for barcodes seen more than once
    for style in style_list:
        # The parent's sku (the style code) must not be a variant's.
        parent = (style.code,) if is_configurable(style) else ()
        for sku in (*parent, *(variant.sku for variant in style.variants)):
            key = code_key(sku)
            first = seen_skus.get(key)
            if first is None:
                seen_skus[key] = sku
            else:
                duplicate_skus[sku] = first
                duplicate_skus.setdefault(first, sku)
        for variant in style.variants:
            sku = variant.sku
            if variant.barcode:
                barcode = variant.barcode.strip()
                if barcode not in barcode_first:
                    barcode_first[barcode] = sku
                elif barcode in barcode_shared:
                    barcode_shared[barcode].append(sku)
                else:
                    barcode_shared[barcode] = [barcode_first[barcode], sku]
    duplicate_barcodes = {
        sku: barcode
        for barcode in barcode_first
        if barcode in barcode_shared
        for sku in barcode_shared[barcode]
    }
    return duplicate_skus, duplicate_barcodes
