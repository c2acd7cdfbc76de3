"""fit_reason: a reason always fits its byte budget, keeps its start, and says how much was cut."""

import re

from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.domain.reasons import MAX_REASON_BYTES, fit_reason


def test_a_reason_that_fits_is_unchanged_up_to_the_last_byte() -> None:
    text = "x" * MAX_REASON_BYTES
    assert fit_reason(text) == text
    assert fit_reason("") == ""


def test_one_byte_over_is_cut_with_a_marker_counting_what_was_cut() -> None:
    text = "SKU-1: " + "y" * MAX_REASON_BYTES
    fitted = fit_reason(text)
    assert len(fitted.encode()) <= MAX_REASON_BYTES
    assert fitted.startswith("SKU-1: ")
    cut = int(re.search(r"\[(\d+) more bytes cut\]$", fitted).group(1))  # type: ignore[union-attr]
    assert len(fitted.encode()) - len(fitted[fitted.rindex(" ... [") :].encode()) + cut == len(text.encode())


def test_multibyte_characters_are_never_split() -> None:
    fitted = fit_reason("é" * 5000, limit=101)
    assert len(fitted.encode()) <= 101
    fitted.encode("utf-8").decode("utf-8")  # valid UTF-8
    assert set(fitted.split(" ... ")[0]) == {"é"}


@given(st.text(), st.integers(min_value=1, max_value=600))
def test_any_text_fits_any_budget_and_keeps_a_prefix(text: str, limit: int) -> None:
    fitted = fit_reason(text, limit)
    assert len(fitted.encode()) <= limit
    kept = fitted.split(" ... [")[0] if fitted != text else fitted
    assert text.startswith(kept)
