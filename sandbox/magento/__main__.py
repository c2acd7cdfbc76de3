"""``python -m sandbox.magento --port 8080``: serve the sandbox store until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .options import DEMO_OAUTH, FAULT_KINDS, MAGENTO_VERSIONS, OAuthCredentials, SandboxOptions, StoreView
from .runner import MagentoSandbox


def _store_view(text: str) -> StoreView:
    try:
        store_id, code, *name = text.split(":")
        return StoreView(int(store_id), code, name[0] if name else code)
    except ValueError:
        raise argparse.ArgumentTypeError("expected ID:CODE[:NAME], e.g. 2:fr:French") from None


def parse_args(argv: list[str] | None = None) -> tuple[SandboxOptions, bool]:
    """Options from the command line, and whether to log every request."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.magento", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--oauth",
        type=OAuthCredentials.parse,
        default=DEMO_OAUTH,
        metavar="CONSUMER_KEY:CONSUMER_SECRET:ACCESS_TOKEN:TOKEN_SECRET",
    )
    parser.add_argument("--bearer", dest="bearer_token", metavar="TOKEN", help="an extra bearer token")
    parser.add_argument("--allow-bearer", action="store_true", help="accept integration tokens as Bearer")
    parser.add_argument(
        "--magento-version",
        choices=MAGENTO_VERSIONS,
        default="2.4.7",
        help="behave as this release where releases differ (auth, nested unknown fields)",
    )
    parser.add_argument("--input-limits", action="store_true", help="arrays <= 20 items, pageSize <= 300")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--item-ms", type=float, default=0.0)
    parser.add_argument(
        "--workers", type=int, default=None, help="requests served at once (default 4 with costs)"
    )
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default=",".join(FAULT_KINDS), help="comma-separated kinds to inject")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slow-s", type=float, default=35.0)
    parser.add_argument(
        "--state", dest="state_file", type=Path, default=None, help="persist the store as JSON"
    )
    parser.add_argument("--record", action="store_true", help="check traffic against the 2.4.7 schema")
    parser.add_argument(
        "--store-view", action="append", type=_store_view, default=[], metavar="ID:CODE[:NAME]"
    )
    parser.add_argument("--source", action="append", default=[], metavar="CODE", help="extra MSI source")
    parser.add_argument("--strict-source-items", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    kinds = tuple(k.strip() for k in args.faults.split(",") if k.strip())
    unknown = set(kinds) - set(FAULT_KINDS)
    if unknown:
        parser.error(f"unknown fault kinds: {', '.join(sorted(unknown))}")
    options = SandboxOptions(
        host=args.host,
        port=args.port,
        oauth=args.oauth,
        bearer_token=args.bearer_token,
        allow_bearer=args.allow_bearer,
        magento_version=args.magento_version,
        input_limits=args.input_limits,
        latency_ms=args.latency_ms,
        item_ms=args.item_ms,
        workers=args.workers,
        fault_rate=args.fault_rate,
        fault_kinds=kinds,
        seed=args.seed,
        slow_s=args.slow_s,
        state_file=args.state_file,
        record=args.record,
        extra_store_views=tuple(args.store_view),
        sources=tuple(args.source),
        strict_source_items=args.strict_source_items,
    )
    return options, bool(args.verbose)


def main(argv: list[str] | None = None) -> int:
    options, verbose = parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with MagentoSandbox(options, verbose=verbose) as store:
        print(f"Magento sandbox listening on {store.base_url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
