"""Feeds and OPML in, articles out: RSS 2.0, Atom and JSON Feed (URLs or files), OPML lists, the --since window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from web_fixture import WebSite, atom, json_feed, opml, rss, site_fixture  # noqa: F401  (the `site` fixture)

from summarizer.feeds import in_window, is_web_input, load_web, parse_feed, parse_opml, parse_since, sniff
from summarizer.fetch import FetchOptions
from summarizer.load import load_inputs
from summarizer.models import Article, InputError


def opts(tmp_path: Path) -> FetchOptions:
    return FetchOptions(cache_dir=tmp_path / "pages", timeout=2, deadline=10)


def three(site: WebSite) -> list:  # type: ignore[type-arg]
    return [
        site.item("/news/bbc.html", "2025-05-24T09:00:00Z"),
        site.item("/abc/3.html", "2025-05-24T07:30:00+02:00", title="Argentina's crisis deepens"),
        site.item("/abc/4.html", "2025-05-23T22:00:00Z"),
    ]


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("kind,maker", [("rss20", rss), ("atom10", atom), ("json1.1", json_feed)])
def test_each_feed_format_gives_links_titles_and_utc_dates(kind: str, maker, site: WebSite) -> None:  # type: ignore[no-untyped-def]
    feed = parse_feed(maker("Loopback Daily", three(site), site.base), site.url("/feed"))
    assert feed.kind == kind and feed.title == "Loopback Daily"
    assert [e.link for e in feed.entries] == [site.url(p) for p in ("/news/bbc.html", "/abc/3.html", "/abc/4.html")]
    assert feed.entries[1].title == "Argentina's crisis deepens"
    assert feed.entries[1].published == dt.datetime(2025, 5, 24, 5, 30, tzinfo=dt.UTC)  # +02:00 -> UTC


def test_opml_lists_every_feed_at_any_depth() -> None:
    data = opml([("A", "http://h/a.xml"), ("B", "feeds/b.xml")])
    assert parse_opml(data, "/home/me/subs.opml") == ["http://h/a.xml", "/home/me/feeds/b.xml"]
    assert parse_opml(data, "http://h/subs.opml") == ["http://h/a.xml", "http://h/feeds/b.xml"]


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"<opml version='2.0'><body><outline text='x'/></body></opml>", "OPML lists no feeds"),
        (b"<opml><body><outline", "invalid OPML"),
    ],
)
def test_bad_opml_is_named(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_opml(data)


def test_sniff_tells_feeds_opml_and_pages_apart(site: WebSite) -> None:
    assert sniff(rss("x", [], site.base)) == "feed"
    assert sniff(atom("x", [], site.base)) == "feed"
    assert sniff(json_feed("x", [], site.base)) == "json_feed"
    assert sniff(opml([("a", "http://h/a")])) == "opml"
    assert sniff(site.routes["/news/bbc.html"].body) is None
    assert sniff(b'{"not": "a feed"}') is None


def test_a_non_feed_is_refused() -> None:
    with pytest.raises(ValueError, match="not a feed"):
        parse_feed(b"just some words, not XML")


# ---------------------------------------------------------------- feeds to articles


def test_a_feed_url_gives_one_article_per_entry(site: WebSite, tmp_path: Path) -> None:
    url = site.feed("/feeds/daily.xml", three(site), title="Loopback Daily")
    got = load_web([url], options=opts(tmp_path))
    arts = got.items[url]
    assert all(isinstance(a, Article) for a in arts) and len(arts) == 3
    bbc, abc3, abc4 = arts
    assert bbc.url == site.url("/news/bbc.html") and "307 more soldiers" in bbc.text
    assert abc3.title == "Argentina's crisis deepens"  # the entry's title, not the page's
    assert abc4.date == dt.date(2025, 5, 23)  # the entry's date (the ABC pages have none)
    assert {a.outlet for a in arts} == {"Loopback Daily"}


@pytest.mark.parametrize("kind", ["atom", "json"])
def test_atom_and_json_feeds_load_the_same_way(kind: str, site: WebSite, tmp_path: Path) -> None:
    url = site.feed(f"/feeds/daily.{kind}", three(site), kind=kind)
    arts = load_web([url], options=opts(tmp_path)).items[url]
    assert [a.url for a in arts] == [site.url(p) for p in ("/news/bbc.html", "/abc/3.html", "/abc/4.html")]


def test_a_feed_file_and_an_opml_file_work_like_urls(site: WebSite, tmp_path: Path) -> None:
    feed_file = tmp_path / "local.xml"
    feed_file.write_bytes(rss("Local", three(site)[:1], site.base))
    atom_url = site.feed("/feeds/a.atom", three(site)[1:2], kind="atom", title="Atom News")
    opml_file = tmp_path / "subs.opml"
    opml_file.write_bytes(opml([("Atom News", atom_url), ("Local", "local.xml")]))  # relative to the OPML
    assert is_web_input(str(feed_file)) and is_web_input(str(opml_file))
    loaded = load_inputs([str(opml_file)], fetch=opts(tmp_path))
    assert not loaded.errors
    assert [(a.id, a.url, a.outlet) for a in loaded.articles] == [
        ("a1", site.url("/abc/3.html"), "Atom News"),
        ("a2", site.url("/news/bbc.html"), "Local"),
    ]


def test_feeds_mix_with_files_in_input_order(site: WebSite, tmp_path: Path) -> None:
    from conftest import AP

    url = site.feed("/feeds/daily.xml", three(site)[1:2])
    loaded = load_inputs([str(AP), url], fetch=opts(tmp_path))
    assert [(a.id, a.url) for a in loaded.articles] == [("a1", None), ("a2", site.url("/abc/3.html"))]


def test_a_text_file_named_xml_is_still_a_file(tmp_path: Path) -> None:
    f = tmp_path / "notes.xml"
    f.write_text("Plain words about 12 ships, not a feed.\n")
    assert not is_web_input(str(f))
    assert load_inputs([str(f)]).articles[0].text.startswith("Plain words")


def test_the_same_page_in_two_feeds_is_fetched_once_and_kept_once(site: WebSite, tmp_path: Path) -> None:
    a = site.feed("/feeds/one.xml", three(site)[:2])
    b = site.feed("/feeds/two.xml", three(site)[:1])
    loaded = load_inputs([a, b], fetch=opts(tmp_path))
    assert len(loaded.articles) == 2
    assert [p for p, _ in site.requests].count("/news/bbc.html") == 1


def test_a_broken_entry_is_one_error_and_the_rest_goes_on(site: WebSite, tmp_path: Path) -> None:
    items = [
        *three(site)[:1],
        site.item("/missing", "2025-05-24T10:00:00Z", title="Gone"),
        site.item("/doc.pdf", "2025-05-24T10:00:00Z", title="PDF"),
    ]
    url = site.feed("/feeds/daily.xml", items)
    loaded = load_inputs([url], fetch=opts(tmp_path))
    assert [a.url for a in loaded.articles] == [site.url("/news/bbc.html")]
    assert [(e.path, e.reason) for e in loaded.errors] == [
        (site.url("/missing"), "HTTP 404 Not Found"),
        (site.url("/doc.pdf"), "content-type application/pdf is not a web page or feed"),
    ]


def test_a_missing_feed_is_one_error(site: WebSite, tmp_path: Path) -> None:
    url = site.url("/feeds/nothing.xml")
    (err,) = load_web([url], options=opts(tmp_path)).items[url]
    assert isinstance(err, InputError) and err.reason == "HTTP 404 Not Found"


# ---------------------------------------------------------------- the window


def test_entries_older_than_since_are_not_even_fetched(site: WebSite, tmp_path: Path) -> None:
    url = site.feed("/feeds/daily.xml", three(site))
    got = load_web([url], options=opts(tmp_path), since=dt.datetime(2025, 5, 24, tzinfo=dt.UTC))
    assert [a.url for a in got.items[url]] == [site.url("/news/bbc.html"), site.url("/abc/3.html")]
    assert "/abc/4.html" not in [p for p, _ in site.requests]
    assert any("1 entry older than --since, not fetched" in n for n in got.notes)


def test_parse_since() -> None:
    now = dt.datetime(2025, 5, 25, 12, 0, tzinfo=dt.UTC)
    assert parse_since("24h", now) == dt.datetime(2025, 5, 24, 12, 0, tzinfo=dt.UTC)
    assert parse_since("2d", now) == dt.datetime(2025, 5, 23, 12, 0, tzinfo=dt.UTC)
    assert parse_since("90m", now) == dt.datetime(2025, 5, 25, 10, 30, tzinfo=dt.UTC)
    assert parse_since("2025-05-24", now) == dt.datetime(2025, 5, 24, tzinfo=dt.UTC)
    assert parse_since("2025-05-24T06:00:00+02:00", now) == dt.datetime(2025, 5, 24, 4, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="give a duration"):
        parse_since("yesterday", now)


def test_in_window_keeps_undated_articles_and_marks_them() -> None:
    def art(aid: str, date: dt.date | None) -> Article:
        return Article(id=aid, path=aid, title=aid, date=date, text="x", sha256=aid)

    kept, dropped = in_window(
        [art("old", dt.date(2025, 5, 22)), art("today", dt.date(2025, 5, 25)), art("undated", None)],
        dt.datetime(2025, 5, 24, 12, tzinfo=dt.UTC),
    )
    assert [a.id for a in kept] == ["today", "undated"] and [a.id for a in dropped] == ["old"]
    assert [a.undated for a in kept] == [False, True]


def test_file_inputs_import_no_http_or_feed_library() -> None:
    # `summarizer brief examples/` and `summarizer --help` stay fast: httpx, feedparser and trafilatura load
    # only when a URL, a feed or an HTML page shows up.
    import subprocess
    import sys

    from conftest import EXAMPLES

    code = (
        "import sys, summarizer.cli; from summarizer.load import load_inputs; "
        f"load_inputs([{str(EXAMPLES)!r}]); "
        "print(sorted(m for m in ('httpx', 'feedparser', 'trafilatura') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
