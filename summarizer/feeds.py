"""Feeds, OPML and article URLs in; Articles out.

* RSS 2.0 and Atom are parsed with feedparser. feedparser 6.0 does not read JSON Feed, so JSON Feed
  (https://jsonfeed.org, version 1 and 1.1) is read with :mod:`json`; it is small and fully specified.
* OPML (the subscription list feed readers export) is read with the standard library's XML parser:
  every ``<outline xmlUrl=...>`` at any depth is a feed.
* Each feed entry's link is fetched (see :mod:`summarizer.fetch`); the title, date and outlet come from
  the entry and its feed, the text from the page (trafilatura, in :mod:`summarizer.load`).
* With a ``since`` cut-off, entries dated before it are not fetched at all; undated ones are.

Nothing here raises for a bad input: it becomes an :class:`InputError` with a one-line reason.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from summarizer.fetch import FEED_TYPES, PAGE_TYPES, Fetched, FetchOptions, FetchStats, fetch_sync, is_url
from summarizer.models import Article, InputError, LoadResult

__all__ = [
    "FEED_SUFFIXES",
    "Feed",
    "FeedEntry",
    "WebLoad",
    "apply_window",
    "is_web_input",
    "load_web",
    "parse_feed",
    "parse_opml",
    "sniff",
    "write_sources",
]

FEED_SUFFIXES = frozenset({".rss", ".atom", ".xml", ".opml", ".json"})
Kind = Literal["opml", "feed", "json_feed"]
_MAX_FEED_BYTES = 10_000_000
MIN_PAGE_WORDS = 30  # fewer words than this after extraction: navigation and captions, not an article


@dataclass
class FeedEntry:
    link: str
    title: str | None = None
    published: dt.datetime | None = None  # aware, UTC


@dataclass
class Feed:
    title: str | None
    entries: list[FeedEntry]
    kind: str  # "rss20", "atom10", "json1", ... (feedparser's version names; "json1" for JSON Feed)


@dataclass
class WebLoad:
    """What the web inputs gave, per input spec in the order given."""

    items: dict[str, list[Article | InputError]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stats: FetchStats = field(default_factory=FetchStats)


# ---------------------------------------------------------------- recognising and parsing


def sniff(data: bytes) -> Kind | None:
    """What a body is: OPML, an RSS/Atom feed, a JSON Feed, or None (a page or anything else)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return "json_feed" if b"jsonfeed.org/version" in head.replace(b"\\/", b"/") else None
    if b"<opml" in head:
        return "opml"
    if head.startswith((b"<!doctype html", b"<html")):
        return None
    if any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf")):
        return "feed"
    return None


def is_web_input(spec: str) -> bool:
    """A URL, or a file that is a feed or an OPML list (named explicitly; directories stay text)."""
    if is_url(spec):
        return True
    if os.path.splitext(spec)[1].lower() not in FEED_SUFFIXES or not os.path.isfile(spec):
        return False
    try:
        with open(spec, "rb") as fh:
            return sniff(fh.read(4096)) is not None
    except OSError:
        return False


def _utc(parsed: Any) -> dt.datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)


def parse_feed(data: bytes, base_url: str = "") -> Feed:
    """An RSS/Atom feed (feedparser) or a JSON Feed. Raises ValueError when it is neither."""
    if sniff(data) == "json_feed":
        return _parse_json_feed(data, base_url)
    import feedparser  # heavy-ish (sgmllib shim, sanitizer): only when a feed shows up

    parsed = feedparser.parse(data, response_headers={"content-location": base_url} if base_url else None)
    if not parsed.get("version") and not parsed.entries:
        reason = str(parsed.get("bozo_exception") or "not RSS, Atom or JSON Feed")
        raise ValueError(f"not a feed ({reason})")
    entries = []
    for e in parsed.entries:
        link = e.get("link") or next((lk.get("href") for lk in e.get("links", []) if lk.get("href")), None)
        if not link:
            continue
        entries.append(
            FeedEntry(
                link=urljoin(base_url, link) if base_url else link,
                title=(e.get("title") or "").strip() or None,
                published=_utc(e.get("published_parsed") or e.get("updated_parsed")),
            )
        )
    title = (parsed.feed.get("title") or "").strip() or None
    return Feed(title=title, entries=entries, kind=parsed.get("version") or "unknown")


def _parse_json_feed(data: bytes, base_url: str) -> Feed:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"invalid JSON Feed ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ValueError("invalid JSON Feed (no items list)")
    entries = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link:
            continue
        published = None
        for key in ("date_published", "date_modified"):
            value = item.get(key)
            if isinstance(value, str):
                try:  # RFC 3339, which fromisoformat reads since Python 3.11
                    when = dt.datetime.fromisoformat(value)
                except ValueError:
                    continue
                published = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
                break
        title = item.get("title")
        entries.append(
            FeedEntry(
                link=urljoin(base_url, link) if base_url else link,
                title=title.strip() if isinstance(title, str) and title.strip() else None,
                published=published,
            )
        )
    name = doc.get("title")
    version = str(doc.get("version", "")).rstrip("/").rsplit("/", 1)[-1]
    return Feed(title=name if isinstance(name, str) else None, entries=entries, kind=f"json{version}")


def parse_opml(data: bytes, base: str = "") -> list[str]:
    """The feed URLs (``xmlUrl``) an OPML file lists, at any depth, in document order."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"invalid OPML ({exc})") from None
    if root.tag.lower() != "opml":
        raise ValueError("not OPML (no <opml> root)")
    urls = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            urls.append(_resolve(base, url.strip()))
    if not urls:
        raise ValueError("OPML lists no feeds (no outline has an xmlUrl)")
    return list(dict.fromkeys(urls))


def _resolve(base: str, ref: str) -> str:
    """A reference inside a feed or OPML: relative to a URL, or to a file's folder."""
    if is_url(ref) or not base:
        return ref
    if is_url(base):
        return urljoin(base, ref)
    return os.path.join(os.path.dirname(base), ref)


# ---------------------------------------------------------------- the web load


def _read_local(path: str) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > _MAX_FEED_BYTES:
            raise ValueError(f"{size / 1e6:.1f} MB is larger than the {_MAX_FEED_BYTES / 1e6:.1f} MB feed limit")
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from None


@dataclass
class _Source:
    """A feed (or a page named directly) and what its entries contribute."""

    spec: str
    feed: Feed | None = None
    error: str | None = None


def load_web(specs: Sequence[str], *, options: FetchOptions | None = None, since: dt.datetime | None = None) -> WebLoad:
    """Resolve URLs, feeds and OPML lists to Articles (ids unset; the load stage numbers them)."""
    opts = options or FetchOptions()
    out = WebLoad(items={s: [] for s in specs})

    def fetch(urls: Sequence[str], accept: frozenset[str]) -> dict[str, Fetched]:
        got, stats = fetch_sync(urls, accept=accept, options=opts)
        out.stats.downloaded += stats.downloaded
        out.stats.not_modified += stats.not_modified
        out.stats.failed += stats.failed
        out.stats.bytes += stats.bytes
        return got

    # 1. The inputs themselves: local files are read, URLs fetched (a URL may be a page or a feed).
    bodies: dict[str, tuple[bytes, str, Fetched | None]] = {}
    first = fetch([s for s in specs if is_url(s)], FEED_TYPES | PAGE_TYPES)
    for spec in specs:
        if is_url(spec):
            f = first[spec]
            if f.error:
                out.items[spec].append(InputError(path=spec, reason=f.error))
                continue
            bodies[spec] = (f.body, f.final_url or spec, f)
        else:
            try:
                bodies[spec] = (_read_local(spec), spec, None)
            except ValueError as exc:
                out.items[spec].append(InputError(path=spec, reason=str(exc)))

    # 2. OPML lists name feeds; feeds (direct or listed) name pages; anything else is a page itself.
    feeds_of: dict[str, list[str]] = {}  # spec -> feed locations
    pages_of: dict[str, list[tuple[str, FeedEntry | None, str | None]]] = {s: [] for s in specs}
    direct_pages: dict[str, Fetched] = {}
    for spec, (body, where, fetched) in bodies.items():
        kind = sniff(body)
        if kind == "opml":
            try:
                feeds_of[spec] = parse_opml(body, where)
            except ValueError as exc:
                out.items[spec].append(InputError(path=spec, reason=str(exc)))
        elif kind in ("feed", "json_feed"):
            feeds_of[spec] = [where]
        elif fetched is not None:
            direct_pages[spec] = fetched
        else:
            out.items[spec].append(InputError(path=spec, reason="not a feed or OPML file"))
    known = {where: body for body, where, _ in bodies.values()}  # feeds given directly: already read
    listed = [u for locs in feeds_of.values() for u in locs if is_url(u) and u not in known]
    feed_bodies = fetch(listed, FEED_TYPES)
    for spec, locations in feeds_of.items():
        for loc in locations:
            try:
                if loc in known:
                    body = known[loc]
                elif loc in feed_bodies:
                    if feed_bodies[loc].error:
                        raise ValueError(feed_bodies[loc].error)
                    body = feed_bodies[loc].body
                else:
                    body = _read_local(loc)
                feed = parse_feed(body, loc if is_url(loc) else "")
            except ValueError as exc:
                out.items[spec].append(InputError(path=loc, reason=str(exc)))
                continue
            outlet = feed.title or urlsplit(loc).netloc or os.path.basename(loc)
            old = 0
            for entry in feed.entries:
                if since is not None and entry.published is not None and entry.published < since:
                    old += 1
                    continue
                pages_of[spec].append((entry.link, entry, outlet))
            if old:
                out.notes.append(f"{loc}: {old} entr{'ies' if old != 1 else 'y'} older than --since, not fetched")

    # 3. Every page, fetched at once (bounded per host), then reduced to its article text.
    page_urls = [u for lst in pages_of.values() for u, _, _ in lst if u not in direct_pages]
    pages = fetch(page_urls, PAGE_TYPES)
    for spec in specs:
        if spec in direct_pages:
            out.items[spec].append(_page_article(direct_pages[spec], None, None))
        for page_url, from_entry, by in pages_of[spec]:
            fetched = pages[page_url] if page_url in pages else direct_pages[page_url]  # also named directly
            out.items[spec].append(_page_article(fetched, from_entry, by))
    return out


def _page_article(page: Fetched, entry: FeedEntry | None, outlet: str | None) -> Article | InputError:
    from summarizer.article import article_from_text

    if page.error:
        return InputError(path=page.url, reason=page.error)
    if not page.body.strip():
        return InputError(path=page.url, reason="empty page (no content)")
    media = page.content_type.split(";", 1)[0].strip().lower()
    try:
        article = article_from_text(page.text(), page.url, html=media != "text/plain")
    except ValueError as exc:
        return InputError(path=page.url, reason=str(exc))
    words = len(article.text.split())
    if words < MIN_PAGE_WORDS:
        # trafilatura falls back to whatever text a page has; menus and a cookie banner are not an article.
        return InputError(path=page.url, reason=f"no article text found in the page (only {words} words)")
    url = page.final_url or page.url
    article.url = url
    article.outlet = outlet or urlsplit(url).netloc
    if entry is not None:
        if entry.title:
            article.title = " ".join(entry.title.split())
        if entry.published is not None:
            article.date = entry.published.date()
    article.notes.append(f"fetched from {url}" + (" (not modified since the last fetch)" if page.from_cache else ""))
    return article


# ---------------------------------------------------------------- the day's window

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(value: str, now: dt.datetime | None = None) -> dt.datetime:
    """``24h``, ``90m``, ``2d``, ``1w`` back from ``now``, or an ISO date / date-time (UTC if no zone)."""
    now = now or dt.datetime.now(dt.UTC)
    v = value.strip().lower()
    if len(v) > 1 and v[-1] in _UNITS and v[:-1].isdigit():
        return now - dt.timedelta(seconds=int(v[:-1]) * _UNITS[v[-1]])
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since {value!r}: give a duration (24h, 2d, 90m, 1w) or a date (2025-05-24)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def apply_window(loaded: LoadResult, since: dt.datetime) -> list[str]:
    """Keep the loaded articles dated within the window (undated ones too, marked), renumbered a1, a2, ...
    Returns a note per article left out or kept undated."""
    kept, dropped = in_window(loaded.articles, since)
    notes = [f"{a.url or a.path}: dated {a.date}, before --since; left out" for a in dropped]
    notes += [f"{a.url or a.path}: no date found; kept and marked undated" for a in kept if a.undated]
    for i, a in enumerate(kept, start=1):
        a.id = f"a{i}"
    loaded.articles = kept
    return notes


def write_sources(articles: Sequence[Article], out: Path) -> None:
    """Fetched articles' text, exactly as extracted, as ``sources/<id>.txt`` beside the brief; their
    ``path`` then points there, so every citation can be checked offline. Files keep their own path."""
    fetched = [a for a in articles if a.url]
    folder = out / "sources"
    if fetched:
        folder.mkdir(parents=True, exist_ok=True)
    mine = {f"{a.id}.txt" for a in fetched}
    if folder.is_dir():  # last run's texts under ids this run does not have would mislead a reader
        for old in folder.glob("a*.txt"):
            if old.name not in mine and old.stem[1:].isdigit():
                old.unlink()
    for a in fetched:
        path = folder / f"{a.id}.txt"
        with open(path, "w", encoding="utf-8", newline="") as fh:  # newline="": no translation, offsets hold
            fh.write(a.text)
        a.path = str(path)


def in_window(articles: Sequence[Article], since: dt.datetime) -> tuple[list[Article], list[Article]]:
    """(kept, dropped). An article counts as inside when it is dated on or after the cut-off's day
    (dates have no time of day); an undated one is kept and marked ``undated``."""
    kept: list[Article] = []
    dropped: list[Article] = []
    for a in articles:
        if a.date is None:
            a.undated = True
            kept.append(a)
        elif a.date >= since.astimezone(dt.UTC).date():
            kept.append(a)
        else:
            dropped.append(a)
    return kept, dropped
