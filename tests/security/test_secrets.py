"""No secret leaks, across a faulty run: the tenant's OAuth consumer key, consumer secret, access token
and token secret, and its SQL password (all distinctive random values) appear in none of

- the log lines of the Lambda handlers (`functions/push/app.py`, `functions/pull/app.py`, invoked in a
  child process with a fake context, so every byte they write is captured) and of `kudos-sync`;
- the exceptions they raise (str, repr, args and chained causes, and the tracebacks);
- the metrics (EMF documents on stdout);
- the parked records and run records, read back from DynamoDB (the whole tenant partition, binding
  shards decompressed).

Faults: the sandbox's 429/5xx/deadlock/timeouts/drops, CI Office connections cut, DynamoDB throttled.
"""

import json
import os
import secrets
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.aws import LocalAws
from sandbox.magento import OAuthCredentials
from tests.chaos.world import World, open_world, patched_service

ROOT = Path(__file__).resolve().parents[2]
KUDOS_SYNC = Path(sys.executable).with_name("kudos-sync")


def _distinctive(label: str) -> str:
    return f"{label}{secrets.token_hex(12)}"


@pytest.fixture
def world(local_aws: LocalAws, tmp_path: Path) -> Iterator[World]:
    with patched_service(), open_world(local_aws, tmp_path, 0, 9001, 24) as built:
        yield built


def _env(world: World, log_level: str = "INFO") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "kudos_sync")]),
            "KUDOS_STATE_TABLE": world.table_name,
            "KUDOS_IMAGE_BUCKET": world.aws.bucket,
            "LOG_LEVEL": log_level,
            "POWERTOOLS_LOG_LEVEL": log_level,
            "POWERTOOLS_METRICS_NAMESPACE": "KudosSync",
            "POWERTOOLS_SERVICE_NAME": "kudos-sync",
            "POWERTOOLS_DEV": "false",
        }
    )
    return env


def _invoke(world: World, direction: str, times: int, env: dict[str, str], dynamo: float, sql: float) -> str:
    args = [direction, world.tenant, str(times), str(world.seed), str(dynamo), str(sql)]
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.invoke", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout + done.stderr


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(KUDOS_SYNC), *args],
        cwd=ROOT,
        env={**env, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout + done.stderr


def _state_text(world: World) -> str:
    """Everything the tenant's partition holds, as text (binding shards decompressed)."""
    client = world.aws.clients(table_name=world.table_name).dynamodb
    out: list[str] = []
    start: Any = None
    while True:
        request: Any = {"TableName": world.table_name, **({"ExclusiveStartKey": start} if start else {})}
        page = client.scan(**request)
        for item in page.get("Items", []):
            for value in item.values():
                if "B" in value:
                    try:
                        out.append(zlib.decompress(value["B"]).decode("utf-8", "replace"))
                    except zlib.error:
                        out.append(value["B"].decode("utf-8", "replace"))
                else:
                    out.append(json.dumps(value, default=str))
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    state = world.clean_state()
    out.extend(r.model_dump_json() for r in state.list_parked())
    out.extend(r.model_dump_json() for r in state.list_runs(limit=200))
    return "\n".join(out)


def _assert_clean(secret_values: dict[str, str], evidence: dict[str, str]) -> None:
    leaks = [
        f"{name} in {where}"
        for where, text in evidence.items()
        for name, value in secret_values.items()
        if value in text
    ]
    assert not leaks, leaks


def _oauth_secrets(oauth: OAuthCredentials) -> dict[str, str]:
    return {
        "consumer key": oauth.consumer_key,
        "consumer secret": oauth.consumer_secret,
        "access token": oauth.access_token,
        "token secret": oauth.token_secret,
    }


def _sell(world: World, count: int) -> None:
    store, sales = world.sandbox.store, world.sandbox.sales
    with store.lock:
        skus = sorted(p.sku for p in store.products.values() if p.type_id == "simple")
    for index, sku in enumerate(skus[:count]):
        order = sales.place_order([(sku, 1)], f"buyer{index}@example.net", payment_method="checkmo")
        sales.invoice(order.entity_id)
        if index % 2:
            sales.refund(order.entity_id)


def test_given_a_faulty_run_through_handlers_and_cli_then_no_oauth_secret_is_logged_raised_or_stored(
    world: World,
) -> None:
    env = _env(world)
    world.faults_on(sandbox_rate=0.2, sql_rate=0.0, commit_rate=0.0, dynamo_rate=0.0)
    evidence: dict[str, str] = {}
    evidence["push handler"] = _invoke(world, "push", 4, env, dynamo=0.03, sql=0.05)
    _sell(world, 6)
    evidence["pull handler"] = _invoke(world, "pull", 4, env, dynamo=0.03, sql=0.05)
    evidence["cli run push"] = _cli(["run", "--tenant", world.tenant, "--direction", "push", "--json"], env)
    evidence["cli run pull"] = _cli(["run", "--tenant", world.tenant, "--direction", "pull"], env)
    evidence["cli status"] = _cli(["status", "--tenant", world.tenant], env)
    evidence["cli parked list"] = _cli(["parked", "list", "--tenant", world.tenant], env)
    evidence["cli check"] = _cli(["check", "--tenant", world.tenant], env)
    evidence["state table"] = _state_text(world)
    world.collect_sandbox_faults()

    handler_output = evidence["push handler"] + evidence["pull handler"]
    assert '"_aws"' in handler_output, "no EMF metrics were captured"
    assert '"level"' in handler_output and world.tenant in handler_output, (
        "no handler log lines were captured"
    )
    assert sum(world.counter.snapshot().values()) > 0, "no faults were injected"
    assert "RUN#" in evidence["state table"] or '"run_id"' in evidence["state table"]
    _assert_clean(_oauth_secrets(world.oauth), evidence)


# DEBUG is an allowed value of the stack's LogLevel parameter: at DEBUG, botocore's own loggers would
# print the GetSecretValue response body (the whole tenant secret) if the handlers copied their log
# config onto them; they copy it onto kudos_sync's loggers only, and this keeps it that way.
@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
def test_given_rejected_credentials_when_the_handler_runs_then_the_configuration_error_carries_no_secret(
    world: World, log_level: str
) -> None:
    wrong = OAuthCredentials(
        _distinctive("ck"), _distinctive("cs"), _distinctive("at"), _distinctive("ts")
    )  # not the sandbox's: Magento answers 401
    payload = json.loads(json.dumps(world.config_payload))
    payload["magento"]["auth"] = {
        "kind": "oauth",
        "consumer_key": wrong.consumer_key,
        "consumer_secret": wrong.consumer_secret,
        "access_token": wrong.access_token,
        "access_token_secret": wrong.token_secret,
    }
    world.aws.put_tenant_secret(world.tenant, payload)
    env = _env(world, log_level=log_level)
    evidence = {
        "push handler": _invoke(world, "push", 1, env, dynamo=0.0, sql=0.0),
        "cli check": _cli(["check", "--tenant", world.tenant], env),
        "cli run": _cli(["run", "--tenant", world.tenant, "--direction", "push"], env),
        "state table": _state_text(world),
    }
    # A configuration error is returned as a failed, misconfigured result (not raised into the DLQ).
    assert "'misconfigured': True" in evidence["push handler"], "the handler should have failed on a 401"
    _assert_clean(_oauth_secrets(wrong), evidence)


@pytest.mark.parametrize(
    "url_template",
    [
        "mssql+pymssql://kudos:{password}@127.0.0.1:9/ci_office",
        "postgresql+psycopg://kudos:{password}@127.0.0.1:9/ci_office",
    ],
)
def test_given_an_unreachable_ci_office_when_runs_fail_then_the_sql_password_appears_nowhere(
    world: World, url_template: str
) -> None:
    password = _distinctive("Pw")
    payload = json.loads(json.dumps(world.config_payload))
    payload["ci_office"] = {"url": url_template.format(password=password), "login_timeout_seconds": 2}
    world.aws.put_tenant_secret(world.tenant, payload)
    env = _env(world, log_level="DEBUG")
    evidence = {
        "push handler": _invoke(world, "push", 1, env, dynamo=0.0, sql=0.0),
        "pull handler": _invoke(world, "pull", 1, env, dynamo=0.0, sql=0.0),
        "cli check": _cli(["check", "--tenant", world.tenant], env),
        "cli run": _cli(["run", "--tenant", world.tenant, "--direction", "push", "--json"], env),
        "state table": _state_text(world),
    }
    assert "CI Office" in evidence["push handler"] + evidence["cli run"], evidence["push handler"][-2000:]
    _assert_clean({"SQL password": password, **_oauth_secrets(world.oauth)}, evidence)
