"""Fetching pages from the loopback site (tests/web_fixture.py): one test per web fault, and the cache.

Every case states what happens; a failed fetch is one line naming the URL and the reason.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from web_fixture import BIG, Route, WebSite, seed_parts, site_fixture  # noqa: F401  (the `site` fixture)

from summarizer import __version__
from summarizer.feeds import load_web
from summarizer.fetch import USER_AGENT, FetchOptions, fetch_sync


def opts(tmp_path: Path, **kw: object) -> FetchOptions:
    base: dict[str, object] = {"cache_dir": tmp_path / "pages", "timeout": 0.5, "deadline": 5.0}
    base.update(kw)
    return FetchOptions(**base)  # type: ignore[arg-type]


def one_page(site: WebSite, path: str, tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    url = site.url(path)
    got = load_web([url], options=opts(tmp_path, **kw))
    (item,) = got.items[url]
    return item


# ---------------------------------------------------------------- pages


def test_article_text_is_extracted_without_the_clutter(site: WebSite, tmp_path: Path) -> None:
    article = one_page(site, "/news/bbc.html", tmp_path)
    _, title, paras = seed_parts("bbc_2025-05-24.txt")
    for p in paras:
        assert p in article.text  # every paragraph, verbatim
    for clutter in ("Most read", "cookies", "Copyright", "Sign in", "Privacy policy", "Celebrity chef"):
        assert clutter not in article.text
    assert article.url == site.url("/news/bbc.html")
    assert article.title == title
    assert article.date is not None and article.date.isoformat() == "2025-05-24"  # htmldate, from the page
    assert article.outlet == "127.0.0.1:" + site.base.rsplit(":", 1)[1]  # no feed: the host names the outlet


def test_the_extracted_text_is_kept_exactly(site: WebSite, tmp_path: Path) -> None:
    import trafilatura

    article = one_page(site, "/news/ap.html", tmp_path)
    assert article.text == trafilatura.extract(site.routes["/news/ap.html"].body.decode(), include_comments=False)
    assert article.body_start == 0


def test_user_agent_names_the_tool_and_its_version(site: WebSite, tmp_path: Path) -> None:
    one_page(site, "/news/bbc.html", tmp_path)
    ua = site.requests[-1][1]["user-agent"]
    assert ua == USER_AGENT and ua.startswith(f"summarizer/{__version__}")


# ---------------------------------------------------------------- faults


def test_redirects_are_followed_to_the_article(site: WebSite, tmp_path: Path) -> None:
    article = one_page(site, "/redirect/1", tmp_path)
    assert article.url == site.url("/news/bbc.html")  # the page's own URL, after two hops
    assert "307 more soldiers" in article.text


def test_a_redirect_loop_stops_at_the_bound(site: WebSite, tmp_path: Path) -> None:
    err = one_page(site, "/loop/a", tmp_path, max_redirects=5)
    assert err.path == site.url("/loop/a")
    assert err.reason == "more than 5 redirects (a redirect loop?)"
    assert sum(1 for p, _ in site.requests if p.startswith("/loop/")) == 6  # the first request + 5 redirects


def test_a_404_is_named(site: WebSite, tmp_path: Path) -> None:
    err = one_page(site, "/missing", tmp_path)
    assert (err.path, err.reason) == (site.url("/missing"), "HTTP 404 Not Found")


def test_a_stalled_server_times_out(site: WebSite, tmp_path: Path) -> None:
    started = time.perf_counter()
    err = one_page(site, "/stall", tmp_path, timeout=0.5)
    assert err.reason == "no response within 0.5 s (timed out)"
    assert time.perf_counter() - started < 3


def test_a_page_that_drips_past_the_deadline_is_dropped(site: WebSite, tmp_path: Path) -> None:
    site.routes["/slow"] = Route(b"<html><body><p>late</p></body></html>", delay=2.0)
    started = time.perf_counter()
    err = one_page(site, "/slow", tmp_path, timeout=5, deadline=0.5)
    assert err.reason == "not complete within 0.5 s (too slow)"
    assert time.perf_counter() - started < 1.9


def test_a_20_mb_page_is_refused_on_its_content_length(site: WebSite, tmp_path: Path) -> None:
    assert len(site.routes["/big"].body) >= BIG - 20
    err = one_page(site, "/big", tmp_path)
    assert err.reason == "20.0 MB is larger than the 5.0 MB limit"


def test_a_20_mb_page_without_a_length_is_cut_off_while_streaming(site: WebSite, tmp_path: Path) -> None:
    got, stats = fetch_sync([site.url("/big-chunked")], options=opts(tmp_path, timeout=5))
    assert got[site.url("/big-chunked")].error == "larger than the 5.0 MB limit"
    assert stats.bytes == 0 and stats.failed == 1  # nothing kept, nothing cached
    assert not list((tmp_path / "pages").glob("*.body"))


def test_a_pdf_is_refused_by_its_content_type(site: WebSite, tmp_path: Path) -> None:
    err = one_page(site, "/doc.pdf", tmp_path)
    assert err.reason == "content-type application/pdf is not a web page or feed"


def test_an_empty_page_is_named(site: WebSite, tmp_path: Path) -> None:
    err = one_page(site, "/empty", tmp_path)
    assert err.reason == "empty page (no content)"


def test_a_page_with_no_article_text_is_named(site: WebSite, tmp_path: Path) -> None:
    err = one_page(site, "/clutter-only", tmp_path)
    assert err.reason == "no article text found in the page (only 18 words)"  # menus, a cookie banner, the heading


def test_a_refused_connection_is_named(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.html"
    (err,) = load_web([url], options=opts(tmp_path)).items[url]
    assert err.reason.startswith("cannot connect")


def test_one_bad_page_does_not_stop_the_others(site: WebSite, tmp_path: Path) -> None:
    urls = [site.url(p) for p in ("/news/bbc.html", "/missing", "/doc.pdf", "/abc/3.html")]
    got = load_web(urls, options=opts(tmp_path))
    kinds = [type(got.items[u][0]).__name__ for u in urls]
    assert kinds == ["Article", "InputError", "InputError", "Article"]


# ---------------------------------------------------------------- concurrency


def test_fetches_overlap_but_at_most_per_host_at_once(site: WebSite, tmp_path: Path) -> None:
    for n in range(8):
        site.routes[f"/slow/{n}"] = Route(site.routes[f"/abc/{n}.html"].body, delay=0.3)
    started = time.perf_counter()
    got, _ = fetch_sync([site.url(f"/slow/{n}") for n in range(8)], options=opts(tmp_path, per_host=2, timeout=5))
    elapsed = time.perf_counter() - started
    assert all(f.ok for f in got.values())
    assert site.peak_in_flight == 2  # never more than per_host on one host ...
    assert elapsed < 8 * 0.3  # ... but not one after the other either


# ---------------------------------------------------------------- the page cache


def test_a_second_run_downloads_nothing_that_has_not_changed(site: WebSite, tmp_path: Path) -> None:
    urls = [site.url(f"/abc/{n}.html") for n in range(5)]
    first, s1 = fetch_sync(urls, options=opts(tmp_path))
    second, s2 = fetch_sync(urls, options=opts(tmp_path))
    assert (s1.downloaded, s1.not_modified) == (5, 0)
    assert (s2.downloaded, s2.not_modified, s2.bytes) == (0, 5, 0)
    assert all(second[u].from_cache and second[u].body == first[u].body for u in urls)
    assert sum(site.downloads.values()) == 5 and sum(site.not_modified.values()) == 5
    assert all("if-none-match" in h for p, h in site.requests[5:])


def test_a_changed_page_is_downloaded_again(site: WebSite, tmp_path: Path) -> None:
    url = site.url("/abc/1.html")
    fetch_sync([url], options=opts(tmp_path))
    site.routes["/abc/1.html"] = Route(site.routes["/abc/2.html"].body)  # the page was rewritten
    got, stats = fetch_sync([url], options=opts(tmp_path))
    assert stats.downloaded == 1 and not got[url].from_cache
    assert got[url].body == site.routes["/abc/2.html"].body


def test_last_modified_alone_revalidates(site: WebSite, tmp_path: Path) -> None:
    site.routes["/lm.html"] = Route(site.routes["/abc/4.html"].body, validators="last-modified")
    url = site.url("/lm.html")
    fetch_sync([url], options=opts(tmp_path))
    got, stats = fetch_sync([url], options=opts(tmp_path))
    assert stats.not_modified == 1 and got[url].from_cache
    assert "if-modified-since" in site.requests[-1][1] and "if-none-match" not in site.requests[-1][1]


def test_refresh_downloads_again(site: WebSite, tmp_path: Path) -> None:
    url = site.url("/abc/1.html")
    fetch_sync([url], options=opts(tmp_path))
    _, stats = fetch_sync([url], options=opts(tmp_path, refresh=True))
    assert (stats.downloaded, stats.not_modified) == (1, 0)
    assert "if-none-match" not in site.requests[-1][1]


def test_a_torn_cache_entry_is_ignored(site: WebSite, tmp_path: Path) -> None:
    url = site.url("/abc/1.html")
    fetch_sync([url], options=opts(tmp_path))
    (body,) = (tmp_path / "pages").glob("*.body")
    body.write_bytes(b"half a page")  # a crash mid-write, or someone editing the cache
    got, stats = fetch_sync([url], options=opts(tmp_path))
    assert stats.downloaded == 1 and got[url].body == site.routes["/abc/1.html"].body


@pytest.mark.parametrize("spec", ["ftp://example.invalid/x", "http://"])
def test_an_unusable_url_is_named(spec: str, tmp_path: Path) -> None:
    got, _ = fetch_sync([spec], options=opts(tmp_path))
    assert got[spec].error


def test_pages_unused_for_two_weeks_leave_the_cache(site: WebSite, tmp_path: Path) -> None:
    import os

    old, used = site.url("/abc/1.html"), site.url("/abc/2.html")
    fetch_sync([old, used], options=opts(tmp_path))
    three_weeks_ago = time.time() - 21 * 86400
    for meta in (tmp_path / "pages").glob("*.json"):
        os.utime(meta, (three_weeks_ago, three_weeks_ago))
    fetch_sync([used], options=opts(tmp_path, cache_days=30))  # used today: its entry is touched
    assert len(list((tmp_path / "pages").glob("*.json"))) == 2  # nothing older than 30 days
    _, stats = fetch_sync([], options=opts(tmp_path))  # the default: 14 days
    assert stats.pruned == 1
    assert len(list((tmp_path / "pages").glob("*.body"))) == 1
    _, again = fetch_sync([used], options=opts(tmp_path))
    assert again.not_modified == 1  # the page still in use kept its entry
