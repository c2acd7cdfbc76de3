"""Bindings a deployed tenant already holds keep working: the shards in tests/fixtures/bindings_v1.json
were packed by the release before typed bindings, and are read as the equivalent typed bindings."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kudos_sync.aws.state import _decode, _encode
from kudos_sync.domain.binding_codec import decode_binding, encode_binding
from kudos_sync.domain.state import (
    Binding,
    BindingKind,
    BindingStatus,
    ImageGallery,
    PendingWrite,
    ProductLinks,
    SpecialRows,
)

from tests.fakes.catalogue import style, variant
from tests.unit.test_push import Harness, make_config, tee

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "bindings_v1.json").read_text("utf-8"))
CASES: dict[str, dict[str, Any]] = FIXTURE["cases"]
SENT, PENDING = BindingStatus.SENT, BindingStatus.PENDING
TOPS = ProductLinks("simple", 102, "Womens/Tops", None)


def decoded(name: str) -> Binding:
    case = CASES[name]
    return decode_binding(BindingKind(case["kind"]), case["key"], case["packed"])


def test_given_every_v1_case_then_the_fixture_still_holds_each_kind_and_status() -> None:
    kinds = {BindingKind(case["kind"]) for case in CASES.values()}
    assert kinds == set(BindingKind) - {BindingKind.CUSTOMER}
    assert {decoded(name).status for name in CASES} == set(BindingStatus)


@pytest.mark.parametrize(
    ("name", "status", "fingerprint", "payload"),
    [
        ("category", SENT, "", None),
        ("option", SENT, "", None),
        ("price", SENT, "b0c017c0d73b8a671954b8057d962700", None),
        ("price_pending", PENDING, "9711660d2b8e67145e547fdab6b18a5d", None),
        ("stock_pending", PENDING, "dddc62699e13d2a6183c93e900a5f16a", None),
        ("product_simple", SENT, "6ed767670a558f81e6675b8297d67227", TOPS),
        (
            "product_child",
            SENT,
            "45b3e9b977fda7f015bc4c2c27f47def",
            ProductLinks("simple", None, None, "TEE", (("color", 104), ("size", 106))),
        ),
        (
            "product_parent",
            SENT,
            "bc6d9680d19a1b09188259e8e96c140f",
            ProductLinks("configurable", 102, "Womens/Tops", None),
        ),
        ("product_disabled", BindingStatus.DISABLED, "", TOPS),
        (
            "product_pending_create",
            PENDING,
            "6ed767670a558f81e6675b8297d67227",
            ProductLinks("simple", 102, "Womens/Tops", None, (), PendingWrite("create", (102,))),
        ),
        (
            "product_pending_enable",
            PENDING,
            "6ed767670a558f81e6675b8297d67227",
            ProductLinks("simple", 102, "Womens/Tops", None, (), PendingWrite("enable", (102,))),
        ),
        (
            "product_resync_pending_create",
            BindingStatus.RESYNC,
            "",
            ProductLinks("simple", 102, "Womens/Tops", None, (), PendingWrite("create", (102,))),
        ),
        (
            "special_dated",
            SENT,
            "b688ea35b916ea544212c5c734e213d9",
            SpecialRows(Decimal("39.90"), date(2026, 10, 1), date(2026, 12, 31), (0,)),
        ),
        (
            "special_open",
            SENT,
            "d212c0a451bc4871bca48c65f0fac2cc",
            SpecialRows(Decimal("29.90"), None, None, (0,)),
        ),
        (
            "special_pending",
            PENDING,
            "703ce7b368be4891497455568ec9e17f",
            SpecialRows(Decimal("19.90"), None, None, (0,)),
        ),
        (
            "special_resync",
            BindingStatus.RESYNC,
            "",
            SpecialRows(Decimal("39.90"), date(2026, 10, 1), date(2026, 12, 31), (0,)),
        ),
    ],
)
def test_given_a_v1_binding_when_decoded_then_it_is_the_equivalent_typed_binding(
    name: str, status: BindingStatus, fingerprint: str, payload: object
) -> None:
    binding = decoded(name)
    assert (binding.status, binding.fingerprint, binding.payload) == (status, fingerprint, payload)
    assert binding.key == CASES[name]["key"] and binding.magento_id == CASES[name]["packed"][1]


def test_given_v1_image_sets_then_entries_shas_and_first_are_kept_and_incomplete_is_a_status() -> None:
    complete, incomplete = decoded("images"), decoded("images_incomplete")
    assert complete.status is SENT and incomplete.status is BindingStatus.INCOMPLETE
    assert not incomplete.fingerprint.startswith("incomplete") and len(incomplete.fingerprint) == 32
    raw = CASES["images"]["packed"][2]
    assert complete.payload == ImageGallery(raw["first"], raw["entries"], raw["shas"])
    assert decoded("images_resync").status is BindingStatus.RESYNC


@pytest.mark.parametrize("name", sorted(CASES))
def test_given_a_decoded_binding_when_encoded_and_decoded_again_then_it_is_unchanged(name: str) -> None:
    binding = decoded(name)
    packed = _decode(_encode({binding.key: encode_binding(binding)}))[binding.key]
    assert decode_binding(binding.kind, binding.key, packed) == binding


def test_given_a_sent_binding_without_payload_then_both_encodings_agree_so_no_shard_is_rewritten() -> None:
    for name in ("category", "option", "price", "stock"):
        assert encode_binding(decoded(name)) == CASES[name]["packed"]
    assert len(encode_binding(decoded("price_pending"))) == 4  # the status is a field now


def test_given_a_tenant_in_step_under_v1_when_pushed_after_the_upgrade_then_nothing_is_sent() -> None:
    # The fake store is empty: the scheduled drift scan would (rightly) resend everything.
    h = Harness(config=make_config(reconcile={"enabled": False}))
    h.catalogue.put(tee("TEE"), style("MUG", "Coffee Mug", variants=[variant("MUG-001")]))
    h.catalogue.sale("TEE", "39.90", date(2026, 10, 1), date(2026, 12, 31))
    h.catalogue.sale("MUG", "29.90")
    h.catalogue.set_stock("TEE-Red-S", "SHOP", 5)
    h.catalogue.set_stock("MUG-001", "WEB", 3)
    for style_code, sequence in (("TEE", 1), ("TEE", 2), ("MUG", 1)):
        h.catalogue.add_image(style_code, sequence)
    for kind, shard in FIXTURE["steady"].items():
        h.state.save_bindings(
            [
                decode_binding(BindingKind(kind), key, packed)
                for key, packed in _decode(_encode(shard)).items()
            ]
        )
    before = {kind: h.state.load_bindings(kind) for kind in BindingKind}

    result = h.push()

    assert h.magento.calls == [] and result.problems == []
    assert (
        result.counts.unchanged == 5 + 1 + 5 + 5 + 10 + 2
    )  # products, parent, prices, specials, stock, images
    assert {kind: h.state.load_bindings(kind) for kind in BindingKind} == before
