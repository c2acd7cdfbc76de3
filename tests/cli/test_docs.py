"""The docs agree with `--help`, with the stack, and with what the commands do on the local stack."""

import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.cli import app
from kudos_sync.cli.app import Scope, Stream
from kudos_sync.cli.exits import exit_code_table
from kudos_sync.domain.state import ParkedRecord
from typer.testing import CliRunner

from sandbox.local import LocalStack, local_stack, next_steps
from tests.deploy.expand import tenant_template_source

REPO = Path(__file__).resolve().parents[2]
OPERATIONS = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")
DOC_TENANT = "acme-nz"
runner = CliRunner()


def documented_commands(text: str) -> list[str]:
    """Every `kudos-sync ...` line of the fenced bash blocks, as written."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("kudos-sync "):
                commands.append(line)
    return commands


def runnable(command: str, tenant: str) -> list[str]:
    """A documented command as an operator would type it: optional parts left out, the first of
    alternatives taken, the example tenant replaced."""
    command = re.sub(r"\s*\[[^\]]*\]", "", command)
    words = [word.split("|")[0] for word in shlex.split(command)[1:]]
    return [tenant if word == DOC_TENANT else word for word in words]


def test_the_exit_code_table_in_the_docs_is_the_one_in_help() -> None:
    block = re.search(r"<!-- exit-codes:.*?-->\n```text\n(.*?)```", OPERATIONS, flags=re.S)
    assert block, "docs/operations.md: the exit code table must follow its marker"
    assert block.group(1).strip("\n") == exit_code_table()
    helped = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    for line in exit_code_table().splitlines():
        assert line.strip() in helped.output


def test_help_lists_the_valid_streams_and_scopes() -> None:
    for args, values in (
        (["parked", "list", "--help"], Stream),
        (["parked", "drop", "--help"], Stream),
        (["resync", "--help"], Scope),
    ):
        helped = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert all(v.value in helped.output for v in values), helped.output
    for stream in Stream:
        assert f"`{stream.value}`" in OPERATIONS


def test_every_documented_command_and_option_exists() -> None:
    root = typer.main.get_command(app)
    documented = documented_commands(OPERATIONS) + documented_commands(README)
    documented += [f"kudos-sync {c.split(' ', 1)[1]}" for c in next_steps(DOC_TENANT)]
    assert len(documented) > 10
    for command in documented:
        words = runnable(command, DOC_TENANT)
        group = root
        while words and isinstance(group, typer.core.TyperGroup) and words[0] in group.commands:
            group = group.commands[words.pop(0)]
        assert not isinstance(group, typer.core.TyperGroup), f"{command}: names no command"
        options = {opt for param in group.params for opt in param.opts}
        for word in words:
            if word.startswith("--"):
                assert word in options, f"{command}: {word} is not an option of {group.name}"


def test_the_resource_counts_in_the_docs_are_the_templates() -> None:
    per_tenant = len(tenant_template_source()["Resources"])
    assert f"its {per_tenant} resources" in OPERATIONS
    assert f"each nested stack has {per_tenant}" in OPERATIONS
    assert "10 resources" not in OPERATIONS and "6 alarms" not in OPERATIONS


def test_readme_and_operations_agree_on_the_integration_menu_and_the_order_of_adding_a_tenant() -> None:
    menu = "System → Extensions → Integrations"
    assert menu in README and menu in OPERATIONS
    for text in (README, OPERATIONS):
        section = text[text.index("## Add a tenant") :]
        assert section.index("kudos-sync check") < section.index("scripts/deploy.sh")


# ---------------------------------------------------------------- the runbook on the local stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("local"), tenant="runbook", skus=30) as started:
        yield started


def test_each_runbook_command_runs_against_the_local_stack(stack: LocalStack) -> None:
    """In the runbook's order; a parked invoice stands in for a real one so retry and drop have one."""
    state = DynamoStateStore(stack.aws.clients().dynamodb, stack.aws.table_name, stack.tenant)
    now = datetime.now(UTC)
    state.park(ParkedRecord(stream="invoices", key="100000123", reason="r", first_seen=now, last_seen=now))
    env = {**stack.environment(), "COLUMNS": "200"}
    ran = []
    for command in dict.fromkeys(documented_commands(OPERATIONS)):
        args = runnable(command, stack.tenant)
        result = runner.invoke(app, args, env=env)
        ran.append(" ".join(args))
        # 6: records parked (the stand-in invoice, until it is dropped) is an answer, not a failure.
        assert result.exit_code in (0, 6), f"{command}\n{result.output}"
        assert "Traceback" not in result.output and "error (" not in result.output, result.output
    assert {"check", "plan", "status", "run", "resync"} <= {r.split()[0] for r in ran}
    assert any(r.startswith("parked drop") for r in ran) and state.list_parked() == []


def test_the_global_options_the_docs_name_exist() -> None:
    for option in ("--debug", "--verbose", "--version"):
        assert f"`{option}`" in OPERATIONS or f"`kudos-sync {option}`" in OPERATIONS, option
        assert runner.invoke(app, [option, "--help"]).exit_code == 0, option
