"""searchCriteria encoding: what Magento (PHP's query parser) reads back is what we meant."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kudos_sync.magento.search import (
    Filter,
    SearchCriteria,
    SortOrder,
    any_of,
    encode_search_criteria,
    format_value,
)

_KEY = re.compile(
    r"^searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|condition_type)\]$"
)
_SORT = re.compile(r"^searchCriteria\[sortOrders\]\[(\d+)\]\[(field|direction)\]$")


def decode(query: str) -> SearchCriteria:
    """Rebuild the criteria from a query string the way Magento's parser nests it."""
    parsed = parse_qs(query, keep_blank_values=True, strict_parsing=True)
    groups: dict[int, dict[int, dict[str, str]]] = {}
    sorts: dict[int, dict[str, str]] = {}
    page_size = current_page = None
    for key, values in parsed.items():
        assert len(values) == 1, key
        value = values[0]
        if m := _KEY.match(key):
            groups.setdefault(int(m[1]), {}).setdefault(int(m[2]), {})[m[3]] = value
        elif m := _SORT.match(key):
            sorts.setdefault(int(m[1]), {})[m[2]] = value
        elif key == "searchCriteria[pageSize]":
            page_size = int(value)
        elif key == "searchCriteria[currentPage]":
            current_page = int(value)
        else:
            assert key == "searchCriteria", key
    return SearchCriteria(
        filter_groups=tuple(
            tuple(
                Filter(f["field"], f["value"], f["condition_type"])  # type: ignore[arg-type]
                for _, f in sorted(groups[g].items())
            )
            for g in sorted(groups)
        ),
        sort_orders=tuple(SortOrder(s["field"], s["direction"]) for _, s in sorted(sorts.items())),  # type: ignore[arg-type]
        page_size=page_size,
        current_page=current_page,
    )


fields = st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=12)
# Values may hold anything a SKU, name or date can: %, &, =, +, spaces, brackets, commas, unicode.
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
conditions = st.sampled_from(
    [
        "eq",
        "neq",
        "gt",
        "gteq",
        "lt",
        "lteq",
        "like",
        "nlike",
        "in",
        "nin",
        "finset",
        "null",
        "notnull",
        "from",
        "to",
        "moreq",
        "nfinset",
    ]
)
filters = st.builds(Filter, fields, values, conditions)
criteria = st.builds(
    SearchCriteria,
    filter_groups=st.lists(st.lists(filters, min_size=1, max_size=4).map(tuple), max_size=4).map(tuple),
    sort_orders=st.lists(st.builds(SortOrder, fields, st.sampled_from(["ASC", "DESC"])), max_size=3).map(
        tuple
    ),
    page_size=st.none() | st.integers(1, 1000),
    current_page=st.none() | st.integers(1, 10_000),
)


@settings(max_examples=60)
@given(criteria)
def test_encode_then_parse_round_trips(original: SearchCriteria) -> None:
    query = encode_search_criteria(original)
    assert decode(query) == original


@settings(max_examples=40)
@given(criteria)
def test_encoded_query_is_plain_ascii_without_plus_or_raw_reserved(original: SearchCriteria) -> None:
    query = encode_search_criteria(original)
    assert query.isascii()
    assert "+" not in query and " " not in query
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        assert "=" not in value and "[" not in key and "[" not in value


def test_like_percent_is_encoded_as_25() -> None:
    query = encode_search_criteria(SearchCriteria(filter_groups=((Filter("name", "%Tee%", "like"),),)))
    assert "value%5D=%25Tee%25" in query


def test_groups_are_anded_and_filters_in_a_group_ored() -> None:
    crit = SearchCriteria(
        filter_groups=((Filter("a", "1"), Filter("b", "2")), (Filter("c", "3"),)),
        page_size=10,
        current_page=1,
    )
    parsed = {k: v[0] for k, v in parse_qs(encode_search_criteria(crit)).items()}
    assert parsed["searchCriteria[filter_groups][0][filters][1][field]"] == "b"
    assert parsed["searchCriteria[filter_groups][1][filters][0][value]"] == "3"
    assert parsed["searchCriteria[pageSize]"] == "10"


def test_in_filter_joins_with_commas_and_refuses_values_with_commas() -> None:
    assert Filter.of("entity_id", [3, 1, 2], "in").value == "3,1,2"
    with pytest.raises(ValueError, match="comma"):
        Filter.of("sku", ["A", "B,C"], "in")


def test_any_of_moves_values_with_commas_into_eq_filters_of_the_same_group() -> None:
    group = any_of("sku", ["A", "B,C", "D"])
    assert group == (Filter("sku", "A,D", "in"), Filter("sku", "B,C", "eq"))


def test_empty_criteria_still_sends_search_criteria() -> None:
    assert encode_search_criteria(SearchCriteria()) == "searchCriteria="


def test_datetimes_use_magentos_zone_less_format() -> None:
    assert format_value(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) == "2026-03-04 05:06:07"
