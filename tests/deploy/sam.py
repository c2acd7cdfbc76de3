"""The SAM CLI for tests: its own virtual environment (.venv-sam) and an out-of-tree `sam build`.

SAM CLI pins its own pydantic, so it cannot live in .venv. `sam_executable()` creates .venv-sam on
first use through scripts/sam-venv.sh (about half a minute) under an inter-process lock, so pytest-xdist
workers never build it twice. `build_stack(tmp_dir)` runs `sam build` into tmp_dir and returns the build
directory (template.yaml, KudosSyncLayer/python), leaving the source tree
untouched (SAM's own caches live in .venv-sam/build-cache).
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
# One nested stack per tenant is created from this template (template.yaml's Fn::ForEach::Tenant).
TENANT_TEMPLATE = REPO / "templates" / "tenant.yaml"
BUILD_CACHE = REPO / ".venv-sam" / "build-cache"
LAYER_ID = "KudosSyncLayer"

# The built template keeps Fn::ForEach (CloudFormation expands it at deploy with the real Tenants);
# `sam build` only has to expand it to find the layer and nested stacks, so any valid tenant id will do.
BUILD_TENANTS = "build-check"


class SamCommandError(RuntimeError):
    """A SAM CLI command failed; the message carries the end of its output."""


@contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process testing this checkout (xdist workers included)."""
    digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"kudos-sync-{digest}-{name}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cache
def python312() -> Path:
    """The Python 3.12 interpreter scripts/find-python312.sh finds (the one .venv is built from)."""
    found = subprocess.run(
        [str(REPO / "scripts" / "find-python312.sh")], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise SamCommandError(found.stderr.strip() or "scripts/find-python312.sh found no Python 3.12")
    return Path(found.stdout.strip())


def sam_env() -> dict[str, str]:
    """Environment for SAM commands: no telemetry, no real AWS profile, and python3.12 first on PATH
    (the python3.12 build workflow runs whichever `python3.12` it finds there)."""
    dropped = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "AWS_PROFILE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["SAM_CLI_TELEMETRY"] = "0"
    env["PATH"] = os.pathsep.join([str(python312().parent), env.get("PATH", "")])
    return env


def sam_executable() -> Path:
    """Path of `sam` in .venv-sam, creating the virtual environment on first use."""
    with locked("sam-venv"):
        made = subprocess.run(
            [str(REPO / "scripts" / "sam-venv.sh")],
            capture_output=True,
            text=True,
            env=sam_env(),
            timeout=900,
            check=False,
        )
    if made.returncode != 0:
        raise SamCommandError(f"scripts/sam-venv.sh failed:\n{_tail(made.stdout)}\n{_tail(made.stderr)}")
    return Path(made.stdout.strip().splitlines()[-1])


def run_sam(
    args: Sequence[str], cwd: Path, timeout: float = 600, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `sam <args>` from .venv-sam; raise SamCommandError (with its output) when it fails."""
    done = subprocess.run(
        [str(sam_executable()), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**sam_env(), **(extra_env or {})},
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SamCommandError(f"sam {' '.join(args)} failed:\n{_tail(done.stdout)}\n{_tail(done.stderr)}")
    return done


def build_stack(tmp_dir: Path) -> Path:
    """`sam build` the stack (no container) and return tmp_dir/build, a private copy of the result.

    Layout: template.yaml, KudosSyncLayer/python/ (kudos_sync and its requirements); each tenant's
    functions carry their three-line handler inline (templates/tenant.yaml). The build itself runs
    cached in .venv-sam/build-cache (its working directory, so SAM's .aws-sam/ bookkeeping lands
    there, not in the source tree): while layers/kudos_sync/requirements.txt is unchanged, a rebuild
    reuses the installed dependencies and only copies the sources again. Delete .venv-sam/build-cache
    (or .venv-sam) to force a clean build.
    """
    destination = Path(tmp_dir) / "build"
    with locked("sam-build"):
        work = BUILD_CACHE
        work.mkdir(parents=True, exist_ok=True)
        run_sam(
            [
                "build",
                "--template-file", str(TEMPLATE),
                "--build-dir", str(work / "build"),
                "--cache-dir", str(work / "cache"),
                "--cached",
                "--no-use-container",
                "--language-extensions",
                "--parameter-overrides", f"Tenants={BUILD_TENANTS}",
            ],
            cwd=work,
            timeout=900,
        )  # fmt: skip
        # Hard links: instant, and safe because nothing edits built files in place (Python writes
        # new .pyc files beside them). Falls back to copying across file systems.
        try:
            shutil.copytree(work / "build", destination, symlinks=True, copy_function=os.link)
        except OSError:
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(work / "build", destination, symlinks=True)
    return destination


def layer_python_dir(build_dir: Path) -> Path:
    """Where the built layer's importable packages are (Lambda mounts it as /opt/python)."""
    return build_dir / LAYER_ID / "python"


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
