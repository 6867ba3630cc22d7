"""brief.html: one self-contained page (inline CSS and JS, no external requests), readable on a phone.

* Every citation marker ``[n]`` (n = the source's number, as in brief.md) is a link to
  ``#<article>-<start>-<end>``: the cited sentence, wrapped in a ``<mark>`` inside the full source text
  at the bottom of the page. Hover or focus shows a tooltip with the quote, the source title and date.
* A story's narrative markers ``[k]`` index its facts; each becomes the citation markers of fact k.
* All article, LLM and user text is escaped with :func:`html.escape`; a Content-Security-Policy allows
  only the page's own script (by hash) and inline styles, and no network at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Iterator, Mapping

from summarizer.changes import display_order
from summarizer.models import Article, ArticleRef, Brief, BriefFact, Citation, Conflict, Story, StoryChange
from summarizer.text import MARKER, marker_ids

_SPECIAL = re.compile(r"[&<>\"']")


def e(text: object) -> str:
    """``html.escape(str(text), quote=True)``; most values (ids, numbers, dates) have nothing to escape."""
    s = str(text)
    return html.escape(s, quote=True) if _SPECIAL.search(s) else s


def mark_id(c: Citation) -> str:
    return f"{c.article}-{c.start}-{c.end}"


_CSS = """
:root { --ink:#1d2327; --muted:#5f6b73; --line:#d9dee2; --accent:#0b5cad; --bg:#fff; --soft:#f5f7f9;
  --warn-bg:#fff4e5; --warn-line:#d9822b; --warn-ink:#7a3e00; --ok:#1f7a3f; --mark:#fff3b0;
  --target:#ffc94d; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:17px/1.55 system-ui,-apple-system,"Segoe UI",
  Roboto,"Helvetica Neue",Arial,sans-serif; overflow-wrap:anywhere; }
main { max-width:46rem; margin:0 auto; padding:1rem 1rem 4rem; }
h1 { font-size:1.6rem; line-height:1.25; margin:.5rem 0 .25rem; }
h2 { font-size:1.3rem; line-height:1.3; margin:0 0 .5rem; }
h3 { font-size:1.05rem; margin:1.1rem 0 .4rem; }
.meta { color:var(--muted); font-size:.9rem; margin:.2rem 0 1rem; }
.digest { background:var(--soft); border-left:4px solid var(--accent); padding:.75rem 1rem;
  border-radius:6px; }
.digest p { margin:0 0 .5rem; }
.toc { margin:.25rem 0 0; padding-left:1.25rem; }
.story { border-top:1px solid var(--line); margin-top:1.5rem; padding-top:1rem; }
.narrative { margin:.25rem 0 .75rem; }
.composed { color:var(--muted); font-size:.85rem; }
ol.facts { padding-left:1.5rem; margin:.25rem 0; }
ol.facts li { margin:.45rem 0; }
.badge { display:inline-block; font-size:.72rem; line-height:1.4; padding:0 .45rem; border-radius:999px;
  border:1px solid currentColor; vertical-align:.1em; white-space:nowrap; margin-left:.2rem; }
.badge.multi { color:var(--ok); }
.badge.single { color:var(--muted); }
.badge.extractive { color:var(--warn-ink); }
.badge.thin { color:var(--warn-ink); border-style:dashed; white-space:normal; }
.fig.thin { text-decoration:underline dashed var(--warn-line); text-underline-offset:.2em; }
details.more { margin:.4rem 0; }
details.more > summary { cursor:pointer; color:var(--accent); font-size:.92rem; }
.agree { color:var(--muted); font-size:.9rem; display:block; }
.conflict { background:var(--warn-bg); border:2px solid var(--warn-line); border-radius:8px;
  padding:.6rem .9rem;
  margin:1rem 0; }
.conflict h3 { margin:0 0 .35rem; color:var(--warn-ink); font-size:1rem; }
.conflict h3::before { content:"\\26A0\\FE0E  "; }
.conflict ul { margin:.2rem 0; padding-left:1.2rem; }
.conflict .value { font-weight:700; }
.conflict .note { margin:.35rem 0 0; font-size:.9rem; color:var(--warn-ink); }
.latest { font-size:.72rem; background:var(--warn-line); color:#fff; border-radius:4px; padding:0 .3rem;
  margin-left:.25rem; }
.cites, .nowrap { white-space:nowrap; }
.cite { position:relative; display:inline; }
.cite > a { font-size:.75em; vertical-align:super; line-height:0; text-decoration:none;
  color:var(--accent);
  padding:0 .1em; border-radius:3px; }
.cite.inline > a { font-size:inherit; vertical-align:baseline; line-height:inherit; }
.cite > a:hover, .cite > a:focus { background:var(--accent); color:#fff; outline:none; }
.tip { display:none; position:absolute; z-index:10; top:1.4em; left:0; width:max-content;
  max-width:min(24rem,86vw);
  background:#1d2327; color:#fff; font-size:.85rem; line-height:1.4; padding:.5rem .65rem;
  border-radius:6px;
  box-shadow:0 4px 14px rgba(0,0,0,.25); white-space:normal; font-weight:400; text-align:left; }
.tip q { display:block; margin-bottom:.3rem; }
.tip .src { color:#c9d3da; font-size:.8rem; }
.cite:hover > .tip, .cite:focus-within > .tip { display:block; }
.sources li { margin:.3rem 0; }
h2.texts { margin-top:2rem; }
.source { border-top:1px solid var(--line); margin-top:1.25rem; }
.source .text { white-space:pre-wrap; font-size:.95rem; background:var(--soft); padding:.75rem;
  border-radius:6px; }
mark { background:var(--mark); color:inherit; scroll-margin-top:35vh; border-radius:2px; }
mark:target { background:var(--target); outline:3px solid var(--warn-line); outline-offset:1px; }
.back { font-size:.85rem; }
.audit { border-top:1px solid var(--line); margin-top:2rem; font-size:.92rem; }
.audit details { margin:.4rem 0; }
.audit pre { white-space:pre-wrap; background:var(--soft); padding:.5rem; border-radius:4px;
  font-size:.82rem; }
.errors li { color:var(--warn-ink); }
.since h2 { font-size:1.1rem; margin:1rem 0 .3rem; }
.since ul.changes { margin:.15rem 0 .5rem; padding-left:1.2rem; font-size:.92rem; }
.badge.new { color:var(--accent); }
.badge.updated { color:var(--warn-ink); }
details.unchanged { border-top:1px solid var(--line); margin-top:1.5rem; padding-top:.75rem; }
details.unchanged > summary { cursor:pointer; font-weight:600; }
@media (max-width: 480px) { body { font-size:16px; } main { padding:.75rem .8rem 3rem;
  } h1 { font-size:1.35rem; } }
@media print { .tip { display:none !important; } }
"""

# Keeps a visible tooltip inside the viewport (so it never causes horizontal scrolling on a phone).
_JS = """
(function () {
  function place(cite) {
    var tip = cite.querySelector('.tip');
    if (!tip) return;
    tip.style.left = '0px';
    var r = tip.getBoundingClientRect();
    var vw = document.documentElement.clientWidth;
    var shift = 0;
    if (r.right > vw - 8) shift = (vw - 8) - r.right;
    if (r.left + shift < 8) shift = 8 - r.left;
    tip.style.left = shift + 'px';
  }
  document.querySelectorAll('.cite').forEach(function (c) {
    c.addEventListener('mouseenter', function () { place(c); });
    c.addEventListener('focusin', function () { place(c); });
  });
})();
"""


class _Ctx:
    """Numbers sources (order of ``brief.articles``) and hands out unique tooltip ids."""

    def __init__(self, brief: Brief, articles: Mapping[str, Article]) -> None:
        self.refs: dict[str, ArticleRef] = {a.id: a for a in brief.articles}
        for aid, art in articles.items():  # articles missing from brief.articles still get a number
            self.refs.setdefault(aid, ArticleRef(id=aid, path=art.path, title=art.title, date=art.date))
        self.numbers = {aid: i for i, aid in enumerate(self.refs, start=1)}
        self.articles = articles
        self.tips = 0

    def number(self, article: str) -> int | str:
        return self.numbers.get(article, "?")

    def target(self, c: Citation) -> str:
        art = self.articles.get(c.article)
        if art is not None and 0 <= c.start <= c.end <= len(art.text):
            return "#" + mark_id(c)
        return f"#ref-{c.article}"

    def cite(self, c: Citation, *, inline: bool = False) -> str:
        """A citation marker with its tooltip; ``inline`` sets it on the line instead of superscript."""
        self.tips += 1
        tip = f"tip-{self.tips}"
        ref = self.refs.get(c.article)
        title = ref.title if ref else c.article
        date = ref.date.isoformat() if ref and ref.date else "date unknown"
        return (
            f'<span class="cite{" inline" if inline else ""}">'
            f'<a href="{e(self.target(c))}" aria-describedby="{tip}">'
            f"[{e(self.number(c.article))}]</a>"
            f'<span class="tip" role="tooltip" id="{tip}"><q>{e(" ".join(c.quote.split()))}</q>'
            f'<span class="src">[{e(self.number(c.article))}] {e(title)} · {e(date)}</span></span></span>'
        )

    def cites(self, citations: Iterable[Citation]) -> str:
        seen: set[tuple[str, int, int]] = set()
        out = []
        for c in citations:
            if (c.article, c.start, c.end) not in seen:
                seen.add((c.article, c.start, c.end))
                out.append(self.cite(c))
        return f'<span class="cites">{"".join(out)}</span>' if out else ""


def _glue(text: str, marks: str) -> str:
    """Escaped ``text`` followed by ``marks``, the last word and the markers kept on one line."""
    if not marks:
        return e(text)
    head, sep, last = text.rpartition(" ")
    if len(last) > 30:  # a long token must stay free to wrap on a phone
        return e(text) + marks
    return f'{e(head)}{sep}<span class="nowrap">{e(last)}{marks}</span>'


def _narrative(story: Story, ctx: _Ctx) -> str:
    out: list[str] = []
    pos = 0
    markers = list(MARKER.finditer(story.summary))
    text = ""
    cited: list[Citation] = []
    for n, m in enumerate(markers):
        # "dollars [1]." reads "dollars¹." once the marker is a superscript.
        text += story.summary[pos : m.start()].rstrip(" ")
        # Markers that resolve to nothing are dropped, as in brief.md.
        for k in marker_ids(m.group(0)):
            if 1 <= k <= len(story.facts):
                cited += story.facts[k - 1].citations
        pos = m.end()
        # Adjacent markers ("[1][2][3]") become one run of citations, each source once.
        if n + 1 < len(markers) and not story.summary[pos : markers[n + 1].start()].strip():
            continue
        # One marker per source in a run (its first citation), as brief.md shows [1][2].
        firsts: dict[str, Citation] = {}
        for c in cited:
            firsts.setdefault(c.article, c)
        out.append(_glue(text, ctx.cites(firsts.values())))
        text, cited = "", []
    out.append(e(story.summary[pos:]))
    return "".join(out)


def _outlet(article: str, story: Story, ctx: _Ctx) -> str:
    return story.outlets.get(article, "") or f"[{ctx.number(article)}]"


def _fact_text(f: BriefFact, thin: dict[int, str]) -> str:
    """The fact's text, escaped, with each thinly backed figure (start offset -> who) marked in place."""
    out: list[str] = []
    pos = 0
    for fig in sorted((g for g in f.figures if g.start in thin), key=lambda g: g.start):
        if fig.start < pos or fig.end > len(f.text):
            continue
        out.append(e(f.text[pos : fig.start]))
        out.append(f'<span class="fig thin" title="{e(thin[fig.start])} only">{e(f.text[fig.start : fig.end])}</span>')
        pos = fig.end
    out.append(e(f.text[pos:]))
    return "".join(out)


def _fact(f: BriefFact, story: Story, ctx: _Ctx, anchor: str) -> str:
    from summarizer.reconcile import thinly_backed

    srcs = f.sources or list(dict.fromkeys(c.article for c in f.citations))
    if f.single_source:
        who = f"{_outlet(srcs[0], story, ctx)} only" if srcs else "single source"
        badge = f'<span class="badge single">{e(who)}</span>'
    else:
        badge = f'<span class="badge multi">{f.corroboration} sources agree</span>'
    thin: dict[int, str] = {}
    by_who: dict[str, list[str]] = {}
    for fig in thinly_backed(f):
        who = " and ".join(_outlet(a, story, ctx) for a in fig.sources)
        thin[fig.start] = who
        by_who.setdefault(who, []).append(fig.text)
    for who, figs in by_who.items():
        badge += f'<span class="badge thin">{e(who)} only: {e(", ".join(figs))}</span>'
    if f.origin == "extractive":
        badge += '<span class="badge extractive">extractive: quoted from the article</span>'
    agree = "".join(
        f'<span class="agree">Same figure: {e(a.first.text)} {ctx.cite(a.first.citation, inline=True)} ≈ '
        f"{e(a.second.text)} {ctx.cite(a.second.citation, inline=True)}</span>"
        for a in f.agreement
    )
    marks = ctx.cites(f.citations)
    text = _fact_text(f, thin) + marks if thin else _glue(f.text, marks)
    return f'<li id="{e(anchor)}">{text} {badge}{agree}</li>'


def _conflict(c: Conflict, ctx: _Ctx) -> str:
    rows = []
    for v in c.values:
        when = f"{v.date.day} {v.date:%b %Y}" if v.date else "date unknown"
        latest = '<span class="latest">latest</span>' if c.latest == v.article else ""
        rows.append(
            f'<li><span class="value">{e(v.value)}</span> — source {ctx.cite(v.citation, inline=True)}, '
            f'<span class="when">{e(when)}</span>{latest}</li>'
        )
    if c.newest is None:
        note = "The reports carry no dates."
    elif len(c.latest_reports) == len({v.article for v in c.values}):
        note = f"All reports are dated {c.newest.isoformat()}."
    else:
        which = ", ".join(f"[{ctx.number(a)}]" for a in c.latest_reports)
        note = f"Latest report{'s' if len(c.latest_reports) > 1 else ''}: {which} ({c.newest.isoformat()})."
    return (
        f'<div class="conflict" role="note"><h3>Sources differ: {e(c.label)}</h3><ul>{"".join(rows)}</ul>'
        f'<p class="note">{e(note)}</p></div>'
    )


def _story(i: int, story: Story, ctx: _Ctx, max_facts: int) -> str:
    sid = story.id or f"s{i}"
    n = len(story.articles)
    parts = [
        f'<section class="story" id="{e(sid)}">',
        f"<h2>{i}. {e(story.title)}</h2>",
        f'<p class="meta">{n} source{"s" if n != 1 else ""}'
        + "".join(f' · <a href="#ref-{e(a)}">[{e(ctx.number(a))}]</a>' for a in story.articles)
        + "</p>",
    ]
    if story.summary:
        composed = (
            ' <span class="composed">(composed from the verified facts)</span>' if story.summary_origin != "llm" else ""
        )
        parts.append(f'<p class="narrative">{_narrative(story, ctx)}{composed}</p>')
    parts += [_conflict(c, ctx) for c in story.conflicts]
    if story.facts:
        parts.append("<h3>Key facts</h3>")
        shown, rest = story.facts[:max_facts], story.facts[max_facts:]
        items = "".join(_fact(f, story, ctx, f"{sid}-{f.id}") for f in shown)
        parts.append(f'<ol class="facts">{items}</ol>')
        if rest:
            more = "".join(_fact(f, story, ctx, f"{sid}-{f.id}") for f in rest)
            parts.append(
                f'<details class="more"><summary>{len(rest)} more fact{"s" if len(rest) != 1 else ""}</summary>'
                f'<ol class="facts" start="{len(shown) + 1}">{more}</ol></details>'
            )
    parts.append("</section>")
    return "\n".join(parts)


def _change(c: StoryChange, ctx: _Ctx) -> str:
    """One change; every figure carries its citation marker (the quote on hover, as everywhere)."""
    after = ctx.cite(c.after_citation, inline=True) if c.after_citation else ""
    if c.kind == "new_source":
        link = f' <a href="#ref-{e(c.article)}">[{e(ctx.number(c.article))}]</a>' if c.article else ""
        return f"<li>{e(c.text)}{link}</li>"
    label = e(c.quantity or "figure")
    if c.kind == "new_figure":
        return f'<li>{label}: <span class="value">{e(c.after)}</span> {after} (new)</li>'
    if c.before_article is not None and c.before_citation is not None:
        before = ctx.cite(c.before_citation, inline=True)
    else:
        src = c.before_source.title if c.before_source else "an earlier source"
        before = f"(previous brief: {e(src)})"
    was, now = f'<span class="value">{e(c.before)}</span>', f'<span class="value">{e(c.after)}</span>'
    return f"<li>{label}: {was} {before} → {now} {after}</li>"


def _since_last(brief: Brief, ctx: _Ctx, max_facts: int) -> Iterator[str]:
    """'New today' and 'Updated' first, then the stories (new and updated first), unchanged ones last
    and collapsed. Without a previous brief: the stories, as they are (each made as it is written)."""
    ordered = display_order(brief.stories)
    if brief.previous is None:
        for i, s in ordered:
            yield _story(i, s, ctx, max_facts)
        return
    ids = {s.id: s.id or f"s{i}" for i, s in enumerate(brief.stories, start=1)}
    new = [s for s in brief.stories if s.since_last == "new"]
    updated = [s for s in brief.stories if s.since_last == "updated"]
    parts = [
        f'<section class="since" id="since"><p class="meta">Compared with the brief of '
        f"{e(f'{brief.previous.generated_at:%Y-%m-%d %H:%M}')} UTC.</p><h2>New today</h2><ul>",
        "".join(f'<li><a href="#{e(ids[s.id])}">{e(s.title)}</a></li>' for s in new) or "<li>(none)</li>",
        "</ul><h2>Updated</h2><ul>",
    ]
    for s in updated:
        changes = "".join(_change(c, ctx) for c in s.changes)
        parts.append(f'<li><a href="#{e(ids[s.id])}">{e(s.title)}</a><ul class="changes">{changes}</ul></li>')
    parts.append("</ul></section>" if updated else "<li>(none)</li></ul></section>")
    out = ["".join(parts)]
    badges = {
        "new": '<span class="badge new">new today</span>',
        "updated": '<span class="badge updated">updated</span>',
    }
    unchanged = []
    for i, s in ordered:
        html_story = _story(i, s, ctx, max_facts)
        if s.since_last == "unchanged":
            unchanged.append(html_story)
        else:  # the badge goes right after the story's heading
            out.append(html_story.replace("</h2>", f" {badges.get(s.since_last or '', '')}</h2>", 1))
    if unchanged:
        n = len(unchanged)
        out.append(
            f'<details class="unchanged" id="unchanged"><summary>Unchanged since the last brief ({n} '
            f"stor{'ies' if n != 1 else 'y'})</summary>" + "\n".join(unchanged) + "</details>"
        )
    yield from out


def _source_text(art: Article, citations: list[Citation]) -> str:
    """The article text, escaped, with each cited span wrapped in ``<mark id=...>``."""
    text = art.text
    spans = sorted(
        {(c.start, c.end) for c in citations if 0 <= c.start < c.end <= len(text)},
        key=lambda se: (se[0], -se[1]),
    )
    start = min([art.body_start, *(s for s, _ in spans)]) if spans else art.body_start
    out: list[str] = []
    pos = start
    open_end = -1
    for s, end in spans:
        if s < open_end:
            # Overlaps the previous mark: give it an anchor (ids must resolve) without nesting marks.
            out.append(f'<span id="{e(art.id)}-{s}-{end}"></span>')
            continue
        out.append(e(text[pos:s]))
        out.append(f'<mark id="{e(art.id)}-{s}-{end}">{e(text[s:end])}</mark>')
        pos = open_end = end
    out.append(e(text[pos:]))
    return "".join(out).strip("\n")


def _cited(brief: Brief) -> dict[str, list[Citation]]:
    by_article: dict[str, list[Citation]] = {}
    for story in brief.stories:
        for f in story.facts:
            for c in f.citations:
                by_article.setdefault(c.article, []).append(c)
        for conflict in story.conflicts:
            for v in conflict.values:
                by_article.setdefault(v.citation.article, []).append(v.citation)
        for ch in story.changes:  # a change's before citation may quote a sentence no fact cites today
            if ch.before_article is not None and ch.before_citation is not None:
                by_article.setdefault(ch.before_article, []).append(ch.before_citation)
    return by_article


def _audit(brief: Brief, ctx: _Ctx) -> str:
    n = len(brief.rejected)
    parts = ['<section class="audit" id="audit"><h2>Audit</h2>']
    parts.append(
        f"<p><strong>{n}</strong> piece{'s' if n != 1 else ''} of LLM output "
        f"{'were' if n != 1 else 'was'} rejected by verification and kept out of this brief.</p>"
    )
    if n:
        by_kind: dict[str, int] = {}
        for r in brief.rejected:
            key = f"{r.stage} / {r.field}"
            by_kind[key] = by_kind.get(key, 0) + 1
        parts.append("<ul>" + "".join(f"<li>{e(k)}: {v}</li>" for k, v in sorted(by_kind.items())) + "</ul>")
        rows = []
        for r in brief.rejected:
            where = f"[{ctx.number(r.article)}] " if r.article else ""
            rows.append(
                f"<details><summary>{e(where)}{e(r.stage)} / {e(r.field)} (attempt {r.attempt}): "
                f"{e('; '.join(r.reasons)[:200])}</summary><pre>{e(r.content)}</pre></details>"
            )
        parts.append("".join(rows))
    statuses = [
        f'<li>[{ctx.number(r.article.id)}] {e(r.article.title)} <span class="badge">{e(r.status)}'
        f"{', cached' if r.cached else ''}</span></li>"
        for r in brief.results
    ]
    if statuses:
        parts.append("<h3>Per article</h3><ul>" + "".join(statuses) + "</ul>")
    u = brief.usage
    parts.append(
        f"<p>LLM calls: {u.calls} · tokens: {u.prompt_tokens}+{u.completion_tokens} · "
        f"estimated cost: ${u.cost_usd:.4f}</p></section>"
    )
    return "\n".join(parts)


def render_html(brief: Brief, articles: Mapping[str, Article], *, max_facts: int = 6) -> str:
    """The whole brief as one HTML page; ``articles`` supply the source texts the markers point into.

    Each story shows its ``max_facts`` top-ranked facts; the rest are one click away (``<details>``)."""
    return "".join(html_chunks(brief, articles, max_facts=max_facts))


def _body(brief: Brief, articles: Mapping[str, Article], ctx: _Ctx, max_facts: int) -> Iterator[str]:
    """The page's parts in order (joined by newlines), each made as it is written: ``ctx`` numbers the
    tooltips in this order."""
    meta = [
        f"{len(ctx.refs)} article{'s' if len(ctx.refs) != 1 else ''}",
        f"{len(brief.stories)} stor{'ies' if len(brief.stories) != 1 else 'y'}",
    ]
    if brief.engine:
        meta.append(f"engine: {brief.engine.name} ({brief.engine.model})")
    meta.append(f"generated {brief.generated_at:%Y-%m-%d %H:%M} UTC")
    yield f"<header><h1>{e(brief.title)}</h1>"
    yield f'<p class="meta">{e(" · ".join(meta))}</p></header>'
    text = e(brief.digest)
    if brief.digest_origin == "llm":  # its [n] markers index the stories: link them to the sections
        ids = [s.id or f"s{i}" for i, s in enumerate(brief.stories, start=1)]
        text = re.sub(
            r"\[(\d+)\]",
            lambda m: (
                f'<a href="#{e(ids[int(m.group(1)) - 1])}">[{m.group(1)}]</a>'
                if 1 <= int(m.group(1)) <= len(ids)
                else m.group(0)
            ),
            text,
        )
    digest = [f"<p>{text}</p>"] if brief.digest else []
    if brief.stories:
        differ = ' <span class="latest">sources differ</span>'
        toc = "".join(
            f'<li><a href="#{e(s.id or f"s{i}")}">{e(s.title)}</a>{differ if s.conflicts else ""}</li>'
            for i, s in enumerate(brief.stories, start=1)
        )
        digest.append(f'<ol class="toc">{toc}</ol>')
    yield f'<section class="digest" id="digest" aria-label="Digest">{"".join(digest)}</section>'
    yield from _since_last(brief, ctx, max_facts)

    cited = _cited(brief)
    refs = []
    for aid, ref in ctx.refs.items():
        when = ref.date.isoformat() if ref.date else "date unknown"
        link = f' · <a href="#src-{e(aid)}">full text</a>' if aid in articles else ""
        refs.append(
            f'<li id="ref-{e(aid)}">[{ctx.numbers[aid]}] {e(ref.title)} · {e(when)} · '
            + (f"<code>{e(ref.url)}</code> · " if ref.url else "")  # as text: the page keeps only in-page links
            + f"<code>{e(ref.path)}</code>{link}</li>"
        )
    yield '<section class="sources" id="sources"><h2>Sources</h2><ul>' + "".join(refs) + "</ul></section>"
    if brief.errors:
        errs = "".join(f"<li><code>{e(x.path)}</code>: {e(x.reason)}</li>" for x in brief.errors)
        yield f'<section class="errors"><h2>Inputs not used</h2><ul>{errs}</ul></section>'
    yield _audit(brief, ctx)
    if articles:
        yield '<h2 class="texts">Source texts</h2>'
    for aid, art in articles.items():
        when = art.date.isoformat() if art.date else "date unknown"
        yield (
            f'<section class="source" id="src-{e(aid)}"><h3>[{ctx.numbers[aid]}] {e(art.title)}</h3>'
            f'<p class="meta">{e(when)} · <code>{e(art.path)}</code> · '
            f'<a class="back" href="#digest">back to top</a></p>'
            f'<div class="text">{_source_text(art, cited.get(aid, []))}</div></section>'
        )


def html_chunks(brief: Brief, articles: Mapping[str, Article], *, max_facts: int = 6) -> Iterator[str]:
    """:func:`render_html` piece by piece: the source texts, most of a big brief, one article at a time."""
    ctx = _Ctx(brief, articles)
    script_hash = base64.b64encode(hashlib.sha256(_JS.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    yield (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">\n'
        f"<title>{e(brief.title)}</title>\n<style>{_CSS}</style></head>\n"
        "<body><main>\n"
    )
    for k, part in enumerate(_body(brief, articles, ctx, max_facts)):
        if k:
            yield "\n"
        yield part
    yield f"\n</main>\n<script>{_JS}</script>\n</body></html>\n"
