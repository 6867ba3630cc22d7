"""The daily brief end to end: a feed on the loopback site, a SCRIPTED endpoint playing the model, two days.

Day one: the feed has the BBC seed and two unrelated ABC texts. Day two: the same feed plus the AP seed.
The swap story is then ``updated`` (new source, AP-only figures, the injured count they differ on) and
the ABC stories ``unchanged``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC
from scripted_endpoint import ScriptedEndpoint, well_behaved
from typer.testing import CliRunner
from web_fixture import WebSite, site_fixture  # noqa: F401  (the `site` fixture)

from summarizer.cli import app

BBC_DAY = "2025-05-24T09:00:00Z"
AP_DAY = "2025-05-25T08:00:00Z"


def brief(ep: ScriptedEndpoint, out: Path, *inputs: str, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any]]:
    args = ["brief", *inputs, "--out", str(out), "--base-url", ep.base_url, "--model", "scripted", "--mode", "json"]
    res = CliRunner().invoke(app, [*args, "--quiet", *extra], catch_exceptions=False)
    return res.exit_code, json.loads((out / "brief.json").read_text(encoding="utf-8"))


def day_feed(site: WebSite, *, with_ap: bool) -> str:
    items = [
        site.item("/news/bbc.html", BBC_DAY),
        site.item("/abc/3.html", "2025-05-24T06:00:00Z"),
        site.item("/abc/4.html", "2025-05-24T07:00:00Z"),
    ]
    if with_ap:
        items.insert(0, site.item("/news/ap.html", AP_DAY))
    return site.feed("/feeds/daily.xml", items, title="Loopback Daily")


Days = tuple[WebSite, Path, dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Days]:
    """Both days, run once for the module: (site, out, day one's brief.json, day two's). Tests that run
    again copy ``out`` first (see ``again``), so every test reads day two as it was written."""
    tmp = tmp_path_factory.mktemp("daily")
    out = tmp / "brief"
    with pytest.MonkeyPatch.context() as mp, WebSite() as site, ScriptedEndpoint(well_behaved) as ep:
        # Module scope runs before conftest's per-test isolation: isolate here (never the user's cache).
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARIZER_MODEL", "SUMMARIZER_PROMPTS"):
            mp.delenv(var, raising=False)
        mp.setenv("SUMMARIZER_CACHE_DIR", str(tmp / "cache"))
        code1, day1 = brief(ep, out, day_feed(site, with_ap=False))
        assert code1 == 0
        code2, day2 = brief(ep, out, day_feed(site, with_ap=True))
        assert code2 == 0
        yield site, out, day1, day2


def again(out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the two days' output folder, with their cache (page and result), to run a third time in."""
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(out.parent / "cache"))
    copy = tmp_path / "brief"
    shutil.copytree(out, copy)
    return copy


def story_with(b: dict[str, Any], url: str) -> dict[str, Any]:
    ids = {a["id"] for a in b["articles"] if a["url"] == url}
    (story,) = [s for s in b["stories"] if ids & set(s["articles"])]
    return story


def test_day_one_has_nothing_to_compare_with(two_days) -> None:  # type: ignore[no-untyped-def]
    site, _, day1, _ = two_days
    assert day1["previous"] is None
    assert len(day1["stories"]) == 3
    assert {s["since_last"] for s in day1["stories"]} == {None}
    assert [a["url"] for a in day1["articles"]] == [
        site.url(p) for p in ("/news/bbc.html", "/abc/3.html", "/abc/4.html")
    ]


def test_day_two_the_swap_story_is_updated_and_names_what_changed(two_days) -> None:  # type: ignore[no-untyped-def]
    site, out, day1, day2 = two_days
    assert day2["previous"]["path"] == str(out / "brief.json")
    swap = story_with(day2, site.url("/news/ap.html"))
    assert swap["since_last"] == "updated"
    assert swap["previous"] == story_with(day1, site.url("/news/bbc.html"))["id"]
    ap = next(a for a in day2["articles"] if a["url"] == site.url("/news/ap.html"))
    bbc = next(a for a in day2["articles"] if a["url"] == site.url("/news/bbc.html"))
    kinds: dict[str, list[dict[str, Any]]] = {}
    for c in swap["changes"]:
        kinds.setdefault(c["kind"], []).append(c)

    # The new source is named.
    (src,) = kinds["new_source"]
    assert src["article"] == ap["id"] and ap["title"] in src["text"] and "Loopback Daily" in src["text"]

    # The figures only AP reports, each cited to AP: at least three dead among them.
    new_figs = kinds["new_figure"]
    assert len(new_figs) >= 3 and {c["article"] for c in new_figs} == {ap["id"]}
    dead = [c for c in new_figs if c["quantity"] == "killed" and c["after"] == "at least three"]
    assert dead and "at least three people dead" in dead[0]["after_citation"]["quote"]

    # The injured count they differ on: BBC's at least 15 (day one) -> AP's 10, both cited.
    (injured,) = [c for c in kinds["changed_figure"] if c["quantity"] == "injured"]
    assert (injured["before"], injured["after"]) == ("at least 15", "10")
    assert injured["text"] == "injured: at least 15 → 10"
    assert injured["article"] == ap["id"] and "10 injured" in injured["after_citation"]["quote"]
    assert injured["before_article"] == bbc["id"]  # BBC is still in today's brief, with the same text
    assert "at least 15 people injured" in injured["before_citation"]["quote"]
    assert injured["before_source"]["url"] == bbc["url"]

    # Figures both days report are not changes.
    assert not [c for c in swap["changes"] if c.get("after") in ("307", "390", "1,000")]


def test_day_two_the_unrelated_stories_are_unchanged(two_days) -> None:  # type: ignore[no-untyped-def]
    site, _, _, day2 = two_days
    for path in ("/abc/3.html", "/abc/4.html"):
        story = story_with(day2, site.url(path))
        assert story["since_last"] == "unchanged" and story["changes"] == []
    assert len(day2["stories"]) == 3


def test_citations_resolve_against_the_sources_folder(two_days) -> None:  # type: ignore[no-untyped-def]
    _, out, _, day2 = two_days
    paths = {a["id"]: Path(a["path"]) for a in day2["articles"]}
    assert sorted(p.name for p in (out / "sources").glob("*.txt")) == sorted(f"{a}.txt" for a in paths)
    assert all(p.parent == out / "sources" for p in paths.values())
    texts = {aid: p.read_text(encoding="utf-8") for aid, p in paths.items()}
    cites = [c for s in day2["stories"] for f in s["facts"] for c in f["citations"]]
    cites += [c for r in day2["results"] for f in r["facts"] for c in f["citations"]]
    for s in day2["stories"]:
        for ch in s["changes"]:
            cites += [ch["after_citation"]] if ch["after_citation"] else []
            cites += [ch["before_citation"]] if ch["before_article"] else []
    assert len(cites) > 20
    for c in cites:
        assert texts[c["article"]][c["start"] : c["end"]] == c["quote"]
    import trafilatura

    site = two_days[0]
    ap = next(a for a in day2["articles"] if a["url"] == site.url("/news/ap.html"))
    page = site.routes["/news/ap.html"].body.decode()
    assert texts[ap["id"]] == trafilatura.extract(page, include_comments=False)  # the extracted text, exactly


def test_no_unsupported_number_reaches_brief_md(two_days) -> None:  # type: ignore[no-untyped-def]
    from summarizer.factcheck import verify_summary

    _, out, _, day2 = two_days
    md = (out / "brief.md").read_text(encoding="utf-8")
    body = md.split("\n## New today", 1)[1].split("\n## Sources", 1)[0]
    body = re.sub(r"(?m)^## \d+\. ", "## ", body)  # section numbers are not claims
    body = re.sub(r"\(\d{1,2} [A-Z][a-z]{2}\)", "", body)  # conflict dates come from the feed entries
    sources = [(Path(a["path"]).name, Path(a["path"]).read_text(encoding="utf-8")) for a in day2["articles"]]
    report = verify_summary(body, sources, only="numbers")  # the composed narrative names outlets: not claims
    assert report.numbers_checked > 10
    assert report.ok, [i.finding.reason for i in report.issues]


def test_brief_md_and_html_show_new_and_updated_first_and_unchanged_last(two_days) -> None:  # type: ignore[no-untyped-def]
    site, out, _, day2 = two_days
    md = (out / "brief.md").read_text(encoding="utf-8")
    swap = story_with(day2, site.url("/news/ap.html"))
    first_story = md.index("\n## ", md.index("\n## Updated") + 5)
    assert md.index("## New today") < md.index("## Updated") < first_story
    assert "  - injured: at least 15 [" in md and "→ 10 [" in md
    assert md.index(f". {swap['title']}") < md.index("## Unchanged since the last brief")
    for path in ("/abc/3.html", "/abc/4.html"):
        story = story_with(day2, site.url(path))
        heading = f"## {day2['stories'].index(story) + 1}. "
        assert md.index("## Unchanged since the last brief") < md.index(heading)

    page = (out / "brief.html").read_text(encoding="utf-8")
    assert page.index('id="since"') < page.index('class="story"')
    assert '<details class="unchanged" id="unchanged"><summary>Unchanged since the last brief (2 stories)' in page
    start = page.index('<details class="unchanged"')
    details = page[start : page.index('<section class="sources"', start)]  # closed: no `open`
    for path in ("/abc/3.html", "/abc/4.html"):
        assert f'id="{story_with(day2, site.url(path))["id"]}"' in details
    assert f'id="{swap["id"]}"' not in details
    assert '<span class="badge updated">updated</span>' in page
    for a in day2["articles"]:  # the Sources list names each page and the file its citations resolve in
        assert f"<code>{a['url']}</code> · <code>{a['path']}</code>" in page
        assert f"`{a['url']}` — `{a['path']}`" in md


def test_feed_text_in_the_changes_is_escaped(two_days) -> None:  # type: ignore[no-untyped-def]
    from summarizer.models import Brief
    from summarizer.render.html import render_html
    from summarizer.render.markdown import render_markdown

    _, _, _, day2 = two_days
    b = Brief.model_validate(day2)
    hostile = "<script>alert(1)</script>"
    for s in b.stories:
        for c in s.changes:
            c.text, c.quantity = hostile, hostile
        s.title = hostile
    page, md = render_html(b, {}), render_markdown(b)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert hostile not in md and "&lt;script&gt;" in md


def test_a_second_run_the_same_morning_downloads_nothing(two_days, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    site, out, _, _ = two_days
    before = dict(site.downloads)
    with ScriptedEndpoint(well_behaved) as ep:
        code, third = brief(ep, again(out, tmp_path, monkeypatch), site.url("/feeds/daily.xml"))
    assert code == 0
    assert dict(site.downloads) == before  # every page and the feed answered 304
    assert {s["since_last"] for s in third["stories"]} == {"unchanged"}


def test_refresh_downloads_again(two_days, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    site, out, _, _ = two_days
    before = sum(site.downloads.values())
    with ScriptedEndpoint(well_behaved) as ep:
        code, _ = brief(ep, again(out, tmp_path, monkeypatch), site.url("/feeds/daily.xml"), extra=("--refresh",))
    assert code == 0 and sum(site.downloads.values()) == before + 5  # the feed and its four pages


# ---------------------------------------------------------------- matching is by content, not title


def test_matching_ignores_titles(two_days, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site, _, day1, _ = two_days
    for s in day1["stories"]:
        s["title"] = "Completely different headline"
    prev = tmp_path / "renamed.json"
    prev.write_text(json.dumps(day1), encoding="utf-8")
    with ScriptedEndpoint(well_behaved) as ep:
        code, b = brief(ep, tmp_path / "o", site.url("/feeds/daily.xml"), extra=("--previous", str(prev)))
    assert code == 0
    assert story_with(b, site.url("/news/ap.html"))["since_last"] == "updated"
    assert story_with(b, site.url("/abc/3.html"))["since_last"] == "unchanged"


def test_same_story_from_other_sources_is_updated_not_new(tmp_path: Path) -> None:
    # Day one only AP reported it, day two only BBC: no shared source, but the same figures and words.
    out = tmp_path / "o"
    with ScriptedEndpoint(well_behaved) as ep:
        brief(ep, out, str(AP))
        code, b = brief(ep, out, str(BBC))
    assert code == 0
    (story,) = b["stories"]
    assert story["since_last"] == "updated"
    assert any(c["kind"] == "new_source" for c in story["changes"])
    injured = [c for c in story["changes"] if c["kind"] == "changed_figure" and c["quantity"] == "injured"]
    assert injured and injured[0]["before_article"] is None  # AP is not in today's brief
    assert injured[0]["before_source"]["path"].endswith("ap_2025-05-25.txt")
    md = (out / "brief.md").read_text(encoding="utf-8")
    assert "(previous brief: Russia and Ukraine exchanged hundreds of prisoners" in md


def test_an_unrelated_story_is_new(tmp_path: Path) -> None:
    from conftest import write_lee

    (abc,) = write_lee(tmp_path / "lee", 1, start=11)  # the Lima fire: nothing to do with the swap
    out = tmp_path / "o"
    with ScriptedEndpoint(well_behaved) as ep:
        brief(ep, out, str(BBC))
        code, b = brief(ep, out, str(BBC), str(abc))
    assert code == 0
    states = {s["articles"][0]: s["since_last"] for s in b["stories"]}
    assert states == {"a1": "unchanged", "a2": "new"}
    md = (out / "brief.md").read_text(encoding="utf-8")
    new_section = md.split("## New today", 1)[1].split("## Updated", 1)[0]
    new_story = next(s for s in b["stories"] if s["articles"] == ["a2"])
    assert f"- {new_story['title'][:30]}" in new_section and "[2]" in new_section
    page = (out / "brief.html").read_text(encoding="utf-8")
    since = page[page.index('id="since"') : page.index("<h2>Updated</h2>")]
    assert f'<a href="#{new_story["id"]}">' in since
    assert '<span class="badge new">new today</span>' in page


def test_an_unusable_previous_brief_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": 1}', encoding="utf-8")
    res = CliRunner().invoke(app, ["brief", str(BBC), "--previous", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert f"--previous {bad}: not a brief.json" in res.output


def test_since_drops_old_articles_and_marks_undated_ones(site: WebSite, tmp_path: Path) -> None:
    undated = tmp_path / "undated.txt"
    undated.write_text(BBC.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")  # no header: no date
    with ScriptedEndpoint(well_behaved) as ep:
        code, b = brief(
            ep, tmp_path / "o", str(AP), str(undated), day_feed(site, with_ap=False), extra=("--since", "2025-05-25")
        )
    assert code == 0
    assert [(a["path"].endswith(("ap_2025-05-25.txt", "undated.txt")), a["undated"]) for a in b["articles"]] == [
        (True, False),
        (True, True),
    ]
    assert "/news/bbc.html" not in [p for p, _ in site.requests]  # dated 24 May: not even fetched


def test_a_page_that_cannot_be_fetched_is_one_line_and_exit_1(site: WebSite, tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        args = [
            "brief",
            site.url("/news/bbc.html"),
            site.url("/missing"),
            site.url("/empty"),
            "--out",
            str(tmp_path / "o"),
        ]
        res = CliRunner().invoke(
            app, [*args, "--base-url", ep.base_url, "--model", "scripted", "--mode", "json", "--quiet"]
        )
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert f"summarizer: {site.url('/missing')}: HTTP 404 Not Found" in lines
    assert f"summarizer: {site.url('/empty')}: empty page (no content)" in lines
    b = json.loads((tmp_path / "o" / "brief.json").read_text(encoding="utf-8"))
    assert [a["url"] for a in b["articles"]] == [site.url("/news/bbc.html")]
    assert [e["path"] for e in b["errors"]] == [site.url("/missing"), site.url("/empty")]


# ---------------------------------------------------------------- the README's cron and systemd lines, as written


def readme_block(lang: str, first_line: str = "") -> str:
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(rf"```{lang}\n(.*?)```", text, re.S)
    found = [b for b in blocks if b.startswith(first_line)]
    assert found, (lang, first_line)
    return found[0]


def split_command(tokens: list[str]) -> tuple[dict[str, str], str, list[str]]:
    """VAR=value ... program args...: the environment assignments, the program, its arguments."""
    env: dict[str, str] = {}
    while tokens and re.match(r"^[A-Z_]+=", tokens[0]):
        k, _, v = tokens.pop(0).partition("=")
        env[k] = v
    return env, tokens[0], tokens[1:]


def test_the_readme_cron_and_systemd_lines_build_the_daily_brief(site: WebSite, tmp_path: Path) -> None:
    import datetime as dt
    import os
    import shlex
    import shutil
    import subprocess
    import sys

    from web_fixture import opml

    home = tmp_path / "home"
    now = dt.datetime.now(dt.UTC)
    feed = site.feed(
        "/feeds/daily.xml",
        [
            site.item("/news/bbc.html", (now - dt.timedelta(hours=2)).isoformat()),
            site.item("/abc/3.html", (now - dt.timedelta(days=3)).isoformat()),  # outside --since 24h
        ],
    )
    (home / ".config" / "summarizer").mkdir(parents=True)
    (home / ".config" / "summarizer" / "feeds.opml").write_bytes(opml([("Loopback Daily", feed)]))
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "summarizer").symlink_to(Path(sys.executable).parent / "summarizer")

    cron = next(ln for ln in readme_block("cron").splitlines() if ln and not ln.startswith("#"))
    cron_env, program, argv = split_command(shlex.split(cron.replace("$HOME", str(home)))[5:])
    service = readme_block("ini", "# ~/.config/systemd/user/summarizer-brief.service")
    exec_start = re.search(r"^ExecStart=(.*)$", service, re.M).group(1).replace("%h", str(home))  # type: ignore[union-attr]
    unit_env = dict(
        kv.split("=", 1)
        for kv in shlex.split(re.search(r"^Environment=(.*)$", service, re.M).group(1))  # type: ignore[union-attr]
    )
    assert set(cron_env) == set(unit_env) == {"OPENAI_BASE_URL", "SUMMARIZER_MODEL"}

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    base_env.update(HOME=str(home), SUMMARIZER_CACHE_DIR=str(tmp_path / "cache"))
    out = home / "briefs" / "daily"
    with ScriptedEndpoint(well_behaved) as ep:
        scripted = {"OPENAI_BASE_URL": ep.base_url, "SUMMARIZER_MODEL": "scripted"}  # the endpoint, swapped
        first = subprocess.run(
            [program, *argv], env={**base_env, **scripted}, capture_output=True, text=True, timeout=300
        )
        assert first.returncode == 0, first.stderr
        day1 = json.loads((out / "brief.json").read_text(encoding="utf-8"))
        second = subprocess.run(
            shlex.split(exec_start), env={**base_env, **scripted}, capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 0, second.stderr
    assert first.stdout == first.stderr == ""  # --quiet: cron mails nothing when all went well
    assert [a["url"] for a in day1["articles"]] == [site.url("/news/bbc.html")]
    day2 = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    assert day2["previous"] is not None and [s["since_last"] for s in day2["stories"]] == ["unchanged"]

    analyze = shutil.which("systemd-analyze")
    if analyze:  # the units as written parse, the timer's calendar is valid, ExecStart is executable
        units = tmp_path / "units"
        units.mkdir()
        (units / "summarizer-brief.service").write_text(service, encoding="utf-8")
        timer = readme_block("ini", "# ~/.config/systemd/user/summarizer-brief.timer")
        (units / "summarizer-brief.timer").write_text(timer, encoding="utf-8")
        check = subprocess.run(
            [analyze, "verify", str(units / "summarizer-brief.service"), str(units / "summarizer-brief.timer")],
            env={**base_env, "HOME": str(home)}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr


def test_an_unusable_brief_json_in_out_is_noted_and_skipped(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "brief.json").write_text("{ not json", encoding="utf-8")
    with ScriptedEndpoint(well_behaved) as ep:
        args = ["brief", str(BBC), "--out", str(out), "--base-url", ep.base_url, "--model", "scripted"]
        res = CliRunner().invoke(app, [*args, "--mode", "json"])
    assert res.exit_code == 0
    assert f"summarizer: note: {out / 'brief.json'}: not a brief.json" in res.output
    b = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    assert b["previous"] is None and b["stories"][0]["since_last"] is None


def test_a_page_rewritten_overnight_shows_its_figure_before_and_after(site: WebSite, tmp_path: Path) -> None:
    from web_fixture import Route

    out = tmp_path / "o"
    url = site.feed("/feeds/daily.xml", [site.item("/news/ap.html", AP_DAY)])
    with ScriptedEndpoint(well_behaved) as ep:
        brief(ep, out, url)
        old = site.routes["/news/ap.html"].body
        site.routes["/news/ap.html"] = Route(old.replace(b"already 10 injured", b"already 12 injured"))
        code, b = brief(ep, out, url)
    assert code == 0 and site.downloads["/news/ap.html"] == 2  # the new ETag: downloaded again
    (story,) = b["stories"]
    assert story["since_last"] == "updated"
    assert [c["kind"] for c in story["changes"]] == ["changed_figure"]  # same page: no new source, nothing else
    (change,) = [c for c in story["changes"] if c["quantity"] == "injured"]
    assert change["text"] == "injured: 10 → 12"
    assert "already 12 injured" in change["after_citation"]["quote"]
    assert "already 10 injured" in change["before_citation"]["quote"]  # quoted from yesterday's brief
    assert change["before_article"] is None  # today's text of that page no longer says it
    md = (out / "brief.md").read_text(encoding="utf-8")
    assert "injured: 10 (previous brief: " in md and "→ 12 [1]" in md


def test_every_link_of_the_day_two_page_resolves_in_the_page(two_days) -> None:  # type: ignore[no-untyped-def]
    from html.parser import HTMLParser

    _, out, _, _ = two_days

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: set[str] = set()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if a.get("id"):
                self.ids.add(str(a["id"]))
            if tag == "a" and a.get("href"):
                self.hrefs.append(str(a["href"]))

    p = Links()
    p.feed((out / "brief.html").read_text(encoding="utf-8"))
    assert p.hrefs and all(h.startswith("#") for h in p.hrefs)  # only in-page links, changes included
    assert [h for h in p.hrefs if h[1:] not in p.ids] == []
