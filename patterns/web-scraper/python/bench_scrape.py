"""The scrape benchmark's Python side: crawl a site with scraper.py's aiohttp + BeautifulSoup
crawler, report pages per second, and write every (path, title) for the harness to compare.

Run: python patterns/web-scraper/python/bench_scrape.py --url http://127.0.0.1:8080/site/ --items 300
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from urllib.parse import urlsplit

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scraper import crawl  # noqa: E402  (the same crawler the reference runs)
import uvloop


async def run(url, max_pages, concurrency):
    reports = []
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await crawl(session, url, max_pages, 100, concurrency, reports.append)
        return reports, time.perf_counter() - started


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("--items", type=int, default=300, help="the most URLs to fetch")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--titles-out", default=None)
    args = parser.parse_args()
    if args.url is None and os.environ.get("FIXTURE_URL"):
        args.url = os.environ["FIXTURE_URL"].rstrip("/") + "/site/"
    if not args.url:
        parser.error("no --url and no FIXTURE_URL")
    durations, pages = [], 0
    for _ in range(args.runs):
        reports, secs = run_on(args.loop, run(args.url, args.items, args.concurrency))
        durations.append(secs)
        pages = sum(1 for r in reports if r["kind"] == "html")
    if args.titles_out:
        with open(args.titles_out, "w") as out:
            for r in reports:
                if r["kind"] == "html":
                    out.write(json.dumps([urlsplit(r["url"]).path, r["title"]]) + "\n")
    secs = statistics.median_low(durations)
    print(json.dumps({
        "workload": "scrape", "variant": "python-aiohttp-beautifulsoup", "items": pages, "secs": secs,
        "per_sec": pages / secs, "runs": args.runs, "runtime": args.loop, "allocator": "pymalloc",
    }))


if __name__ == "__main__":
    main()
