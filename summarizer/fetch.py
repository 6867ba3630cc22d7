"""Fetching feeds and article pages over HTTP (httpx), politely and within bounds.

* A timeout per read and a deadline per page (a server that stalls or drips cannot hold the run).
* A size cap, checked on Content-Length and again while streaming.
* At most ``max_redirects`` redirects (a loop ends there with a clear reason).
* A content-type check: a PDF or an image is refused with its type named, not fed to the extractor.
* A User-Agent naming the tool and its version.
* Several fetches at once, at most ``per_host`` to one host.
* An on-disk cache revalidated with ETag / Last-Modified: a second run downloads only what changed.
  Every cached page is revalidated (never served on heuristic freshness), because a news page is
  rewritten during the day; ``refresh`` skips the cache entirely.

Failures never raise: each URL ends as a :class:`Fetched` with ``error`` set to a one-line reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from summarizer import __version__

if TYPE_CHECKING:
    import httpx

__all__ = ["FEED_TYPES", "PAGE_TYPES", "USER_AGENT", "FetchOptions", "FetchStats", "Fetched", "fetch_all", "is_url"]

USER_AGENT = f"summarizer/{__version__} (news brief builder; python-httpx)"
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/xml",
        "text/xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "text/x-opml",
        "text/x-opml+xml",
        # Many servers label feeds as HTML or plain text; feedparser sniffs the body anyway.
        "text/html",
        "text/plain",
    }
)


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


@dataclass
class FetchOptions:
    timeout: float = 15.0  # seconds without a byte (connect or read)
    deadline: float = 60.0  # seconds for one page, redirects and body included
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    per_host: int = 2
    concurrency: int = 8
    cache_dir: Path | None = None  # None: <summarizer cache dir>/pages
    use_cache: bool = True
    refresh: bool = False  # download again even when the cache could revalidate
    cache_days: float = 14.0  # cached pages unused this long are removed


@dataclass
class Fetched:
    url: str  # as asked
    final_url: str = ""
    status: int = 0
    content_type: str = ""
    body: bytes = b""
    error: str | None = None
    from_cache: bool = False  # 304 Not Modified: the cached body was used

    @property
    def ok(self) -> bool:
        return self.error is None

    def text(self) -> str:
        """The body decoded: the charset the server named, else UTF-8 with replacement."""
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip("\"'")
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@dataclass
class FetchStats:
    downloaded: int = 0  # 200 responses
    not_modified: int = 0  # 304 responses served from the cache
    failed: int = 0
    bytes: int = 0
    pruned: int = 0  # cache entries removed for being unused
    notes: list[str] = field(default_factory=list)


class _Refused(Exception):
    """A fetch that cannot be used; the message is the one-line reason."""


# ---------------------------------------------------------------- the on-disk cache


class _PageCache:
    """One JSON (validators, type, final URL) and one body file per URL; written atomically.

    An entry's JSON is touched whenever it is used; entries unused for ``max_age_days`` are removed,
    so a daily run does not grow the cache for ever."""

    def __init__(self, folder: Path, max_age_days: float = 14.0) -> None:
        self.folder = folder
        self.max_age = max_age_days * 86400

    def prune(self) -> int:
        if not self.folder.is_dir():
            return 0
        cutoff = time.time() - self.max_age
        removed = 0
        for meta in self.folder.glob("*.json"):
            try:
                if meta.stat().st_mtime < cutoff:
                    meta.with_suffix(".body").unlink(missing_ok=True)
                    meta.unlink()
                    removed += 1
            except OSError:  # another run pruned it first
                continue
        return removed

    def touch(self, url: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self._base(url).with_suffix(".json"))

    def _base(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode("utf-8")).hexdigest()

    def get(self, url: str) -> tuple[dict[str, Any], bytes] | None:
        base = self._base(url)
        try:
            meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
            body = base.with_suffix(".body").read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("sha256") != hashlib.sha256(body).hexdigest():  # torn or tampered entry: ignore it
            return None
        return meta, body

    def put(self, url: str, meta: dict[str, Any], body: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        base = self._base(url)
        meta = {**meta, "sha256": hashlib.sha256(body).hexdigest(), "stored": time.time()}
        for suffix, data in ((".body", body), (".json", json.dumps(meta).encode("utf-8"))):
            tmp = base.with_suffix(f"{suffix}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, base.with_suffix(suffix))


def default_page_cache_dir() -> Path:
    from summarizer.cache import default_cache_dir

    return default_cache_dir() / "pages"


# ---------------------------------------------------------------- fetching


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


async def _get(
    client: httpx.AsyncClient,
    url: str,
    accept: frozenset[str],
    opts: FetchOptions,
    cache: _PageCache | None,
    stats: FetchStats,
) -> Fetched:
    import httpx

    cached = cache.get(url) if cache is not None and not opts.refresh else None
    headers: dict[str, str] = {}
    if cached is not None:
        meta = cached[0]
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    try:
        async with client.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 304 and cached is not None:
                meta, body = cached
                stats.not_modified += 1
                if cache is not None:
                    cache.touch(url)
                return Fetched(
                    url=url,
                    final_url=meta.get("final_url", url),
                    status=304,
                    content_type=meta.get("content_type", ""),
                    body=body,
                    from_cache=True,
                )
            if resp.status_code >= 400:
                raise _Refused(f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
            if resp.status_code != 200:
                raise _Refused(f"unexpected HTTP {resp.status_code}")
            ctype = resp.headers.get("content-type", "")
            media = _media_type(ctype)
            if media and media not in accept:
                raise _Refused(f"content-type {media} is not a web page or feed")
            length = resp.headers.get("content-length", "")
            if length.isdigit() and int(length) > opts.max_bytes:
                raise _Refused(f"{_mb(int(length))} is larger than the {_mb(opts.max_bytes)} limit")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > opts.max_bytes:
                    raise _Refused(f"larger than the {_mb(opts.max_bytes)} limit")
                chunks.append(chunk)
            body = b"".join(chunks)
            final = str(resp.url)
            if not media and body.lstrip()[:5] == b"%PDF-":  # no content-type at all: sniff the obvious
                raise _Refused("a PDF, not a web page or feed")
            stats.downloaded += 1
            stats.bytes += len(body)
            if cache is not None and opts.use_cache:
                cache.put(
                    url,
                    {
                        "final_url": final,
                        "content_type": ctype,
                        "etag": resp.headers.get("etag"),
                        "last_modified": resp.headers.get("last-modified"),
                    },
                    body,
                )
            return Fetched(url=url, final_url=final, status=200, content_type=ctype, body=body)
    except httpx.TooManyRedirects:
        raise _Refused(f"more than {opts.max_redirects} redirects (a redirect loop?)") from None
    except httpx.TimeoutException:
        raise _Refused(f"no response within {opts.timeout:g} s (timed out)") from None
    except httpx.InvalidURL as exc:
        raise _Refused(f"invalid URL ({exc})") from None
    except httpx.HTTPError as exc:
        raise _Refused(f"cannot connect: {exc or type(exc).__name__}") from None


async def fetch_all(
    urls: Sequence[str], *, accept: frozenset[str] = PAGE_TYPES, options: FetchOptions | None = None
) -> tuple[dict[str, Fetched], FetchStats]:
    """Fetch every URL (each once), at most ``concurrency`` at a time and ``per_host`` per host."""
    import httpx

    opts = options or FetchOptions()
    stats = FetchStats()
    cache = _PageCache(opts.cache_dir or default_page_cache_dir(), opts.cache_days) if opts.use_cache else None
    if cache is not None:
        stats.pruned = cache.prune()
    total = asyncio.Semaphore(max(1, opts.concurrency))
    hosts: dict[str, asyncio.Semaphore] = {}
    timeout = httpx.Timeout(opts.timeout)
    limits = httpx.Limits(max_connections=max(1, opts.concurrency), max_keepalive_connections=max(1, opts.concurrency))
    out: dict[str, Fetched] = {}

    async with httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=opts.max_redirects,
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": USER_AGENT, "Accept": ", ".join(sorted(accept)) + ", */*;q=0.1"},
        trust_env=True,  # HTTPS_PROXY / NO_PROXY and the CA bundle from the environment, as the OpenAI client does
    ) as client:

        async def one(url: str) -> None:
            host = urlsplit(url).netloc.lower()
            per_host = hosts.setdefault(host, asyncio.Semaphore(max(1, opts.per_host)))
            async with total, per_host:
                try:
                    out[url] = await asyncio.wait_for(_get(client, url, accept, opts, cache, stats), opts.deadline)
                except _Refused as exc:
                    out[url] = Fetched(url=url, error=str(exc))
                except TimeoutError:
                    out[url] = Fetched(url=url, error=f"not complete within {opts.deadline:g} s (too slow)")
                if out[url].error:
                    stats.failed += 1

        await asyncio.gather(*(one(u) for u in dict.fromkeys(urls)))
    return out, stats


def fetch_sync(
    urls: Sequence[str], *, accept: frozenset[str] = PAGE_TYPES, options: FetchOptions | None = None
) -> tuple[dict[str, Fetched], FetchStats]:
    """:func:`fetch_all` for synchronous callers (the load stage runs before the event loop)."""
    return asyncio.run(fetch_all(urls, accept=accept, options=options))
