"""What fetching 50 pages costs, cold and warm cache, from the loopback site of the tests.

    python benchmarks/bench_fetch.py [--pages 50] [--latency 0.05] [--repeat 3]

The pages are the fixture's real ABC article pages (with navigation and footer clutter). "cold" starts
from an empty page cache (every page downloaded); "warm" runs again on the filled cache (every page
revalidated with If-None-Match and answered 304). The site runs in a separate process. "extract"
is trafilatura + htmldate on the 50 bodies (the load stage's own code). ``--latency`` adds a server
delay per response, as a real site has; concurrency is the default (8 in flight, 2 per host: a polite
client to one site).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def serve(latency: float, pages: int, conn: Any) -> None:
    """The loopback site in its own process: the client's figures do not include the server's work."""
    from web_fixture import WebSite

    with WebSite() as site:
        for n in range(pages):
            site.routes[f"/abc/{n}.html"].delay = latency
        size = sum(len(site.routes[f"/abc/{n}.html"].body) for n in range(pages))
        conn.send((site.base, size))
        conn.recv()  # until the benchmark is done with this latency


def main() -> None:
    import multiprocessing as mp

    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--latency", type=float, nargs="*", default=[0.0, 0.05])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from summarizer.article import article_from_text
    from summarizer.fetch import FetchOptions, fetch_sync

    print(f"{'latency':>8} | {'cold (s)':>9} | {'warm (s)':>9} | {'cold MB':>7} | {'warm MB':>7} | warm 304s")
    for latency in args.latency:
        here, there = mp.Pipe()
        server = mp.Process(target=serve, args=(latency, args.pages, there), daemon=True)
        server.start()
        base, size = here.recv()
        urls = [f"{base}/abc/{n}.html" for n in range(args.pages)]
        cold_t, warm_t = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                opts = FetchOptions(cache_dir=Path(tmp))
                t0 = time.perf_counter()
                _, cold = fetch_sync(urls, options=opts)
                t1 = time.perf_counter()
                got, warm = fetch_sync(urls, options=opts)
                t2 = time.perf_counter()
            assert cold.downloaded == args.pages and warm.not_modified == args.pages, (cold, warm)
            cold_t.append(t1 - t0)
            warm_t.append(t2 - t1)
        here.send("done")
        server.join(10)
        print(
            f"{latency * 1000:>6.0f}ms | {statistics.median(cold_t):>9.3f} | {statistics.median(warm_t):>9.3f} |"
            f" {cold.bytes / 1e6:>7.2f} | {warm.bytes / 1e6:>7.2f} | {warm.not_modified}/{args.pages}"
        )
    print(f"{args.pages} pages, {size / 1e6:.2f} MB of HTML, loopback; default bounds (8 at once, 2 per host)")
    t0 = time.perf_counter()
    for f in got.values():
        article_from_text(f.text(), f.url, html=True)
    print(f"extract (trafilatura + htmldate), {args.pages} pages: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
