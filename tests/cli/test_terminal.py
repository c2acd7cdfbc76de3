"""Every command meets a bad input in a real terminal (a pseudo-terminal, as an operator's shell gives
it): one line naming the tenant, the thing and the fix, its documented exit code, and no traceback
unless --debug.

The `kudos-sync` console script runs in a child process on a pseudo-terminal 80 columns wide, against
local AWS (moto on 127.0.0.1); unreachable stores and databases are loopback ports nothing listens on.
"""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kudos_sync.aws.state import DynamoStateStore

from sandbox.aws import LocalAws, local_aws_session
from sandbox.tenant import local_tenant_secret

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

import fcntl
import pty
import termios

KUDOS = Path(sys.executable).with_name("kudos-sync")
NOBODY = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once
CONFIGURATION, TRANSIENT, USAGE = 3, 4, 2
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Outcome:
    code: int
    output: str

    @property
    def lines(self) -> list[str]:
        """What is left on the screen, roughly: escape sequences and progress redraws removed."""
        shown = [line.rstrip("\r").split("\r")[-1] for line in ANSI.sub("", self.output).split("\n")]
        return [line for line in shown if line.strip()]


def in_terminal(args: list[str], env: dict[str, str], timeout: float = 90.0) -> Outcome:
    """Run `kudos-sync <args>` on a fresh pseudo-terminal; its exit code and everything it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    child = subprocess.Popen(
        [str(KUDOS), *args], stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = child.wait(timeout=timeout)
    finally:
        os.close(leader)
        if child.poll() is None:
            child.kill()
    return Outcome(code, b"".join(chunks).decode("utf-8", "replace"))


def assert_one_line(outcome: Outcome, code: int, *words: str) -> str:
    assert outcome.code == code, outcome.output
    assert "Traceback" not in outcome.output, outcome.output
    # A progress bar may have been drawn and erased before: the message is the one line left, last.
    [line] = [line for line in outcome.lines if "error" in line]
    assert line.startswith("error (") and line == outcome.lines[-1], outcome.lines
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    return line


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    yield from local_aws_session()


@pytest.fixture
def env(local_aws: LocalAws) -> dict[str, str]:
    """The environment an operator exports for the stack (here: the local one)."""
    return {**os.environ, "COLUMNS": "80", "TERM": "xterm"}


def new_tenant() -> str:
    return f"tt-{uuid.uuid4().hex[:8]}"


def secret_with(local_aws: LocalAws, tenant: str, **overrides: Any) -> None:
    local_aws.put_tenant_secret(tenant, local_tenant_secret(NOBODY, "sqlite://", **overrides))


# ---------------------------------------------------------------- a missing or invalid secret

SECRET_COMMANDS = [
    ["run", "--direction", "push"],
    ["run", "--direction", "pull"],
    ["check"],
    ["plan"],
    ["resync", "--scope", "prices"],
]


@pytest.mark.parametrize("command", SECRET_COMMANDS, ids=lambda c: " ".join(c))
def test_a_missing_secret_is_one_line_naming_tenant_secret_and_fix(
    command: list[str], env: dict[str, str]
) -> None:
    tenant = new_tenant()
    outcome = in_terminal([command[0], "--tenant", tenant, *command[1:]], env)
    assert_one_line(
        outcome, CONFIGURATION, tenant, f"secret kudos-sync/tenants/{tenant} does not exist", "fix:"
    )


@pytest.mark.parametrize("command", SECRET_COMMANDS, ids=lambda c: " ".join(c))
def test_an_invalid_secret_names_the_bad_fields_never_the_values(
    command: list[str], env: dict[str, str], local_aws: LocalAws
) -> None:
    tenant = new_tenant()
    local_aws.put_tenant_secret(
        tenant,
        {"magento": {"base_url": "ftp://x", "auth": {"kind": "bearer", "token": "s3cr3t"}}},
        validate=False,
    )
    outcome = in_terminal([command[0], "--tenant", tenant, *command[1:]], env)
    line = assert_one_line(outcome, CONFIGURATION, tenant, "magento.base_url", "branch_sources")
    assert "s3cr3t" not in line and "ftp://x" not in line


def test_commands_that_read_only_the_table_answer_without_a_secret(env: dict[str, str]) -> None:
    tenant = new_tenant()
    for args in (["status", "--tenant", tenant], ["parked", "list", "--tenant", tenant]):
        outcome = in_terminal(args, env)
        assert outcome.code == 0 and "Traceback" not in outcome.output, outcome.output
    retry = in_terminal(["parked", "retry", "--tenant", tenant], env)
    assert retry.code == 0 and "nothing parked" in retry.output


def test_debug_shows_the_traceback(env: dict[str, str]) -> None:
    outcome = in_terminal(["--debug", "plan", "--tenant", new_tenant()], env)
    assert outcome.code != 0 and "Traceback" in outcome.output


# ---------------------------------------------------------------- unreachable store, database, AWS


def test_an_unreachable_store_fails_the_run_as_transient(env: dict[str, str], local_aws: LocalAws) -> None:
    tenant = new_tenant()
    secret_with(local_aws, tenant, magento={"base_url": NOBODY, "timeout_seconds": 2})
    outcome = in_terminal(["run", "--tenant", tenant, "--direction", "pull"], env)
    assert_one_line(outcome, TRANSIENT, tenant, "pull run", "Magento", "network")


def test_check_with_an_unreachable_store_suggests_the_network(
    env: dict[str, str], local_aws: LocalAws
) -> None:
    tenant = new_tenant()
    secret_with(local_aws, tenant, magento={"base_url": NOBODY, "timeout_seconds": 2})
    outcome = in_terminal(["check", "--tenant", tenant, "--json"], env)
    assert outcome.code == CONFIGURATION and "Traceback" not in outcome.output
    findings = json.loads(outcome.output)["findings"]
    magento = [f for f in findings if f["check"].startswith("magento")]
    assert [f["fix"].split(":")[0] for f in magento] == ["Magento did not answer"]


def test_an_unreachable_database_fails_as_transient_naming_ci_office(
    env: dict[str, str], local_aws: LocalAws, tmp_path: Path
) -> None:
    tenant = new_tenant()
    local_aws.put_tenant_secret(
        tenant,
        local_tenant_secret(
            NOBODY, "postgresql+psycopg://sync:pw@127.0.0.1:9/ci", ci_office={"login_timeout_seconds": 2}
        ),
    )
    outcome = in_terminal(["check", "--tenant", tenant, "--json"], env)
    assert outcome.code == CONFIGURATION and "Traceback" not in outcome.output, outcome.output
    [database] = [f for f in json.loads(outcome.output)["findings"] if f["check"].startswith("ci office")]
    assert database["fix"].startswith("SQL Server did not answer"), database


def test_unreachable_aws_is_transient(env: dict[str, str]) -> None:
    away = {**env, "AWS_ENDPOINT_URL": NOBODY}
    for args in (["status", "--all"], ["parked", "list", "--all"], ["plan", "--tenant", "acme-nz"]):
        outcome = in_terminal(args, away)
        assert_one_line(outcome, TRANSIENT, "retry")


def test_no_stack_environment_says_what_to_export(env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if k not in ("KUDOS_STATE_TABLE", "KUDOS_IMAGE_BUCKET")}
    for args in (
        ["status", "--all"],
        ["status", "--tenant", "acme-nz"],
        ["run", "--tenant", "acme-nz", "--direction", "push"],
        ["parked", "drop", "--tenant", "acme-nz", "--stream", "stock", "--key", "X"],
    ):
        assert_one_line(in_terminal(args, bare), CONFIGURATION, "KUDOS_STATE_TABLE", "export")


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["parked", "drop", "--tenant", "acme-nz", "--stream", "nonsense", "--key", "1"], ["products"]),
        (["parked", "list", "--tenant", "acme-nz", "--stream", "nonsense"], ["invoices"]),
        (["resync", "--tenant", "acme-nz", "--scope", "everything"], ["prices"]),
        (["run", "--tenant", "acme/../x", "--direction", "push"], ["tenant id"]),
        (["status"], ["--all"]),
    ],
    ids=["drop-stream", "list-stream", "scope", "tenant-id", "status-neither"],
)
def test_usage_errors_exit_2_and_name_the_valid_values(
    args: list[str], words: list[str], env: dict[str, str]
) -> None:
    outcome = in_terminal(args, env)
    assert outcome.code == USAGE and "Traceback" not in outcome.output, outcome.output
    assert all(word in outcome.output for word in words), outcome.output


def test_drop_refuses_a_key_that_is_not_parked(env: dict[str, str]) -> None:
    tenant = new_tenant()
    outcome = in_terminal(["parked", "drop", "--tenant", tenant, "--stream", "invoices", "--key", "1"], env)
    assert outcome.code == USAGE and "no parked invoices record with key '1'" in outcome.output
    assert "dropped" not in outcome.output


def test_a_budget_without_room_for_the_margin_is_refused(env: dict[str, str], local_aws: LocalAws) -> None:
    tenant = new_tenant()
    secret_with(local_aws, tenant)
    outcome = in_terminal(["run", "--tenant", tenant, "--direction", "push", "--budget", "20"], env)
    assert outcome.code == USAGE and "60 s" in outcome.output and "Traceback" not in outcome.output


def test_help_lists_the_exit_codes_and_version_answers(env: dict[str, str]) -> None:
    helped = in_terminal(["--help"], env)
    assert helped.code == 0
    for code in ("0", "1", "2", "3", "4", "5", "6", "130"):
        assert any(line.strip().startswith(f"{code}  ") for line in helped.lines), code
    version = in_terminal(["--version"], env)
    assert version.code == 0 and version.output.startswith("kudos-sync ")


def test_json_errors_are_json(env: dict[str, str]) -> None:
    tenant = new_tenant()
    done = subprocess.run(
        [str(KUDOS), "run", "--tenant", tenant, "--direction", "push", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == CONFIGURATION
    body = json.loads(done.stdout)
    assert body["exit_code"] == CONFIGURATION and body["error"]["kind"] == "configuration"
    assert tenant in body["error"]["message"] and body["error"]["fix"]
    usage = subprocess.run(
        [str(KUDOS), "run", "--tenant", tenant, "--direction", "push", "--json", "--budget", "5"],
        env={**env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    # The budget is checked against the tenant's settings, which do not exist: configuration first.
    assert usage.returncode == CONFIGURATION and json.loads(usage.stdout)["exit_code"] == CONFIGURATION


def test_ctrl_c_during_a_run_is_one_line_exit_130_and_frees_the_lease(
    env: dict[str, str], local_aws: LocalAws
) -> None:
    """A store that accepts the connection and never answers: the run waits; the operator presses
    Ctrl-C (SIGINT to the terminal's foreground process)."""
    tenant = new_tenant()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        secret_with(local_aws, tenant, magento={"base_url": url, "timeout_seconds": 60})
        leader, follower = pty.openpty()
        child = subprocess.Popen(
            [str(KUDOS), "run", "--tenant", tenant, "--direction", "pull"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            close_fds=True,
        )
        os.close(follower)
        silent.settimeout(60)
        silent.accept()  # the run is now waiting on the store
        child.send_signal(signal.SIGINT)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        outcome = Outcome(child.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace"))
    assert_one_line(outcome, 130, tenant, "Ctrl-C")
    store = DynamoStateStore(local_aws.clients().dynamodb, local_aws.table_name, tenant)
    [run] = store.list_runs("pull")
    assert run.status.value == "failed" and store.lease_holder("pull", datetime.now(UTC)) is None
