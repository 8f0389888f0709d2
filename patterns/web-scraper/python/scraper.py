"""A concurrent crawler with aiohttp and BeautifulSoup: the Python side of patterns/web-scraper.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/web-scraper/python/scraper.py --url http://127.0.0.1:8080/site/
"""

import argparse
import asyncio
import os
from urllib.parse import urldefrag, urljoin, urlsplit

import aiohttp
from bs4 import BeautifulSoup


# ANCHOR: extract
def extract(html, base):
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text().strip() if soup.title else None
    headings = [h.get_text().strip() for h in soup.find_all(["h1", "h2", "h3"])]
    links = [urljoin(base, a["href"]) for a in soup.find_all("a", href=True)]
    return title or None, headings, links
# ANCHOR_END: extract


def origin(url):
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


# ANCHOR: crawl
async def crawl(session, start, max_pages, max_depth, concurrency, on_report):
    seen, queue, started = {urldefrag(start).url}, asyncio.Queue(), 0
    await queue.put((start, 0))
    in_flight = set()

    async def fetch(url, depth):
        report = {"url": url, "depth": depth, "status": None, "title": None, "kind": "html"}
        try:
            async with session.get(url) as response:
                report["status"] = response.status
                if response.status >= 400:
                    report["kind"] = "error_status"
                    return report, []
                if not response.content_type.startswith("text/html"):
                    report["kind"] = f"not_html: {response.content_type}"
                    return report, []
                html = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            report["kind"] = f"failed: {error!r}"
            return report, []
        report["title"], _, links = extract(html, str(response.url))
        return report, links

    while True:
        while len(in_flight) < concurrency and started < max_pages and not queue.empty():
            url, depth = queue.get_nowait()
            started += 1
            in_flight.add(asyncio.create_task(fetch(url, depth)))
        if not in_flight:
            return
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            report, links = task.result()
            on_report(report)
            if report["depth"] < max_depth:
                for link in links:
                    link = urldefrag(link).url
                    if origin(link) == origin(start) and link.startswith("http") and link not in seen:
                        seen.add(link)
                        queue.put_nowait((link, report["depth"] + 1))
# ANCHOR_END: crawl


async def main(args):
    counts = {"html": 0, "broken": 0, "other": 0}

    def on_report(report):
        kind = report["kind"]
        counts["html" if kind == "html" else "broken" if kind == "error_status" else "other"] += 1
        print(f"{report['status'] or '---'} {report['url']} {report['title'] or '(' + kind + ')'}")

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await crawl(session, args.url, args.max_pages, args.max_depth, args.concurrency, on_report)
    total = sum(counts.values())
    print(f"crawled {total} URLs: {counts['html']} pages, {counts['broken']} broken or error statuses, "
          f"{counts['other']} other")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None)
    parser.add_argument("--max-pages", type=int, default=500)
    parser.add_argument("--max-depth", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.url is None and os.environ.get("FIXTURE_URL"):
        args.url = os.environ["FIXTURE_URL"].rstrip("/") + "/site/"
    if not args.url:
        parser.error("no --url and no FIXTURE_URL: start `cargo run -p fixture-server` and pass its /site/ URL")
    asyncio.run(main(args))
