"""`make local`: the stack on this machine, for trying every operator command as documented.

Starts local AWS (moto server: the state table built from template.yaml, the image bucket, the tenant's
secret), a Magento 2.4 sandbox and a seeded SQLite CI Office under `.local/`, prints the environment to
export (also written to `.local/env`), and runs until Ctrl-C. Everything listens on 127.0.0.1.

    make local                     # or: python -m sandbox.local --tenant demo --skus 120
    source .local/env              # in another terminal
    kudos-sync check --tenant demo
"""

import argparse
import shlex
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kudos_sync.ci_office import schema as ci
from kudos_sync.domain.ids import validate_tenant_id
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from sandbox.aws import LocalAws
from sandbox.ci_office import demo_data
from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.tenant import DEMO_BRANCH_SOURCES, local_tenant_secret

LOCAL_DIR = Path(".local")
# What the operator's shell needs: where AWS is, fake credentials for it, and the stack's outputs.
EXPORTED = (
    "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "KUDOS_STATE_TABLE",
    "KUDOS_IMAGE_BUCKET",
)


@dataclass
class LocalStack:
    """One tenant on local AWS, a Magento sandbox and a seeded CI Office."""

    tenant: str
    aws: LocalAws
    store: MagentoSandbox
    engine: Engine
    ci_url: str

    def environment(self) -> dict[str, str]:
        """The variables to export so `kudos-sync` talks to this stack."""
        return aws_environment(self.aws)

    def exports(self) -> str:
        return exports(self.environment())


@contextmanager
def local_stack(
    directory: Path = LOCAL_DIR, *, tenant: str = "demo", skus: int = 120, seed: int = 7
) -> Iterator[LocalStack]:
    """Start everything (a fresh `directory`), yield it, stop everything on exit."""
    tenant = validate_tenant_id(tenant)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    # Absolute: the secret is read by commands started from any directory.
    ci_url = f"sqlite:///{(directory / 'ci_office.db').resolve()}"
    engine = create_engine(ci_url)
    ci.create_schema(engine)
    demo_data.generate(engine, skus, seed)
    options = SandboxOptions(
        sources=tuple(DEMO_BRANCH_SOURCES.values()), state_file=directory / "magento.json"
    )
    try:
        with LocalAws() as aws, MagentoSandbox(options) as store:
            aws.put_tenant_secret(tenant, local_tenant_secret(store.base_url, ci_url))
            yield LocalStack(tenant, aws, store, engine, ci_url)
    finally:
        engine.dispose()


def next_steps(tenant: str) -> list[str]:
    """The commands to try, in the order an operator meets them (docs/operations.md)."""
    return [
        f"kudos-sync check --tenant {tenant}",
        f"kudos-sync plan --tenant {tenant}",
        f"kudos-sync run --tenant {tenant} --direction push",
        "kudos-sync status --all",
        f"kudos-sync parked list --tenant {tenant}",
        f"kudos-sync run --tenant {tenant} --direction pull",
    ]


def aws_environment(aws: LocalAws) -> dict[str, str]:
    """The variables to export so `kudos-sync` talks to this local AWS."""
    return {
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_DEFAULT_REGION": aws.region,
        "AWS_REGION": aws.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "KUDOS_STATE_TABLE": aws.table_name,
        "KUDOS_IMAGE_BUCKET": aws.bucket,
    }


def exports(environment: dict[str, str]) -> str:
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in environment.items())


def serve_until_interrupted(
    environment: dict[str, str], tenant: str, env_file: Path, header: list[str]
) -> None:
    """Print what is running, the environment (also written to `env_file`) and the commands to try;
    return on Ctrl-C or SIGTERM."""
    env_file.write_text(exports(environment) + "\n", encoding="utf-8")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for line in header:
        print(line)
    print(f"\nIn another terminal, export this (or `source {env_file}`):\n")
    print(exports(environment))
    print("\nThen try:\n")
    for command in next_steps(tenant):
        print(f"  {command}")
    print(flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", default="demo", help="tenant id of the local retailer (default demo)")
    parser.add_argument("--skus", type=int, default=120, help="SKUs in the CI Office catalogue")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=LOCAL_DIR, help="where the databases live (.local)")
    args = parser.parse_args(argv)
    with local_stack(args.dir, tenant=args.tenant, skus=args.skus, seed=args.seed) as stack:
        serve_until_interrupted(
            stack.environment(),
            stack.tenant,
            args.dir / "env",
            [
                f"Local stack for tenant {stack.tenant} is up (Ctrl-C stops it):",
                f"  Magento sandbox  {stack.store.base_url}",
                f"  local AWS        {stack.aws.endpoint_url}  table {stack.aws.table_name}",
                f"  CI Office        {stack.ci_url}",
            ],
        )
    print("Local stack stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
