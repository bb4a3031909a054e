"""`python -m chaos` (what `make chaos` runs): appeals go through their whole life over HTTP on a
private stack while its worker, Temporal dev server, PostgreSQL and API are SIGKILLed and
restarted one at a time; then every appeal is checked. Exits 1 when a check fails."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from chaos.run import Config, render, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Config()
    parser.add_argument("-n", "--appeals", type=int, default=defaults.appeals, help="appeals in all")
    parser.add_argument("-r", "--rounds", type=int, default=defaults.rounds, help="rounds of faults; each kills every piece once")
    parser.add_argument("-c", "--concurrency", type=int, default=defaults.concurrency, help="appeals in flight")
    parser.add_argument("--hold", type=float, default=defaults.hold, help="seconds a killed piece stays down")
    parser.add_argument("--recovery-timeout", type=float, default=defaults.recovery_timeout)
    parser.add_argument("--seed", type=int, help="the order of the pieces in rounds after the first")
    parser.add_argument("--data-dir", type=Path, help="default: a temporary folder, deleted after a clean run")
    args = parser.parse_args(argv)
    if args.appeals < 1 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--appeals, --rounds and --concurrency must be at least 1")
    config = Config(
        appeals=args.appeals, rounds=args.rounds, concurrency=args.concurrency, hold=args.hold,
        recovery_timeout=args.recovery_timeout, seed=args.seed, data_dir=args.data_dir,
    )
    report = asyncio.run(run(config))
    print(render(report), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
