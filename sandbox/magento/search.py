"""searchCriteria and ``fields`` exactly as Magento reads them from a query string.

- PHP bracket syntax (``searchCriteria[filter_groups][0][filters][0][field]=sku``); camelCase keys
  (``filterGroups``, ``conditionType``, ``sortOrders``, ``pageSize``, ``currentPage``) are accepted too.
- Filters in one group are OR'ed; groups are AND'ed. Comparisons follow MySQL: string columns compare
  case-insensitively (utf8 general collation), numeric columns numerically, NULL never matches except
  ``null``; ``in``/``nin`` split the value on commas; ``like`` uses ``%`` and ``_``.
- Sorting: a direction other than ``ASC`` sorts descending (``SortingProcessor``); no direction = DESC.
- Paging: no clamping past the last page (2.4); ``pageSize`` 0 or absent returns everything unless input
  limits set a default of 20.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from .errors import MagentoError, bad_request, required_field
from .values import to_decimal

Row = Mapping[str, Any]

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def parse_php_query(query: str) -> dict[str, Any]:
    """Parse a query string into nested dicts the way PHP's ``parse_str`` does (lists stay dicts)."""
    out: dict[str, Any] = {}
    for raw_key, value in parse_qsl(query, keep_blank_values=True):
        base, sep, rest = raw_key.partition("[")
        keys = [base]
        if sep:
            keys.extend(_BRACKETS.findall("[" + rest))
        node: dict[str, Any] = out
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if key == "":
                key = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child
    return out


def _indexed(value: Any) -> list[Any]:
    """A PHP 'array' (dict with numeric keys, or a list) as a list ordered by index."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):

        def order(key: str) -> tuple[int, int | str]:
            return (0, int(key)) if key.lstrip("-").isdigit() else (1, key)

        return [value[k] for k in sorted(value, key=order)]
    return []


def _pick(node: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in node:
            return node[name]
    return None


@dataclass(frozen=True)
class Filter:
    field: str
    value: str | None
    condition_type: str = "eq"


@dataclass
class SearchCriteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int | None = None

    def echo(self) -> dict[str, Any]:
        """The ``search_criteria`` object echoed in search results."""
        out: dict[str, Any] = {
            "filter_groups": [
                {
                    "filters": [
                        {k: v for k, v in (("field", f.field), ("value", f.value)) if v is not None}
                        | {"condition_type": f.condition_type}
                        for f in group
                    ]
                }
                for group in self.filter_groups
            ]
        }
        if self.sort_orders:
            out["sort_orders"] = [{"field": f, "direction": d} for f, d in self.sort_orders]
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out


@dataclass(frozen=True)
class Limits:
    enabled: bool = False
    max_page_size: int = 300
    default_page_size: int = 20


def _as_int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise bad_request(
            'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
            {"value": str(value), "type": "int"},
        ) from None


def parse_search_criteria(query: Mapping[str, Any], limits: Limits, required: bool = True) -> SearchCriteria:
    """Build SearchCriteria from a parsed query; raise Magento's errors for a missing or invalid one."""
    raw = query.get("searchCriteria")
    if raw is None:
        if required:
            raise required_field("searchCriteria")
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    criteria = SearchCriteria()
    for group in _indexed(_pick(raw, "filter_groups", "filterGroups")):
        if not isinstance(group, dict):
            continue
        filters: list[Filter] = []
        for item in _indexed(group.get("filters")):
            if not isinstance(item, dict):
                continue
            field_name = item.get("field")
            if field_name is None:
                raise required_field("field")
            condition = _pick(item, "condition_type", "conditionType") or "eq"
            value = item.get("value")
            if value is None and condition not in ("null", "notnull"):
                raise required_field("value")
            filters.append(
                Filter(str(field_name), None if value is None else str(value), str(condition).lower())
            )
        criteria.filter_groups.append(filters)
    for order in _indexed(_pick(raw, "sort_orders", "sortOrders")):
        if not isinstance(order, dict) or order.get("field") is None:
            continue
        direction = str(order.get("direction") or "DESC").upper()
        if direction not in ("ASC", "DESC"):
            raise bad_request(
                'Sort order "%1" is not supported. Verify and try again.', [str(order.get("direction"))]
            )
        criteria.sort_orders.append((str(order["field"]), direction))
    page_size = _pick(raw, "page_size", "pageSize")
    current_page = _pick(raw, "current_page", "currentPage")
    if page_size is not None and page_size != "":
        criteria.page_size = _as_int(page_size, "pageSize")
    if current_page is not None and current_page != "":
        criteria.current_page = _as_int(current_page, "currentPage")
    if limits.enabled:
        if criteria.page_size is None:
            criteria.page_size = limits.default_page_size
        elif criteria.page_size > limits.max_page_size:
            raise bad_request("Maximum SearchCriteria pageSize is %max", {"max": limits.max_page_size})
    return criteria


# ---------------------------------------------------------------- filtering


class UnknownFieldError(Exception):
    """A filter or sort on a field the collection does not have."""


def _norm_text(value: Any) -> str:
    if isinstance(value, Decimal):
        value = format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    elif isinstance(value, bool):
        value = int(value)
    return str(value).casefold()


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def _numeric_literal(expected: str) -> Decimal:
    value = to_decimal(expected)
    return value if value is not None else Decimal(0)  # MySQL casts a non-numeric literal to 0


_OUTCOMES: dict[str, Callable[[int], bool]] = {
    "eq": lambda c: c == 0,
    "neq": lambda c: c != 0,
    "gt": lambda c: c > 0,
    "gteq": lambda c: c >= 0,
    "moreq": lambda c: c >= 0,
    "from": lambda c: c >= 0,
    "lt": lambda c: c < 0,
    "lteq": lambda c: c <= 0,
    "to": lambda c: c <= 0,
}


class _Test:
    """One filter as MySQL applies it to a column value.

    The literal is parsed, an ``in`` list split into a set and a ``like`` pattern compiled once per search,
    not once per row: a search over a large catalogue must not pay that per product.
    """

    __slots__ = ("condition", "literal", "numeric", "options", "outcome", "pattern")

    def __init__(self, flt: Filter, numeric: bool) -> None:
        condition = flt.condition_type
        value = flt.value or ""
        self.condition = condition
        self.numeric = numeric
        self.literal: Any = None
        self.options: frozenset[Any] = frozenset()
        self.pattern: re.Pattern[str] | None = None
        # unknown condition types fall back to equality
        self.outcome = _OUTCOMES.get(condition, _OUTCOMES["eq"])
        if condition in ("in", "nin"):
            options = [v.strip() for v in value.split(",")]
            self.options = frozenset(_numeric_literal(o) if numeric else o.casefold() for o in options)
        elif condition in ("like", "nlike"):
            self.pattern = _like_regex(value)
        elif condition in ("finset", "nfinset") or not numeric:
            self.literal = value.casefold()
        elif condition not in ("null", "notnull"):
            self.literal = _numeric_literal(value)

    def _key(self, actual: Any) -> Any:
        """The column value as compared: a Decimal (None when not numeric) or collated text."""
        return to_decimal(actual) if self.numeric else _norm_text(actual)

    def __call__(self, actual: Any) -> bool:
        condition = self.condition
        if condition == "null":
            return actual is None or actual == []
        if condition == "notnull":
            return actual is not None and actual != []
        if isinstance(actual, list):
            # multi-valued fields (category ids, website ids): match when any value matches
            if condition in ("neq", "nin"):
                return all(self(a) for a in actual)
            return any(self(a) for a in actual)
        if actual is None:
            return False
        if condition in ("in", "nin"):
            key = self._key(actual)
            hit = key is not None and key in self.options
            return hit if condition == "in" else not hit
        if condition in ("like", "nlike"):
            assert self.pattern is not None
            hit = bool(self.pattern.match(_norm_text(actual)))
            return hit if condition == "like" else not hit
        if condition in ("finset", "nfinset"):
            hit = self.literal in [m.strip().casefold() for m in str(actual).split(",")]
            return hit if condition == "finset" else not hit
        key = self._key(actual)
        if key is None:
            return False
        return self.outcome((key > self.literal) - (key < self.literal))


@dataclass(frozen=True)
class Collection:
    """How one entity is searched: the fields it has and which of them are numeric."""

    fields: frozenset[str]
    numeric: frozenset[str]
    default_sort: tuple[str, ...] = ()
    open_fields: bool = False
    """EAV collections (products) may filter on any attribute; unknown ones simply hold NULL."""

    def check(self, name: str) -> None:
        if not self.open_fields and name not in self.fields:
            raise UnknownFieldError(name)


_Groups = list[list[tuple[str, _Test]]]


def _compile(criteria: SearchCriteria, collection: Collection) -> _Groups:
    return [
        [(f.field, _Test(f, f.field in collection.numeric)) for f in group]
        for group in criteria.filter_groups
        if group
    ]


def _matches(row: Row, groups: _Groups) -> bool:
    return all(any(test(row.get(name)) for name, test in group) for group in groups)


def matches(row: Row, criteria: SearchCriteria, collection: Collection) -> bool:
    return _matches(row, _compile(criteria, collection))


def _sort_key(value: Any, numeric: bool) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if numeric:
        d = to_decimal(value)
        return (1, d if d is not None else Decimal(0))
    return (1, _norm_text(value))


def search[T](
    records: Iterable[T],
    row_of: Callable[[T], Row],
    criteria: SearchCriteria,
    collection: Collection,
    on_unknown: Callable[[str], MagentoError],
    *,
    narrow: Callable[[list[Filter]], Iterable[T] | None] | None = None,
    ordered_by: frozenset[str] = frozenset(),
) -> tuple[list[T], int]:
    """Filter, sort and page ``records``; return the page and the total count.

    ``narrow(group)`` may answer, from an index and in the order of ``records``, a superset of the records
    that one filter group can match (None when it cannot); every filter is still applied to them.
    ``ordered_by`` names unique, never-null fields ``records`` already ascend by, so a sort on one of them
    needs no sorting. Both keep a search of a large collection from touching every record.
    """
    for group in criteria.filter_groups:
        for flt in group:
            try:
                collection.check(flt.field)
            except UnknownFieldError:
                raise on_unknown(flt.field) from None
    for name, _ in criteria.sort_orders:
        try:
            collection.check(name)
        except UnknownFieldError:
            raise on_unknown(name) from None
    groups = _compile(criteria, collection)
    if narrow is not None:
        for group in criteria.filter_groups:
            candidates = narrow(group) if group else None
            if candidates is not None:
                records = candidates
                break
    orders = criteria.sort_orders or [(f, "ASC") for f in collection.default_sort]
    if orders and orders[0][0] in ordered_by:
        # the first order is on a unique field the records already follow: later orders cannot apply
        found = [r for r in records if _matches(row_of(r), groups)] if groups else list(records)
        if orders[0][1] == "DESC":
            found.reverse()
        return _page(found, criteria)
    pairs = [(r, row_of(r)) for r in records]
    hits = [(r, row) for r, row in pairs if _matches(row, groups)]
    for name, direction in reversed(orders):
        numeric = name in collection.numeric

        def key(pair: tuple[T, Row], name: str = name, numeric: bool = numeric) -> tuple[int, Any]:
            return _sort_key(pair[1].get(name), numeric)

        hits.sort(key=key, reverse=direction == "DESC")
    return _page([r for r, _ in hits], criteria)


def _page[T](hits: list[T], criteria: SearchCriteria) -> tuple[list[T], int]:
    total = len(hits)
    size = criteria.page_size or 0
    if size > 0:
        page = max(criteria.current_page or 1, 1)
        start = (page - 1) * size
        hits = hits[start : start + size]
    return hits, total


# ---------------------------------------------------------------- fields=


FieldSpec = dict[str, "FieldSpec | None"]


def parse_fields(text: str) -> FieldSpec:
    """Parse ``items[sku,price,extension_attributes[website_ids]],total_count``."""
    spec, _ = _parse_fields(text, 0)
    return spec


def _parse_fields(text: str, pos: int) -> tuple[FieldSpec, int]:
    spec: FieldSpec = {}
    name = ""
    while pos < len(text):
        ch = text[pos]
        if ch == ",":
            if name.strip():
                spec.setdefault(name.strip(), None)
            name = ""
            pos += 1
        elif ch == "[":
            child, pos = _parse_fields(text, pos + 1)
            spec[name.strip()] = child
            name = ""
        elif ch == "]":
            if name.strip():
                spec.setdefault(name.strip(), None)
            return spec, pos + 1
        else:
            name += ch
            pos += 1
    if name.strip():
        spec.setdefault(name.strip(), None)
    return spec, pos


def apply_fields(value: Any, spec: FieldSpec) -> Any:
    """Keep only the requested keys (``FieldsFilter``); lists are filtered element-wise."""
    if isinstance(value, list):
        return [apply_fields(v, spec) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, child in spec.items():
        if key in value:
            out[key] = value[key] if child is None else apply_fields(value[key], child)
    return out
