"""What every Python benchmark shares with the Rust harness (crates/bench-harness).

The harness runs `python/bench_<workload>.py --items N --runs R --loop asyncio|uvloop`
(plus --url for the workloads that need the fixture server) and reads back one JSON
record per line. This module holds those flags, the event loop choice and the record, so
a benchmark script holds only its workload. Scripts find it through their own path:

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
    import bench_harness
"""

import argparse
import asyncio
import json
import os
import statistics
import time

import uvloop


def arguments(doc: str, items: int, url: bool = False) -> argparse.ArgumentParser:
    """A parser with the harness's flags; add the workload's own to it."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=items)
    parser.add_argument("--runs", type=int, default=5, help="runs after one warm-up run")
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    if url:
        parser.add_argument("--url", default=os.environ.get("FIXTURE_URL"),
                            help="the fixture server's base URL (default: $FIXTURE_URL)")
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The parsed flags; a missing --url is an error where the parser has one."""
    args = parser.parse_args()
    if hasattr(args, "url"):
        if not args.url:
            parser.error("no --url and no FIXTURE_URL")
        args.url = args.url.rstrip("/")
    return args


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def timed(event_loop: str, coroutine):
    """Runs `coroutine` on a fresh loop; returns (seconds, its result)."""
    started = time.perf_counter()
    result = run_on(event_loop, coroutine)
    return time.perf_counter() - started, result


def repeat(args: argparse.Namespace, run_once) -> list:
    """Calls `run_once()` args.runs + 1 times and drops the first, a warm-up, as the Rust
    side does; returns what the counted calls returned (their durations)."""
    return [run_once() for _ in range(args.runs + 1)][1:]


def measure(args: argparse.Namespace, make, expect, lost: str) -> list:
    """Runs the coroutine `make()` returns on a fresh loop, as `repeat` counts, and fails
    with `lost` when its result is not `expect`; returns the counted durations. The Rust
    side's `measure` with its check."""
    def run_once():
        secs, result = timed(args.loop, make())
        assert result == expect, f"{lost}: {result!r}, expected {expect!r}"
        return secs

    return repeat(args, run_once)


def emit(args: argparse.Namespace, workload: str, variant: str, items: int, durations: list, **extra) -> None:
    """Prints one record: the lower median of `durations`, as the Rust side reports it."""
    secs = statistics.median_low(durations)
    print(json.dumps({
        "workload": workload, "variant": variant, "items": items, "secs": secs,
        "per_sec": items / secs, "runs": len(durations),
        "fastest_secs": min(durations), "slowest_secs": max(durations), "runtime": args.loop,
        "allocator": "pymalloc", **extra,
    }), flush=True)
