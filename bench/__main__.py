"""``make bench``: every scenario prints one JSON line; the main throughput/latency line comes last."""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench import pipeline
from tests.support.kafka import bootstrap_servers


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "20000")))
    parser.add_argument(
        "--only", choices=["routing", "isolation", "scale_out", "quiet", "features", "soak", "pipeline"]
    )
    args = parser.parse_args()
    bootstrap = next(bootstrap_servers())

    if args.only in (None, "routing"):
        try:
            from bench import routing
        except ImportError as exc:  # the routing scenario lives with the router's bench
            print(f"routing scenario unavailable: {exc}", file=sys.stderr)
        else:
            routing.main()
    if args.only in (None, "isolation"):
        print(json.dumps(pipeline.isolation(bootstrap, max(1000, args.events // 4))), flush=True)
    if args.only in (None, "scale_out"):
        from bench.scale_out import scale_out

        print(json.dumps(scale_out(bootstrap, args.events)), flush=True)
    if args.only in (None, "quiet"):
        from bench.quiet import quiet

        print(json.dumps(quiet(bootstrap)), flush=True)
    if args.only in (None, "features"):
        from bench.features import features

        # As many requests as the throughput run: a tenth of the events, each to ten subscriptions.
        print(json.dumps(features(bootstrap, max(100, args.events // 10))), flush=True)
    if args.only in (None, "soak"):
        from bench.soak import soak

        print(json.dumps(soak(bootstrap)), flush=True)
    if args.only in (None, "pipeline"):
        result = pipeline.throughput(bootstrap, args.events)
        result.update(pipeline.latency(bootstrap))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
