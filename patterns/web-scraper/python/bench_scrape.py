"""The scrape benchmark's Python side: crawl a site with scraper.py's aiohttp + BeautifulSoup
crawler, report pages per second, and write every (path, title) for the harness to compare.

Run: python patterns/web-scraper/python/bench_scrape.py --url http://127.0.0.1:8080/site/ --items 300
"""

import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[2] / "crates/bench-harness/python"))
sys.path.insert(0, str(here))
import bench_harness  # noqa: E402  (found through the lines above)
from scraper import crawl  # noqa: E402  (the same crawler the reference runs)


async def run(url, max_pages, concurrency):
    reports = []
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await crawl(session, url, max_pages, 100, concurrency, reports.append)
        return reports, time.perf_counter() - started


def main():
    parser = bench_harness.arguments(__doc__, items=300)
    # The page to start from, kept as given (a base URL's trailing slash is dropped; this
    # one's is part of the page).
    parser.add_argument("--url", dest="start", required=True, help="the page to start from")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--titles-out", default=None)
    args = bench_harness.parse(parser)
    reports = []

    def run_once():
        nonlocal reports
        reports, secs = bench_harness.run_on(args.loop, run(args.start, args.items, args.concurrency))
        return secs

    durations = bench_harness.repeat(args, run_once)
    pages = [r for r in reports if r["kind"] == "html"]
    assert pages, f"no HTML page found from {args.start}"
    if args.titles_out:
        with open(args.titles_out, "w") as out:
            for r in pages:
                out.write(json.dumps([urlsplit(r["url"]).path, r["title"]]) + "\n")
    bench_harness.emit(args, "scrape", "python-aiohttp-beautifulsoup", len(pages), durations)

if __name__ == "__main__":
    main()
