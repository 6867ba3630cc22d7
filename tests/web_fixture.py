"""A loopback web site for the fetch and feed tests: real article pages, feeds, OPML, and web faults.

Pages are real HTML built from the seeds (examples/) and gensim's ABC texts, with navigation, a
"most read" box, a cookie banner and a footer around the ``<article>``, as news sites have. Every
static route sends an ETag and a Last-Modified and answers conditional requests with 304.

Fault routes: ``/redirect/1`` (two hops to the BBC page), ``/loop/a`` (a -> b -> a ...), ``/missing``
(404), ``/stall`` (headers never come), ``/big`` (20 MB, with Content-Length), ``/big-chunked``
(20 MB, streamed without a length), ``/doc.pdf``, ``/empty`` (200, no body), ``/clutter-only``
(navigation and footer, no article).

    with WebSite() as site:
        site.feed("/feeds/daily.xml", [site.item("/news/bbc.html", "2025-05-24T09:00:00Z")])
        site.url("/feeds/daily.xml")
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import html
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BIG = 20_000_000
_HEADER = re.compile(r"\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.*?)\n")


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None
    validators: str = "both"  # "both", "etag", "last-modified" or "none"
    modified: float = 1748080000.0  # 2025-05-24
    delay: float = 0.0  # seconds before answering (to see how many requests overlap)


@dataclass
class Item:
    path: str
    title: str
    published: str  # RFC 3339


def seed_parts(name: str) -> tuple[str, str, list[str]]:
    """(date, title, paragraphs) of a seed file: its header line, then blank-line separated paragraphs."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    m = _HEADER.match(text)
    assert m, name
    paras = [p.strip() for p in text[m.end() :].split("\n\n") if p.strip()]
    return m.group(1), m.group(2).strip(), paras


def page(title: str, paragraphs: list[str], *, date: str | None = None, site: str = "Loopback News") -> bytes:
    """A news page: the article in <article>, surrounded by the clutter trafilatura must leave out."""
    meta = f'<meta property="article:published_time" content="{date}T08:00:00+00:00">' if date else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - {site}</title>
<meta property="og:site_name" content="{site}">{meta}</head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li><li><a href="/login">Sign in</a></li>
</ul></nav><div class="cookie">We use cookies to improve your experience. Accept all cookies?</div></header>
<main><article><h1>{html.escape(title)}</h1>
{body}
</article>
<aside><h2>Most read</h2><ul><li><a href="/x1">Celebrity chef opens new restaurant</a></li>
<li><a href="/x2">Ten tips for a better night's sleep</a></li></ul></aside></main>
<footer><p>Copyright 2025 Loopback News. All rights reserved.</p><p><a href="/privacy">Privacy policy</a> ·
<a href="/terms">Terms of use</a> · <a href="/contact">Contact us</a></p></footer>
</body></html>
""".encode()


def abc_paragraphs(text: str) -> list[str]:
    """An ABC text (one line) as paragraphs of two sentences, as a web page would set it."""
    sents = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text.strip())
    return [" ".join(sents[i : i + 2]) for i in range(0, len(sents), 2)]


def rss(title: str, items: list[Item], base: str) -> bytes:
    entries = "".join(
        f"<item><title>{html.escape(i.title)}</title><link>{base}{i.path}</link>"
        f"<guid>{base}{i.path}</guid><pubDate>{_rfc2822(i.published)}</pubDate></item>"
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{html.escape(title)}</title>'
        f"<link>{base}/</link><description>Test feed</description>{entries}</channel></rss>\n"
    ).encode()


def atom(title: str, items: list[Item], base: str) -> bytes:
    entries = "".join(
        f'<entry><title>{html.escape(i.title)}</title><link href="{base}{i.path}"/><id>{base}{i.path}</id>'
        f"<updated>{i.published}</updated><published>{i.published}</published></entry>"
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html.escape(title)}</title><id>{base}/atom</id><updated>2025-05-25T10:00:00Z</updated>"
        f"{entries}</feed>\n"
    ).encode()


def json_feed(title: str, items: list[Item], base: str) -> bytes:
    import json

    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "items": [
                {"id": f"{base}{i.path}", "url": f"{base}{i.path}", "title": i.title, "date_published": i.published}
                for i in items
            ],
        }
    ).encode()


def opml(feeds: list[tuple[str, str]]) -> bytes:
    outlines = "".join(
        f'<outline text="{html.escape(t)}" title="{html.escape(t)}" type="rss" xmlUrl="{html.escape(u)}"/>'
        for t, u in feeds
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><head><title>My subscriptions</title></head>'
        f'<body><outline text="News">{outlines}</outline></body></opml>\n'
    ).encode()


def _rfc2822(rfc3339: str) -> str:
    import datetime as dt

    return email.utils.format_datetime(dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: WebSite


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK adds ~40 ms to each.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0]
        with site.lock:
            site.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
        if path == "/stall":
            site.stop.wait(30)  # never answers within any test's timeout
            return
        if path == "/big-chunked":
            self._chunked_big()
            return
        route = site.routes.get(path)
        if route is None:
            self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
            return
        if route.location is not None:
            self.send_response(route.status)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if route.delay:
            with site.lock:
                site.in_flight += 1
                site.peak_in_flight = max(site.peak_in_flight, site.in_flight)
            time.sleep(route.delay)
            with site.lock:
                site.in_flight -= 1
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(route.modified, usegmt=True)
        extra: dict[str, str] = {}
        if route.validators in ("both", "etag"):
            extra["ETag"] = etag
        if route.validators in ("both", "last-modified"):
            extra["Last-Modified"] = modified
        if self._fresh(route, etag):
            with site.lock:
                site.not_modified[path] += 1
            self.send_response(304)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with site.lock:
            site.downloads[path] += 1
        self._send(route.status, route.body, route.content_type, extra)

    def _fresh(self, route: Route, etag: str) -> bool:
        """RFC 9110: If-None-Match wins over If-Modified-Since."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return route.validators in ("both", "etag") and inm == etag
        ims = self.headers.get("If-Modified-Since")
        if ims and route.validators in ("both", "last-modified"):
            when = email.utils.parsedate_to_datetime(ims).timestamp()
            return int(route.modified) <= when
        return False

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (size cap): fine
            self.wfile.write(body)

    def _chunked_big(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
        sent = 0
        try:
            while sent < BIG:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class WebSite:
    """The loopback site. ``routes`` may be changed between runs (a feed gains an item, a page changes)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.downloads: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._build()

    def url(self, path: str) -> str:
        return self.base + path

    def _build(self) -> None:
        from conftest import lee_corpus

        for name, key, outlet in (("bbc_2025-05-24.txt", "bbc", "BBC"), ("ap_2025-05-25.txt", "ap", "AP")):
            date, title, paras = seed_parts(name)
            self.routes[f"/news/{key}.html"] = Route(page(title, paras, date=date, site=outlet))
        self.abc = lee_corpus()
        for n in range(60):  # 60 ABC pages: enough for the 50-page fetch benchmark
            text = self.abc[n]
            title = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0][:90]
            self.routes[f"/abc/{n}.html"] = Route(page(title, abc_paragraphs(text), site="ABC"))
        self.routes["/redirect/1"] = Route(b"", status=302, location="/redirect/2")
        self.routes["/redirect/2"] = Route(b"", status=301, location="/news/bbc.html")
        self.routes["/loop/a"] = Route(b"", status=302, location="/loop/b")
        self.routes["/loop/b"] = Route(b"", status=302, location="/loop/a")
        self.routes["/big"] = Route(b"<html><body>" + b"<p>filler text</p>" * (BIG // 18) + b"</body></html>")
        self.routes["/doc.pdf"] = Route(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "application/pdf")
        self.routes["/empty"] = Route(b"")
        self.routes["/clutter-only"] = Route(page("Nothing here", [], site="Loopback News"))

    def item(self, path: str, published: str, title: str | None = None) -> Item:
        return Item(path=path, title=title or self.title_of(path), published=published)

    def title_of(self, path: str) -> str:
        m = re.search(rb"<h1>(.*?)</h1>", self.routes[path].body)
        return html.unescape(m.group(1).decode()) if m else path

    def feed(self, path: str, items: list[Item], *, title: str = "Loopback Daily", kind: str = "rss") -> str:
        maker = {"rss": rss, "atom": atom, "json": json_feed}[kind]
        ctype = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}[kind]
        self.routes[path] = Route(maker(title, items, self.base), ctype, modified=time.time())
        return self.url(path)

    def opml(self, path: str, feeds: list[tuple[str, str]]) -> str:
        self.routes[path] = Route(opml(feeds), "text/x-opml")
        return self.url(path)

    def __enter__(self) -> WebSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(name="site")
def site_fixture() -> Iterator[WebSite]:
    """The loopback site, started for one test. Import ``site_fixture`` to use the ``site`` fixture."""
    with WebSite() as s:
        yield s
