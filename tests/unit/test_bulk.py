"""trusted_constructor: hot-loop construction of frozen models behaves like validated construction."""

import gc
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kudos_sync.domain.bulk import bulk_build, trusted_constructor
from kudos_sync.domain.catalogue import ImageMeta, StockOnHand
from kudos_sync.domain.state import Binding, BindingKind, ParkedRecord


def test_given_typed_values_then_instance_equals_the_validated_one_and_dumps_the_same() -> None:
    values = {"kind": BindingKind.STOCK, "key": "MUG-1@web", "fingerprint": "f" * 32, "magento_id": 7}
    built = trusted_constructor(Binding)(**values, extra={"a": 1})
    validated = Binding(**values, extra={"a": 1})
    assert built == validated and hash(built.key) == hash(validated.key)
    assert built.model_dump() == validated.model_dump()
    assert built.model_dump_json() == validated.model_dump_json()


def test_given_copy_with_update_then_the_shared_fields_set_is_not_changed() -> None:
    construct = trusted_constructor(StockOnHand)
    first = construct(sku="MUG-1", branch="WEB", quantity=Decimal(3))
    second = construct(sku="MUG-2", branch="WEB", quantity=Decimal(4))
    changed = first.model_copy(update={"quantity": Decimal(5)})
    assert changed.quantity == Decimal(5) and first.quantity == Decimal(3)
    assert second.model_fields_set == first.model_fields_set == {"sku", "branch", "quantity"}


def test_given_frozen_instance_then_it_stays_frozen() -> None:
    meta = trusted_constructor(ImageMeta)(
        image_id=1,
        style_code="MUG",
        sequence=1,
        colour=None,
        byte_length=10,
        updated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with pytest.raises(Exception, match="frozen"):
        meta.sequence = 2  # type: ignore[misc]


def test_given_mutable_model_then_trusted_construction_is_refused() -> None:
    with pytest.raises(TypeError, match="frozen"):
        trusted_constructor(ParkedRecord)


def test_bulk_build_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with bulk_build():
        assert not gc.isenabled()
    assert gc.isenabled()
