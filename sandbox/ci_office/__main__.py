"""Seed a CI Office demo database: `python -m sandbox.ci_office --url sqlite:///ci.db --skus 200`."""

import argparse
import time

from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.ci_office.schema import drop_schema
from kudos_sync.config import CiOfficeSettings
from pydantic import SecretStr

from sandbox.ci_office.demo_data import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.ci_office", description=__doc__)
    parser.add_argument("--url", default="sqlite:///ci_office_demo.db", help="SQLAlchemy URL of the database")
    parser.add_argument("--skus", type=int, default=200, help="number of SKUs (10 to 50,000 is typical)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--anomalies", action="store_true", help="add a few messy records (no price, negative stock)"
    )
    parser.add_argument("--reset", action="store_true", help="drop the reference schema first")
    args = parser.parse_args(argv)

    engine = create_ci_office_engine(CiOfficeSettings(url=SecretStr(args.url), encrypt=False))
    try:
        if args.reset:
            drop_schema(engine)
        started = time.perf_counter()
        try:
            summary = generate(engine, args.skus, seed=args.seed, anomalies=args.anomalies)
        except ValueError as error:
            parser.exit(2, f"{error} (use --reset to start again)\n")
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    print(
        f"CI Office demo: {summary.styles} styles ({summary.internet_active_styles} Internet Active), "
        f"{summary.skus} SKUs, {summary.stock_rows} stock rows, {summary.images} images, "
        f"{summary.customers} customers, branches {', '.join(summary.branches)} "
        f"(web: {summary.web_branch}) in {seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
