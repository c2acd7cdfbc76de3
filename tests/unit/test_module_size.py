"""The module-size check `make lint` runs: the layer's modules stay readable in one sitting."""

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def size_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_module_size", ROOT / "scripts" / "check_module_size.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_given_modules_at_and_over_the_limit_then_only_those_over_it_and_not_allowed_are_named(
    tmp_path: Path,
) -> None:
    check = size_check()
    package = tmp_path / "kudos_sync" / "sync"
    package.mkdir(parents=True)
    (package / "at_limit.py").write_text("x = 1\n" * 450)
    (package / "over.py").write_text("x = 1\n" * 451)
    (package / "splitting.py").write_text("x = 1\n" * 2000)  # on the allow-list while it is split
    allowed = frozenset({"kudos_sync/sync/splitting.py"})
    assert check.oversize_modules(tmp_path, allowed=allowed) == [("kudos_sync/sync/over.py", 451)]


def test_given_the_layer_today_then_no_module_outside_the_allow_list_is_over_the_limit() -> None:
    assert size_check().oversize_modules() == []
