"""The layer ships what was tested: layers/kudos_sync/requirements.txt is the hash-locked resolution of
pyproject.toml's runtime dependencies (`make lock`), `sam build` installs it into the layer, and
`make install` installs it before anything else, so the test environment runs the same versions.

Fails when pyproject.toml changes and the lock is not regenerated, when a locked package is neither a
dependency nor needed by one, or when the environment under test drifted from the lock.
"""

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.sam import REPO

pytestmark = pytest.mark.deploy

LOCK = REPO / "layers" / "kudos_sync" / "requirements.txt"
PROJECT = "kudos-sync (pyproject.toml)"
# Versions with published vulnerabilities (or, for pymssql 2.3.x, TLS settings silently ignored):
# the floors in pyproject.toml must refuse each.
REFUSED = {
    "requests": ["2.32.3", "2.31.0"],  # CVE-2024-47081, CVE-2024-35195
    "urllib3": ["2.6.2", "2.5.0", "2.2.1"],  # CVE-2026-21441, CVE-2025-66471, CVE-2025-50181
    "pymssql": ["2.3.7", "2.4.5"],
    "certifi": ["2024.6.2"],  # CVE-2024-39689
}


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]


def _lock() -> dict[str, Locked]:
    """The lock's entries: `name==version`, its `--hash` options, and its `# via` annotations."""
    entries: dict[str, Locked] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        lines = [line.strip() for line in block.splitlines()]
        if not lines or lines[0].startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s\\]+)\s*\\?", lines[0])
        assert match, f"not pinned to one version: {lines[0]!r}"
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
        via: list[str] = []
        for line in lines[1:]:
            text = line.removeprefix("#").strip()
            if line.startswith("#") and text != "via":
                via.append(text.removeprefix("via ").strip())
        name = canonicalize_name(match.group(1))
        entries[name] = Locked(name, match.group(2), hashes, tuple(via))
    return entries


def _runtime() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}


def test_every_locked_package_is_pinned_with_hashes() -> None:
    lock = _lock()
    assert lock
    assert all(entry.hashes for entry in lock.values()), [n for n, e in lock.items() if not e.hashes]


def test_every_runtime_dependency_is_locked_at_a_version_it_admits() -> None:
    lock = _lock()
    missing = sorted(set(_runtime()) - set(lock))
    assert not missing, f"pyproject.toml needs {missing}: run `make lock`"
    outside = [
        f"{name}=={lock[name].version} vs {req.specifier}"
        for name, req in _runtime().items()
        if not req.specifier.contains(lock[name].version, prereleases=True)
    ]
    assert not outside, f"locked versions outside pyproject.toml's ranges: {outside}; run `make lock`"


def test_nothing_is_locked_that_no_dependency_needs() -> None:
    """A dependency dropped from pyproject.toml (pydantic-settings) must leave the lock too."""
    lock, runtime = _lock(), _runtime()
    for name, entry in lock.items():
        needed_by = {canonicalize_name(v) for v in entry.via if v != PROJECT} & set(lock)
        direct = PROJECT in entry.via
        assert direct == (name in runtime), f"{name}: lock says direct={direct}; run `make lock`"
        assert direct or needed_by, f"{name} is locked but nothing needs it; run `make lock`"


def test_the_environment_under_test_runs_the_locked_versions() -> None:
    drifted = {
        name: (entry.version, importlib.metadata.version(name))
        for name, entry in _lock().items()
        if Version(importlib.metadata.version(name)) != Version(entry.version)
    }
    assert not drifted, f"(locked, installed): {drifted}; run `make install`"


@pytest.mark.parametrize(("package", "version"), [(p, v) for p, vs in REFUSED.items() for v in vs])
def test_floors_refuse_versions_with_known_vulnerabilities(package: str, version: str) -> None:
    assert not _runtime()[package].specifier.contains(version)


def test_pydantic_is_held_to_the_tested_minor() -> None:
    spec = _runtime()["pydantic"].specifier
    tested = Version(_lock()["pydantic"].version)
    assert spec.contains(f"{tested.major}.{tested.minor}.99")
    assert not spec.contains(f"{tested.major}.{tested.minor + 1}.0")


def test_the_operator_cli_runs_on_runtime_dependencies_and_nothing_unused_is_shipped() -> None:
    runtime = _runtime()
    assert {"typer", "rich"} <= set(runtime)  # kudos-sync's command line
    assert "pydantic-settings" not in runtime and "pydantic-settings" not in _lock()
