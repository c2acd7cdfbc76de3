import pytest
from kudos_sync.batches import chunks


def test_given_seven_items_when_cut_by_three_then_three_batches_in_order() -> None:
    assert [list(batch) for batch in chunks(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_given_exact_multiple_then_no_empty_tail() -> None:
    assert [list(batch) for batch in chunks([1, 2], 1)] == [[1], [2]]
    assert list(chunks([], 5)) == []


def test_given_size_zero_then_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1], 0))
