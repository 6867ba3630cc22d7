"""brief.html: static checks, then a real headless Chromium driven over the DevTools protocol.

The brief is built by hand from real sentences of the seeds (exact offsets found with str.find), plus a
hostile article whose title and text carry ``<script>`` and an ``&amp;`` entity.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import itertools
import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import seed_article

from summarizer.models import (
    Agreement,
    Article,
    ArticleRef,
    ArticleResult,
    Brief,
    BriefFact,
    Citation,
    Conflict,
    ConflictValue,
    Figure,
    FigureMention,
    Rejection,
    Story,
)
from summarizer.render.html import render_html

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_COPY = Path("/tmp/brief_screenshot.png")
EVIL_TEXT = (
    "Council meets <script>window.__pwned=1</script> on Monday.\n\n"
    'The mayor said fees rise to 12 dollars &amp; parking <img src=x onerror="window.__pwned=2"> stays free.'
)


def _cite(art: Article, sentence: str) -> Citation:
    start = art.text.find(sentence)
    assert start >= 0, sentence
    return Citation(
        article=art.id,
        sentence=art.text.count(". ", 0, start),
        start=start,
        end=start + len(sentence),
        quote=sentence,
    )


def _ref(a: Article) -> ArticleRef:
    return ArticleRef(id=a.id, path=a.path, title=a.title, date=a.date)


AP_307 = (
    "Ukrainian President Volodymyr Zelenskyy and Russia’s Defense Ministry confirmed that each side returned "
    "307 prisoners of war, following an earlier swap of 390 detainees on Friday."
)
BBC_307 = (
    "The ministry in Moscow said each side brought home 307 more soldiers, a day after each released a total "
    "of 390 combatants and civilians."
)
AP_INJ = "“There are already 10 injured,” Kyiv Mayor Vitali Klitschko said early Sunday, per AP."
BBC_INJ = (
    "The announcement was made hours after Kyiv suffered a large-scale Russian drone and missile attack that "
    "left at least 15 people injured, according to local officials."
)
AP_FRONT = "Despite the breakthrough, intense fighting continued across Ukraine’s 1,000-kilometer front line."
BBC_FRONT = (
    "Battles continued along the roughly 620-mile front line, where tens of thousands of soldiers have been "
    "killed, and neither country has relented in its deep strikes."
)
BBC_788 = (
    "Russia’s defence ministry said it had shot down 788 Ukrainian drones away from the battlefield "
    "between May 20 and May 23."
)

AP_STRIKE = (
    "According to regional officials, Russia fired 14 ballistic missiles and deployed 250 Shahed drones, "
    "with Ukrainian forces managing to neutralise 245 of them."
)
BBC_STRIKE = (
    "Russia attacked Ukraine with 14 ballistic missiles and 250 Shahed drones overnight, officials said, "
    "adding that Ukrainian forces shot down six missiles and neutralised 245 drones – with 128 drones shot "
    "down and 117 thwarted using electronic warfare."
)
# Facts past the six shown: the page folds them into a <details>.
EXTRA_BBC = [
    "The debris of intercepted missiles and drones fell in at least six city districts of the Ukrainian capital.",
    "Ukraine’s air force said Russia fired 175 Shahed and decoy drones, as well as a ballistic missile since "
    "late Thursday.",
]


def build_brief() -> tuple[Brief, dict[str, Article]]:
    ap = seed_article("a1", "ap_2025-05-25.txt")
    bbc = seed_article("a2", "bbc_2025-05-24.txt")
    evil_text = EVIL_TEXT
    evil = Article(
        id="a3",
        path="evil<script>.txt",
        title="Fees <script>window.__pwned=3</script> &amp; parking",
        date=dt.date(2025, 5, 23),
        text=evil_text,
        body_start=0,
        sha256=hashlib.sha256(evil_text.encode()).hexdigest(),
    )
    evil_sentence = evil_text.split("\n\n")[1]
    c307 = [_cite(ap, AP_307), _cite(bbc, BBC_307)]
    front = [_cite(ap, AP_FRONT), _cite(bbc, BBC_FRONT)]
    inj_ap, inj_bbc = _cite(ap, AP_INJ), _cite(bbc, BBC_INJ)
    facts = [
        BriefFact(
            id="f1",
            text="Each side returned 307 prisoners of war, after an earlier swap of 390 on Friday.",
            citations=c307,
            sources=["a1", "a2"],
            corroboration=2,
            single_source=False,
        ),
        BriefFact(
            id="f2",
            text="Fighting continued along the 1,000-kilometer front line.",
            citations=front,
            sources=["a1", "a2"],
            corroboration=2,
            single_source=False,
            agreement=[
                Agreement(
                    first=FigureMention(text="1,000-kilometer", article="a1", citation=front[0]),
                    second=FigureMention(text="roughly 620-mile", article="a2", citation=front[1]),
                )
            ],
        ),
        BriefFact(id="f3", text="Kyiv's mayor said 10 people were injured.", citations=[inj_ap], sources=["a1"]),
        BriefFact(id="f4", text="The attack left at least 15 people injured.", citations=[inj_bbc], sources=["a2"]),
        BriefFact(
            id="f5",
            text="Russia said it shot down 788 Ukrainian drones between May 20 and May 23.",
            citations=[_cite(bbc, BBC_788)],
            sources=["a2"],
        ),
    ]
    conflict = Conflict(
        label="injured",
        values=[
            ConflictValue(value="10", article="a1", date=ap.date, citation=inj_ap, fact="f3"),
            ConflictValue(value="at least 15", article="a2", date=bbc.date, citation=inj_bbc, fact="f4"),
        ],
        latest="a1",
        newest=ap.date,
        latest_reports=["a1"],
    )
    strike = [_cite(ap, AP_STRIKE), _cite(bbc, BBC_STRIKE)]
    six_at = BBC_STRIKE.index("six missiles")
    facts.insert(
        1,
        BriefFact(
            id="f1b",
            text=BBC_STRIKE,
            citations=strike,
            sources=["a1", "a2"],
            corroboration=2,
            single_source=False,
            figures=[
                Figure(
                    text="14 ballistic missiles",
                    value=14,
                    start=BBC_STRIKE.index("14"),
                    end=BBC_STRIKE.index("14") + 2,
                    sources=["a1", "a2"],
                    citations=strike,
                ),
                Figure(
                    text="six missiles", value=6, start=six_at, end=six_at + 3, sources=["a2"], citations=[strike[1]]
                ),
            ],
        ),
    )
    for k, sentence in enumerate(EXTRA_BBC, start=1):
        facts.append(BriefFact(id=f"x{k}", text=sentence, citations=[_cite(bbc, sentence)], sources=["a2"]))
    story = Story(
        id="s1",
        title="Russia and Ukraine swap 307 prisoners each as Kyiv is hit <b>hard</b>",
        summary=(
            "Russia and Ukraine each freed 307 prisoners [1] while fighting went on along the front [2]. "
            "Reports of the injured differ [3][4]. A marker that resolves to nothing [9] is dropped."
        ),
        summary_origin="composed",
        articles=["a1", "a2"],
        facts=facts,
        conflicts=[conflict],
        outlets={"a1": "AP", "a2": "BBC"},
        weight=2.7,
    )
    evil_story = Story(
        id="s2",
        title="Council <script>window.__pwned=4</script> fees",
        summary="The mayor said fees rise to 12 dollars [1].",
        articles=["a3"],
        facts=[
            BriefFact(
                id="f1",
                text="Fees rise to 12 dollars <script>window.__pwned=5</script> &amp; more.",
                citations=[_cite(evil, evil_sentence)],
                sources=["a3"],
            )
        ],
        weight=1.7,
    )
    arts = {"a1": ap, "a2": bbc, "a3": evil}
    brief = Brief(
        title="Daily brief <i>test</i>",
        generated_at=dt.datetime(2025, 5, 25, 9, 30),
        digest="Today in 2 stories: prisoner swap (2 sources; sources differ on 1 figure); council fees.",
        articles=[_ref(a) for a in arts.values()],
        results=[ArticleResult(article=_ref(a), status="verified") for a in arts.values()],
        stories=[story, evil_story],
        rejected=[
            Rejection(
                article="a1",
                field="fact",
                content="Each side returned 370 prisoners.",
                reasons=["you wrote 370; sentence 3 says 307"],
            ),
            Rejection(article="a2", field="headline", content="<script>alert(1)</script>", reasons=["ungrounded"]),
        ],
    )
    return brief, arts


# ---------------------------------------------------------------- static checks (no browser)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: list[str] = []
        self.marks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.append(str(a["id"]))
            if tag == "mark":
                self.marks.append(str(a["id"]))
        if a.get("href"):
            self.hrefs.append(str(a["href"]))
        if a.get("src"):
            self.srcs.append(str(a["src"]))


@pytest.fixture(scope="module")
def page() -> tuple[str, Brief, dict[str, Article]]:
    brief, arts = build_brief()
    return render_html(brief, arts), brief, arts


def test_self_contained_and_every_marker_resolves(page: tuple[str, Brief, dict[str, Article]]) -> None:
    html_text, brief, arts = page
    p = _Collect()
    p.feed(html_text)
    assert len(p.ids) == len(set(p.ids)), "duplicate ids"
    assert p.hrefs and all(h.startswith("#") for h in p.hrefs), "only in-page links"
    assert all(h[1:] in p.ids for h in p.hrefs), [h for h in p.hrefs if h[1:] not in p.ids]
    assert p.srcs == [] and "link" not in p.tags and "iframe" not in p.tags
    assert p.tags.count("script") == 1
    assert '<meta name="viewport"' in html_text and "Content-Security-Policy" in html_text
    # Every citation of the brief has its <mark> around the exact quote in the escaped source text.
    for story in brief.stories:
        for f in story.facts:
            for c in f.citations:
                mid = f"{c.article}-{c.start}-{c.end}"
                assert mid in p.marks
                assert arts[c.article].text[c.start : c.end] == c.quote
    # The CSP hash matches the page's own script, so it runs and nothing else does.
    script = html_text.split("<script>")[1].split("</script>")[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html.unescape(html_text)


def test_escapes_article_and_llm_text(page: tuple[str, Brief, dict[str, Article]]) -> None:
    html_text, _, _ = page
    assert "<script>window" not in html_text and "<img" not in html_text and "<b>hard" not in html_text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html_text
    assert "&amp;amp;" in html_text  # the article's literal "&amp;" survives as text
    assert "[9]" not in html_text  # a narrative marker pointing at no fact is dropped


def test_sections_badges_conflict_and_audit(page: tuple[str, Brief, dict[str, Article]]) -> None:
    html_text, _, _ = page
    assert html_text.index('id="digest"') < html_text.index('id="s1"') < html_text.index('id="s2"')
    assert html_text.count('class="conflict"') == 1 and "Sources differ: injured" in html_text
    assert html_text.count(">AP only<") == 1 and html_text.count(">BBC only<") == 2 + len(EXTRA_BBC)
    assert html_text.count(">[3] only<") == 1  # the council fact: its story names no outlets
    assert html_text.count("2 sources agree") == 3
    assert '<span class="badge thin">BBC only: six missiles</span>' in html_text
    assert '<span class="fig thin" title="BBC only">six</span>' in html_text
    fold = html_text.split('<details class="more">', 1)[1].split("</details>", 1)[0]
    assert "<summary>2 more facts</summary>" in fold and fold.count("<li ") == len(EXTRA_BBC)
    assert "<strong>2</strong> pieces of LLM output were rejected" in html_text
    assert "you wrote 370; sentence 3 says 307" in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert 'id="src-a1"' in html_text and 'id="src-a3"' in html_text


# ---------------------------------------------------------------- the browser


class CDP:
    """Just enough of the Chrome DevTools Protocol: commands with ids, events kept for inspection."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        mid = next(self.ids)
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            if "method" in msg:
                self.events.append(msg)

    def js(self, expr: str) -> Any:
        r = self.send("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expr: str, timeout: float = 10) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.js(expr)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expr}")

    def mouse(self, kind: str, x: float, y: float, **kw: Any) -> None:
        self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, **kw)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CDP]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                port = int(m.group(1))
        assert port, "chromium did not start its DevTools endpoint"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        cdp = CDP(ws_url)
        try:
            yield cdp
        finally:
            cdp.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()


def _load(cdp: CDP, path: Path, width: int, height: int) -> None:
    cdp.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=2, mobile=True)
    # Headless pages have no window focus; without this, focus() fires no focus events.
    cdp.send("Emulation.setFocusEmulationEnabled", enabled=True)
    for domain in ("Page", "Runtime", "Network", "Log"):
        cdp.send(f"{domain}.enable")
    cdp.events.clear()
    cdp.send("Page.navigate", url=path.as_uri())
    cdp.wait("document.readyState === 'complete' && location.href.startsWith('file:')")


def _rect(cdp: CDP, selector: str) -> dict[str, float]:
    return dict(
        cdp.js(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,"
            " height: r.height}; })()"
        )
    )


@pytest.mark.browser
def test_brief_in_chromium(browser: CDP, tmp_path: Path) -> None:
    brief, arts = build_brief()
    out = tmp_path / "brief.html"
    out.write_text(render_html(brief, arts), encoding="utf-8")
    cdp = browser
    _load(cdp, out, 390, 844)

    # Phone width: nothing wider than the screen.
    assert cdp.js("document.documentElement.clientWidth") == 390
    assert cdp.js("document.documentElement.scrollWidth") <= 390

    # The hostile article is shown as text and its script never ran.
    assert cdp.js("typeof window.__pwned") == "undefined"
    body_text = cdp.js("document.body.innerText")
    assert "<script>window.__pwned=1</script>" in body_text
    assert "12 dollars &amp; parking <img src=x" in body_text
    assert cdp.js("document.querySelectorAll('script').length") == 1
    assert cdp.js("document.querySelectorAll('img').length") == 0

    # No request left the page (file:// only), no script error.
    urls = [ev["params"]["request"]["url"] for ev in cdp.events if ev["method"] == "Network.requestWillBeSent"]
    assert urls and all(u.startswith("file://") for u in urls), urls
    assert not [ev for ev in cdp.events if ev["method"] == "Runtime.exceptionThrown"]

    # The conflict box is visible and styled apart from the page.
    box = _rect(cdp, ".conflict")
    assert box["height"] > 40 and box["width"] > 300
    assert cdp.js("getComputedStyle(document.querySelector('.conflict')).display") != "none"
    bg = cdp.js("getComputedStyle(document.querySelector('.conflict')).backgroundColor")
    assert bg != cdp.js("getComputedStyle(document.body).backgroundColor")
    assert "Sources differ: injured" in cdp.js("document.querySelector('.conflict').innerText")

    # Focus: the first marker of fact f1 (307, AP) shows its tooltip with the quote and source.
    marker = "#s1-f1 .cite > a"
    tip = "#s1-f1 .cite > .tip"
    assert cdp.js(f"getComputedStyle(document.querySelector('{tip}')).display") == "none"
    cdp.js(f"document.querySelector('{marker}').focus()")
    assert cdp.js(f"getComputedStyle(document.querySelector('{tip}')).display") == "block"
    tip_text = cdp.js(f"document.querySelector('{tip}').innerText")
    assert "each side returned 307 prisoners of war" in tip_text
    assert arts["a1"].title in tip_text and "2025-05-25" in tip_text
    t = _rect(cdp, tip)
    assert t["width"] > 100 and t["left"] >= 0 and t["right"] <= 390  # the page script kept it on screen
    assert cdp.js("document.documentElement.scrollWidth") <= 390
    cdp.js("document.activeElement.blur()")

    # Hover: a real mouse over the BBC marker of the injured conflict shows that quote.
    hover_marker = ".conflict li:nth-child(2) .cite > a"
    hover_tip = ".conflict li:nth-child(2) .cite > .tip"
    cdp.js(f"document.querySelector('{hover_marker}').scrollIntoView({{block: 'center'}})")
    r = _rect(cdp, hover_marker)
    cdp.mouse("mouseMoved", r["left"] + r["width"] / 2, r["top"] + r["height"] / 2)
    assert cdp.wait(f"getComputedStyle(document.querySelector('{hover_tip}')).display === 'block'")
    assert "at least 15 people injured" in cdp.js(f"document.querySelector('{hover_tip}').innerText")
    assert cdp.js(f"document.querySelector('{hover_tip}').style.left") != ""  # our script placed it
    ht = _rect(cdp, hover_tip)
    assert ht["left"] >= 0 and ht["right"] <= 390

    # Past the budget of six, facts are folded away; the BBC-only figure is marked in place and by a badge.
    cdp.mouse("mouseMoved", 5, 5)
    assert cdp.js("document.querySelectorAll('#s1 ol.facts')[0].children.length") == 6
    assert cdp.js("document.querySelector('#s1 details.more').open") is False
    hidden = f"#s1-x{len(EXTRA_BBC)}"
    assert cdp.js(f"document.querySelector('{hidden}').checkVisibility()") is False
    assert cdp.js("document.querySelector('#s1 details.more > summary').innerText") == "2 more facts"
    thin = "#s1-f1b .badge.thin"
    assert cdp.js(f"document.querySelector('{thin}').innerText") == "BBC only: six missiles"
    assert cdp.js(f"getComputedStyle(document.querySelector('{thin}')).display") != "none"
    assert _rect(cdp, thin)["width"] > 50 and _rect(cdp, thin)["right"] <= 390
    assert cdp.js("document.querySelector('#s1-f1b .fig.thin').innerText") == "six"
    underline = cdp.js("getComputedStyle(document.querySelector('#s1-f1b .fig.thin')).textDecorationLine")
    assert "underline" in underline
    assert cdp.js("document.querySelector('#s1-f4 .badge.single').innerText") == "BBC only"

    # Screenshot of the top of the page on a phone, for a human look: the folded facts and the marks.
    shot = cdp.send(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": 390, "height": 2200, "scale": 1},
    )
    png = base64.b64decode(shot["data"])
    (tmp_path / "brief_390.png").write_bytes(png)
    SCREENSHOT_COPY.write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    cdp.mouse("mouseMoved", 5, 5)

    # A click on the summary unfolds the rest, on screen and within the phone's width.
    summary = "#s1 details.more > summary"
    cdp.js(f"document.querySelector('{summary}').scrollIntoView({{block: 'center'}})")
    r = _rect(cdp, summary)
    cdp.mouse("mousePressed", r["left"] + 10, r["top"] + r["height"] / 2, button="left", clickCount=1)
    cdp.mouse("mouseReleased", r["left"] + 10, r["top"] + r["height"] / 2, button="left", clickCount=1)
    assert cdp.wait("document.querySelector('#s1 details.more').open")
    assert cdp.js(f"document.querySelector('{hidden}').checkVisibility()") is True
    assert _rect(cdp, hidden)["height"] > 0
    assert cdp.js("document.documentElement.scrollWidth") <= 390
    shot = cdp.send("Page.captureScreenshot", format="png")
    (tmp_path / "brief_390_unfolded.png").write_bytes(base64.b64decode(shot["data"]))

    # Click: the marker jumps to the highlighted sentence in the AP source text.
    cdp.js("window.scrollTo(0, 0)")
    cdp.js(f"document.querySelector('{marker}').scrollIntoView({{block: 'center'}})")
    r = _rect(cdp, marker)
    x, y = r["left"] + r["width"] / 2, r["top"] + r["height"] / 2
    cdp.mouse("mousePressed", x, y, button="left", clickCount=1)
    cdp.mouse("mouseReleased", x, y, button="left", clickCount=1)
    c = brief.stories[0].facts[0].citations[0]
    mark_id = f"{c.article}-{c.start}-{c.end}"
    assert cdp.wait("location.hash") == f"#{mark_id}"
    cdp.wait(f"document.querySelector(':target') && document.querySelector(':target').id === '{mark_id}'")
    assert cdp.js("document.querySelector(':target').tagName") == "MARK"
    assert cdp.js("document.querySelector(':target').closest('section').id") == "src-a1"
    assert cdp.js("document.querySelector(':target').textContent") == c.quote
    m = _rect(cdp, f"[id='{mark_id}']")
    assert m["top"] >= 0 and m["bottom"] <= 844 and m["height"] > 0, m
    target_bg = cdp.js("getComputedStyle(document.querySelector(':target')).backgroundColor")
    other_bg = cdp.js("getComputedStyle(document.querySelector('mark:not(:target)')).backgroundColor")
    assert target_bg != other_bg

    shot = cdp.send("Page.captureScreenshot", format="png")
    (tmp_path / "brief_390_target.png").write_bytes(base64.b64decode(shot["data"]))
    assert cdp.js("typeof window.__pwned") == "undefined"


@pytest.mark.browser
def test_desktop_width_has_no_overflow(browser: CDP, tmp_path: Path) -> None:
    brief, arts = build_brief()
    out = tmp_path / "brief.html"
    out.write_text(render_html(brief, arts), encoding="utf-8")
    _load(browser, out, 1280, 900)
    assert browser.js("document.documentElement.scrollWidth") <= 1280
    assert _rect(browser, "main")["width"] <= 800  # readable line length on a wide screen
    shot = browser.send("Page.captureScreenshot", format="png")
    (tmp_path / "brief_1280.png").write_bytes(base64.b64decode(shot["data"]))
    shutil.copy(tmp_path / "brief_1280.png", "/tmp/brief_screenshot_desktop.png")
