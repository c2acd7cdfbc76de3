"""The one rule for comparing CI codes: case and trailing spaces ignored, as SQL Server's _CI_AS does."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.domain.codes import code_key, same_code


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("TEE1-BLK-S", "tee1-blk-s", True),
        ("TEE1", "TEE1 ", True),
        ("TEE1", "tee1   ", True),
        ("", " ", True),
        ("TEE1", " TEE1", False),  # leading spaces count
        ("TEE1", "TEE1\t", False),  # only spaces are padding
        ("CAFÉ", "CAFE", False),  # accent-sensitive
        ("CAFÉ", "café", True),
        ("Kiri.Tane@Example.co.nz", "kiri.tane@example.co.nz", True),
    ],
)
def test_given_two_codes_then_compared_as_sql_server_compares_them(left: str, right: str, same: bool) -> None:
    assert same_code(left, right) is same
    assert (code_key(left) == code_key(right)) is same


@given(st.text(max_size=20), st.integers(min_value=0, max_value=5))
def test_given_any_code_then_trailing_spaces_do_not_count_and_the_key_is_stable(
    code: str, spaces: int
) -> None:
    assert code_key(code + " " * spaces) == code_key(code)
    assert code_key(code_key(code)) == code_key(code)


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_./ ", max_size=20))
def test_given_an_ascii_code_then_its_upper_and_lower_case_are_one_code(code: str) -> None:
    assert same_code(code.upper(), code.lower())
