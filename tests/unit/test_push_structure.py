"""The push wing keeps its shape: the core imports no adapter or I/O library, and no module of the push
grows past the size a reader takes in at once (about 400 lines, 450 at most)."""

import ast
from pathlib import Path

import pytest

LAYER = Path(__file__).parents[2] / "layers" / "kudos_sync" / "kudos_sync"
CORE = sorted([*LAYER.glob("domain/*.py"), *LAYER.glob("sync/*.py"), *LAYER.glob("sync/push/*.py")])
PUSH_WING = sorted(
    [
        *LAYER.glob("sync/push/*.py"),
        LAYER / "sync" / "binding_writer.py",
        LAYER / "sync" / "ports.py",
        *(LAYER / "domain" / name for name in ("push_mapping.py", "push_rules.py", "push_checks.py")),
        *(LAYER / "domain" / name for name in ("push_fingerprints.py", "desired.py", "binding_codec.py")),
        *(LAYER / "domain" / name for name in ("bulk.py", "fingerprint.py", "state.py", "catalogue.py")),
        *LAYER.glob("magento/catalog*.py"),
        LAYER / "magento" / "media.py",
        LAYER / "magento" / "product_body.py",
    ]
)
FORBIDDEN = (
    "kudos_sync.aws",
    "kudos_sync.magento",
    "kudos_sync.ci_office",
    "kudos_sync.service",
    "kudos_sync.cli",
    "kudos_sync.handler",
    "boto3",
    "botocore",
    "requests",
    "sqlalchemy",
    "pymssql",
)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(LAYER)))
def test_the_core_imports_no_adapter_and_no_io_library(path: Path) -> None:
    bad = sorted(n for n in imported(path) if any(n == f or n.startswith(f"{f}.") for f in FORBIDDEN))
    assert bad == [], f"{path.relative_to(LAYER)} imports {bad}"


@pytest.mark.parametrize("path", PUSH_WING, ids=lambda p: str(p.relative_to(LAYER)))
def test_no_module_of_the_push_wing_outgrows_a_reading(path: Path) -> None:
    assert path.exists()
    assert len(path.read_text("utf-8").splitlines()) <= 400
