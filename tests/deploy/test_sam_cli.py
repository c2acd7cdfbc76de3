"""The SAM CLI itself: `sam validate`, its own Fn::ForEach expansion, and `sam build` of the layer.

SAM CLI runs from .venv-sam (created on first use by scripts/sam-venv.sh, shared by xdist workers
under a lock). One `sam build` per pytest session, shared by the workers the same way, goes to a
temporary directory; the built layer and handlers are then imported by a clean python3.12.
"""

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.deploy.expand import REGION, expand_language_extensions, of_type, source_template
from tests.deploy.sam import (
    FUNCTION_IDS,
    REPO,
    TEMPLATE,
    build_stack,
    function_dir,
    layer_python_dir,
    locked,
    python312,
    run_sam,
    sam_executable,
)

pytestmark = pytest.mark.deploy

TENANTS = ("acme-nz", "bobs-shoes", "c3")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One `sam build` per test session, shared by xdist workers (their base temp dirs share a parent)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    work = root / "sam-build"
    done = work / "build.done"
    with locked(f"sam-build-{root.name}"):
        if not done.exists():
            work.mkdir(exist_ok=True)
            build_stack(work)
            done.touch()
    yield work / "build"


def run_clean_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """python3.12 -I -S: no site-packages, no PYTHON* variables, no user site; only what the code adds
    to sys.path is importable (as on Lambda, where only the function and /opt/python are)."""
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "AWS_DEFAULT_REGION": REGION}
    return subprocess.run(
        [str(python312()), "-I", "-S", "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sam_venv_runs_sam_on_python312() -> None:
    sam = sam_executable()
    assert sam.is_relative_to(REPO / ".venv-sam") or os.environ.get("KUDOS_SAM_VENV")
    venv_python = sam.parent / "python"
    version = subprocess.run(
        [str(venv_python), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "(3, 12)"


def test_sam_validate_lint_passes_offline() -> None:
    done = run_sam(["validate", "--lint", "--region", REGION, "--template-file", str(TEMPLATE)], cwd=REPO)
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_sam_validate_translates_the_template_once_tenants_are_known(tmp_path: Path) -> None:
    """Without --lint, sam validate expands Fn::ForEach and runs the SAM transform. It has no way to
    pass parameters, so a copy of the template gets a Tenants default."""
    template = source_template()
    template["Parameters"]["Tenants"]["Default"] = ",".join(TENANTS)
    copy = tmp_path / "template.yaml"
    copy.write_text(yaml.safe_dump(template, sort_keys=False))
    done = run_sam(
        ["validate", "--region", REGION, "--language-extensions", "--template-file", str(copy)], cwd=tmp_path
    )
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_sam_cli_expands_foreach_into_the_same_resources_as_cfn_lint() -> None:
    """Two independent implementations of AWS::LanguageExtensions (cfn-lint's, used by the template
    tests, and SAM CLI's, which mirrors CloudFormation's) must agree on what a tenant list creates."""
    script = textwrap.dedent(
        """
        import json, sys
        from samcli.lib.cfn_language_extensions.api import process_template
        from samcli.yamlhelper import yaml_parse
        template = yaml_parse(open(sys.argv[1]).read())
        expanded = process_template(template, parameter_values={"Tenants": sys.argv[2].split(",")})
        print(json.dumps(expanded["Resources"], default=str))
        """
    )
    sam_python = sam_executable().parent / "python"
    done = subprocess.run(
        [str(sam_python), "-c", script, str(TEMPLATE), ",".join(TENANTS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    by_sam = json.loads(done.stdout)
    by_cfn_lint = expand_language_extensions(TENANTS)["Resources"]
    assert {k: v["Type"] for k, v in by_sam.items()} == {k: v["Type"] for k, v in by_cfn_lint.items()}
    for kind in ("AWS::Events::Rule", "AWS::Lambda::Permission"):
        for name, body in of_type(by_cfn_lint, kind).items():
            for key in ("Targets", "SourceArn", "FunctionName"):
                assert by_sam[name]["Properties"].get(key) == body["Properties"].get(key), (name, key)


def test_built_template_keeps_foreach_for_cloudformation_to_expand_at_deploy(built: Path) -> None:
    assert not built.is_relative_to(REPO)  # built out of tree
    text = (built / "template.yaml").read_text()
    assert "Fn::ForEach::Tenant" in text
    assert "AWS::LanguageExtensions" in text


def test_built_layer_imports_kudos_sync_in_a_clean_python312(built: Path) -> None:
    layer = layer_python_dir(built)
    assert (layer / "kudos_sync" / "__init__.py").is_file()
    done = run_clean_python(
        f"""
        import sys
        sys.path.insert(0, {str(layer)!r})
        import kudos_sync, kudos_sync.config
        import aws_lambda_powertools, pydantic, pymssql, sqlalchemy, oauthlib, requests, boto3
        print(kudos_sync.__file__)
        """,
        cwd=built,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(layer))


@pytest.mark.parametrize("direction", sorted(FUNCTION_IDS))
def test_built_handler_imports_with_the_layer_as_on_lambda(built: Path, direction: str) -> None:
    if not (REPO / "functions" / direction / "app.py").exists():
        pytest.skip(f"functions/{direction}/app.py is not written yet")
    code = function_dir(built, direction)
    assert (code / "app.py").is_file()
    done = run_clean_python(
        f"""
        import sys
        sys.path[:0] = [{str(code)!r}, {str(layer_python_dir(built))!r}]  # /var/task, then /opt/python
        import app
        assert callable(app.lambda_handler)
        print(app.__file__)
        """,
        cwd=code,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(code / "app.py")
