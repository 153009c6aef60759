"""``python -m bench.micro [name ...]``: one JSON line per comparison (see bench/micro/__init__.py)."""

from __future__ import annotations

import argparse
import json

from bench.micro import measure
from bench.micro.cases import CASES


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.micro")
    parser.add_argument("names", nargs="*", help=f"comparisons to run, of {', '.join(CASES)} (default: all)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    unknown = set(args.names) - set(CASES)
    if unknown:
        parser.error(f"unknown comparisons: {', '.join(sorted(unknown))}")
    for name in args.names or CASES:
        print(json.dumps(measure(CASES[name](), args.rounds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
