"""brief.md: stories as sections; every [n] is a source in the Sources list at the end.

Inside a story the narrative's markers index its facts; here they become the numbers of the sources
behind each fact, so a reader follows [n] straight to the article (the exact quotes are in brief.json
and brief.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from summarizer.changes import display_order
from summarizer.merge import cut_title
from summarizer.models import Agreement, Brief, BriefFact, Conflict, ConflictValue, Story, StoryChange
from summarizer.text import MARKER, marker_ids

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
# Facts shown per story in brief.md; the rest are in brief.json and brief.html.
MAX_FACTS = 6
# The Sources list names each article; its full title is in brief.json.
SOURCE_TITLE_CHARS = 48


def escape(text: str, *, keep_edges: bool = False) -> str:
    """Article/LLM text as inert Markdown: no raw HTML, no links, no emphasis, no fake [n] markers."""
    text = text.replace("&", "&amp;")
    text = _MD_SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), text)
    if keep_edges:  # a piece between markers keeps its outer spaces
        return re.sub(r"\s+", " ", text)
    return " ".join(text.split())


def word_count(text: str) -> int:
    """Words a reader reads: whitespace-separated tokens with a letter or digit (not "—", "·", "-")."""
    return sum(any(ch.isalnum() for ch in t) for t in text.split())


def source_numbers(brief: Brief) -> dict[str, int]:
    return {a.id: i for i, a in enumerate(brief.articles, start=1)}


def _marks(article_ids: list[str], numbers: Mapping[str, int]) -> str:
    return "".join(f"[{numbers[a]}]" for a in dict.fromkeys(article_ids) if a in numbers)


def fact_sources(fact: BriefFact) -> list[str]:
    return fact.sources or list(dict.fromkeys(c.article for c in fact.citations))


def narrative(story: Story, numbers: Mapping[str, int]) -> str:
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(story.summary):
        between = story.summary[pos : m.start()]
        ids = [k for k in marker_ids(m.group(0)) if 1 <= k <= len(story.facts)]
        marks = _marks(list(dict.fromkeys(a for k in ids for a in fact_sources(story.facts[k - 1]))), numbers)
        if between.strip() or not out or marks != out[-1]:  # "[1][2] [1][2]" for two facts reads as one
            out.append(escape(between))
            out.append(marks)
        pos = m.end()
    out.append(escape(story.summary[pos:]))
    return re.sub(r"\s+([.,;:])", r"\1", " ".join(p for p in out if p))


def agreement(a: Agreement, numbers: Mapping[str, int]) -> str:
    """'1,000-kilometer [1] ≈ roughly 620-mile [2]'."""
    first, second = a.first, a.second
    return (
        f"{escape(first.text)} {_marks([first.article], numbers)} ≈ {escape(second.text)} "
        f"{_marks([second.article], numbers)}"
    )


def _outlet(article: str, story: Story, numbers: Mapping[str, int]) -> str:
    return escape(story.outlets.get(article, "")) or f"[{numbers.get(article, '?')}]"


def conflict(c: Conflict, numbers: Mapping[str, int]) -> str:
    """'**Injured**: 10 [1] (25 May) vs at least 15 [2] (24 May)': one entry per value, all its sources."""
    by_value: dict[str, list[ConflictValue]] = {}
    for v in c.values:
        by_value.setdefault(v.value, []).append(v)
    parts = []
    for value, vs in by_value.items():
        dates = sorted({v.date for v in vs if v.date})
        when = f" ({dates[-1].day} {dates[-1]:%b})" if dates else ""
        parts.append(f"{escape(value)} {_marks([v.article for v in vs], numbers)}{when}")
    latest = f" — latest report: [{numbers[c.latest]}]" if c.latest is not None and c.latest in numbers else ""
    return f"- **{escape(c.label).capitalize()}**: " + " vs ".join(parts) + latest


def fact_line(f: BriefFact, story: Story, numbers: Mapping[str, int], *, all_quoted: bool = False) -> list[str]:
    """'- text [1][2] — BBC only: six missiles', then its unit agreements. ``all_quoted``: the
    heading already says every fact is quoted verbatim."""
    from summarizer.reconcile import thinly_backed

    srcs = fact_sources(f)
    # The markers name the sources; only a single source is said in words.
    tags = [f"{_outlet(srcs[0], story, numbers)} only" if srcs else "single source"] if f.single_source else []
    by_outlet: dict[str, list[str]] = {}
    for fig in thinly_backed(f):
        who = " and ".join(_outlet(a, story, numbers) for a in fig.sources)
        by_outlet.setdefault(who, []).append(escape(fig.text))
    tags += [f"{who} only: {', '.join(figs)}" for who, figs in by_outlet.items()]
    if f.origin == "extractive" and not all_quoted:
        tags.append("quoted")
    tag = f" — {'; '.join(tags)}" if tags else ""
    out = [f"- {escape(f.text)} {_marks(srcs, numbers)}{tag}"]
    out += [f"  - agrees: {agreement(a, numbers)}" for a in f.agreement]
    return out


def render_markdown(brief: Brief, *, max_facts: int = MAX_FACTS) -> str:
    """brief.md: each story shows its ``max_facts`` top-ranked facts and says how many more there are."""
    numbers = source_numbers(brief)
    status = {r.article.id: r.status for r in brief.results}
    lines: list[str] = [f"# {escape(brief.title)}", ""]
    meta = [f"{len(brief.articles)} article(s)"]
    if brief.engine:
        meta.append(f"engine: {escape(brief.engine.name)} ({escape(brief.engine.model)})")
    meta.append(f"generated {brief.generated_at:%Y-%m-%d %H:%M} UTC")
    # Digest markers index stories; in Markdown they point at the numbered sections.
    top = (
        MARKER.sub(lambda m: "(" + ", ".join(f"§{k}" for k in marker_ids(m.group(0))) + ")", brief.digest)
        if brief.digest_origin == "llm"
        else brief.digest
    )
    lines += ["_" + " · ".join(meta) + "_", "", escape(top), ""]
    lines += since_last_sections(brief, numbers)
    unchanged_head = False
    for i, story in display_order(brief.stories):
        if story.since_last == "unchanged" and not unchanged_head:
            lines += ["## Unchanged since the last brief", ""]
            unchanged_head = True
        lines += [f"## {i}. {escape(story.title)}", ""]
        origin = "" if story.summary_origin == "llm" else " _(composed from the verified facts)_"
        shown = story.facts[:max_facts]
        all_quoted = bool(shown) and all(f.origin == "extractive" for f in shown)
        heading = "**Key facts** (quoted verbatim)" if all_quoted else "**Key facts**"
        lines += [narrative(story, numbers) + origin, "", heading, ""]
        for f in shown:
            lines += fact_line(f, story, numbers, all_quoted=all_quoted)
        hidden = len(story.facts) - max_facts
        if hidden > 0:
            lines.append(f"- _+{hidden} more fact{'s' if hidden != 1 else ''} in brief.json/.html_")
        if story.conflicts:
            lines += ["", "**Sources differ**", ""]
            lines += [conflict(c, numbers) for c in story.conflicts]
        lines.append("")
    lines += ["## Sources", ""]
    for ref in brief.articles:
        when = ref.date.isoformat() if ref.date else "date unknown"
        mark = " — extractive evidence only" if status.get(ref.id) == "extractive" else ""
        title = escape(cut_title(ref.title, SOURCE_TITLE_CHARS))
        page = f" — `{ref.url.replace('`', '')}`" if ref.url else ""  # fetched: the page, then its text's file
        lines.append(f"[{numbers[ref.id]}] {title} — {when}{page} — `{ref.path.replace('`', '')}`{mark}")
    if brief.errors:
        lines += ["", "## Inputs not used", ""]
        lines += [f"- `{e.path.replace('`', '')}`: {escape(e.reason)}" for e in brief.errors]
    u = brief.usage
    lines += [
        "",
        f"_Audit: {len(brief.rejected)} LLM output(s) rejected (see brief.json) · {u.calls} LLM calls · "
        f"{u.prompt_tokens}+{u.completion_tokens} tokens · ${u.cost_usd:.4f}_",
    ]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- since the last brief


def change_line(c: StoryChange, numbers: Mapping[str, int]) -> str:
    """One change with source markers: 'injured: at least 15 [2] → 10 [1]', 'new source: … [3]'."""

    def mark(aid: str | None) -> str:
        return f" [{numbers[aid]}]" if aid is not None and aid in numbers else ""

    if c.kind == "new_source":
        return f"{escape(c.text)}{mark(c.article)}"
    after = f"{escape(c.after or '')}{mark(c.article)}"
    if c.kind == "new_figure":
        return f"{escape(c.quantity or 'figure')}: {after} (new)"
    if c.before_article is not None:
        before = f"{escape(c.before or '')}{mark(c.before_article)}"
    else:
        src = c.before_source.title if c.before_source else "an earlier source"
        before = f"{escape(c.before or '')} (previous brief: {escape(src)})"
    return f"{escape(c.quantity or 'figure')}: {before} → {after}"


def since_last_sections(brief: Brief, numbers: Mapping[str, int]) -> list[str]:
    """'New today' and 'Updated' at the top of the brief; nothing when there was no previous brief."""
    if brief.previous is None:
        return []
    by_state = {k: [s for s in brief.stories if s.since_last == k] for k in ("new", "updated", "unchanged")}
    lines = [f"_Compared with the brief of {brief.previous.generated_at:%Y-%m-%d %H:%M} UTC._", ""]
    lines += ["## New today", ""]
    lines += [f"- {escape(s.title)} {_marks(s.articles, numbers)}" for s in by_state["new"]] or ["- (none)"]
    lines += ["", "## Updated", ""]
    for s in by_state["updated"]:
        lines.append(f"- **{escape(s.title)}** {_marks(s.articles, numbers)}")
        lines += [f"  - {change_line(c, numbers)}" for c in s.changes]
    if not by_state["updated"]:
        lines.append("- (none)")
    lines.append("")
    return lines
