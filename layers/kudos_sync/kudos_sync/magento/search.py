"""Magento's searchCriteria as a query string, exactly as its REST layer parses it.

``searchCriteria[filter_groups][i][filters][j][field|value|condition_type]``: filters inside one group
are OR, groups are AND. ``in``/``nin`` take comma-separated values (so a value containing a comma
cannot go into one; ``any_of`` puts such values into ``eq`` filters of the same OR group). Sort orders
are ``searchCriteria[sortOrders][k][field|direction]``; paging is ``pageSize``/``currentPage``.

Every key and value is percent-encoded as RFC 3986 says (a space is ``%20``, never ``+``; ``%`` in a
``like`` pattern is ``%25``): the OAuth signature is computed over the same bytes Magento decodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from urllib.parse import quote

Condition = Literal[
    "eq",
    "neq",
    "gt",
    "gteq",
    "lt",
    "lteq",
    "moreq",
    "like",
    "nlike",
    "in",
    "nin",
    "finset",
    "nfinset",
    "from",
    "to",
    "null",
    "notnull",
]
Direction = Literal["ASC", "DESC"]
Scalar = str | int | Decimal | date | datetime | bool

MAGENTO_DATETIME = "%Y-%m-%d %H:%M:%S"


def format_value(value: Scalar) -> str:
    """A filter value as Magento compares it (datetimes as its zone-less "YYYY-MM-DD HH:MM:SS")."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime(MAGENTO_DATETIME)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    value: str
    condition_type: Condition = "eq"

    @staticmethod
    def of(field: str, value: Scalar | Sequence[Scalar], condition_type: Condition = "eq") -> Filter:
        """A filter; a sequence value becomes the comma list ``in``/``nin`` expect."""
        if isinstance(value, str | int | Decimal | date | datetime | bool):
            return Filter(field, format_value(value), condition_type)
        parts = [format_value(v) for v in value]
        if condition_type in ("in", "nin") and any("," in p for p in parts):
            raise ValueError(f"a value of an {condition_type!r} filter on {field!r} contains a comma")
        return Filter(field, ",".join(parts), condition_type)


def any_of(field: str, values: Iterable[Scalar]) -> tuple[Filter, ...]:
    """One OR group matching ``field`` equal to any of the values: one ``in`` filter for the values
    without commas, an ``eq`` filter for each value with one."""
    plain: list[str] = []
    with_comma: list[str] = []
    for value in values:
        text = format_value(value)
        (with_comma if "," in text else plain).append(text)
    filters: list[Filter] = []
    if plain:
        filters.append(Filter(field, ",".join(plain), "in"))
    filters.extend(Filter(field, text, "eq") for text in with_comma)
    return tuple(filters)


@dataclass(frozen=True, slots=True)
class SortOrder:
    field: str
    direction: Direction = "ASC"


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """``filter_groups`` are AND-ed; the filters inside one group are OR-ed."""

    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())  # further query parameters, e.g. fields

    def with_page(self, current_page: int, page_size: int) -> SearchCriteria:
        return SearchCriteria(self.filter_groups, self.sort_orders, page_size, current_page, self.extra)


def search_params(criteria: SearchCriteria) -> list[tuple[str, str]]:
    """The (key, value) pairs of the query string, unencoded, in a stable order."""
    pairs: list[tuple[str, str]] = []
    for i, group in enumerate(criteria.filter_groups):
        for j, flt in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{i}][filters][{j}]"
            pairs.append((f"{prefix}[field]", flt.field))
            pairs.append((f"{prefix}[value]", flt.value))
            pairs.append((f"{prefix}[condition_type]", flt.condition_type))
    for k, order in enumerate(criteria.sort_orders):
        pairs.append((f"searchCriteria[sortOrders][{k}][field]", order.field))
        pairs.append((f"searchCriteria[sortOrders][{k}][direction]", order.direction))
    if criteria.page_size is not None:
        pairs.append(("searchCriteria[pageSize]", str(criteria.page_size)))
    if criteria.current_page is not None:
        pairs.append(("searchCriteria[currentPage]", str(criteria.current_page)))
    if not pairs:
        # searchCriteria is mandatory on list routes; an empty one means "everything".
        pairs.append(("searchCriteria", ""))
    pairs.extend(criteria.extra)
    return pairs


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """``k=v&...`` with every reserved character percent-encoded (RFC 3986, as OAuth signs it)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def encode_search_criteria(criteria: SearchCriteria) -> str:
    """The full query string for a list route."""
    return encode_query(search_params(criteria))
