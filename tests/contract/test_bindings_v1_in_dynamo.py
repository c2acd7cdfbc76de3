"""A tenant's binding shards as the release before typed bindings wrote them to DynamoDB
(tests/fixtures/bindings_v1.json) load through DynamoStateStore as the equivalent typed bindings, and a
save of what did not change rewrites no shard."""

import json
from pathlib import Path
from typing import Any

from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.domain.binding_codec import decode_binding
from kudos_sync.domain.state import BindingKind

from sandbox.aws import LocalAws
from tests.contract.test_state_store_contract import counting_dynamo_writes

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "bindings_v1.json").read_text("utf-8"))


def v1_store(local_aws: LocalAws, aws: AwsClients) -> DynamoStateStore:
    store = DynamoStateStore(aws.dynamodb, local_aws.new_table(), "acme")
    for kind, shard in FIXTURE["steady"].items():
        store._save_kind(BindingKind(kind), shard)  # the packed values exactly as the old release wrote them
    cases: dict[str, dict[str, Any]] = {}
    for name, case in FIXTURE["cases"].items():
        cases.setdefault(case["kind"], {})[f"case:{name}"] = case["packed"]
    for kind, packed in cases.items():
        store._save_kind(BindingKind(kind), packed)
    return store


def test_given_v1_shards_in_dynamodb_when_loaded_then_every_binding_is_its_typed_equivalent(
    local_aws: LocalAws, aws: AwsClients
) -> None:
    store = v1_store(local_aws, aws)

    for kind in BindingKind:
        loaded = store.load_bindings(kind)
        expected = {
            key: decode_binding(kind, key, packed) for key, packed in FIXTURE["steady"].get(kind, {}).items()
        }
        expected.update(
            {
                f"case:{name}": decode_binding(kind, f"case:{name}", case["packed"])
                for name, case in FIXTURE["cases"].items()
                if case["kind"] == kind
            }
        )
        assert loaded == expected, kind
    assert any(b.status.value == "pending" for b in store.load_bindings(BindingKind.PRODUCT).values())


def test_given_v1_shards_when_the_same_sent_bindings_are_saved_then_no_shard_is_rewritten(
    local_aws: LocalAws, aws: AwsClients
) -> None:
    store = v1_store(local_aws, aws)
    unchanged = [
        binding
        for kind in (BindingKind.PRICE, BindingKind.STOCK, BindingKind.CATEGORY, BindingKind.OPTION)
        for key, binding in store.load_bindings(kind).items()
        if not key.startswith("case:")
    ]

    with counting_dynamo_writes(aws.dynamodb) as written:
        store.save_bindings(unchanged)

    assert unchanged and written == []
