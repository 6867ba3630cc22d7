"""brief.md: stories as sections; every [n] is a source in the Sources list at the end.

Inside a story the narrative's markers index its facts; here they become the numbers of the sources
behind each fact, so a reader follows [n] straight to the article (the exact quotes are in brief.json
and brief.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from summarizer.changes import display_order
from summarizer.models import Brief, BriefFact, Conflict, Story, StoryChange

MARKER = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def escape(text: str, *, keep_edges: bool = False) -> str:
    """Article/LLM text as inert Markdown: no raw HTML, no links, no emphasis, no fake [n] markers."""
    text = text.replace("&", "&amp;")
    text = _MD_SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), text)
    if keep_edges:  # a piece between markers keeps its outer spaces
        return re.sub(r"\s+", " ", text)
    return " ".join(text.split())


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
        out.append(escape(story.summary[pos : m.start()]))
        k = int(m.group(1))
        if 1 <= k <= len(story.facts):
            out.append(_marks(fact_sources(story.facts[k - 1]), numbers))
        pos = m.end()
    out.append(escape(story.summary[pos:]))
    return re.sub(r"\s+([.,;:])", r"\1", " ".join(p for p in out if p))


def _agreement(line: str, numbers: Mapping[str, int]) -> str:
    # reconcile writes agreement strings with article ids in brackets: "[a1]".
    pieces = re.split(r"\[(a\d+)\]", line)
    return "".join(
        f"[{numbers[p]}]" if i % 2 and p in numbers else escape(p, keep_edges=True) for i, p in enumerate(pieces)
    ).strip()


def conflict(c: Conflict, numbers: Mapping[str, int]) -> str:
    parts = []
    for v in c.values:
        when = f" ({v.date.day} {v.date:%b})" if v.date else ""
        parts.append(f"{escape(v.value)} [{numbers.get(v.article, '?')}]{when}")
    latest = f" — latest report: [{numbers[c.latest]}]" if c.latest is not None and c.latest in numbers else ""
    return f"- **{escape(c.label).capitalize()}**: " + " vs ".join(parts) + latest


def render_markdown(brief: Brief) -> str:
    numbers = source_numbers(brief)
    status = {r.article.id: r.status for r in brief.results}
    lines: list[str] = [f"# {escape(brief.title)}", ""]
    meta = [f"{len(brief.articles)} article(s)", f"{len(brief.stories)} story(ies)"]
    if brief.engine:
        meta.append(f"engine: {escape(brief.engine.name)} ({escape(brief.engine.model)})")
    meta.append(f"generated {brief.generated_at:%Y-%m-%d %H:%M} UTC")
    # Digest markers index stories; in Markdown they point at the numbered sections.
    top = MARKER.sub(lambda m: f"(§{m.group(1)})", brief.digest) if brief.digest_origin == "llm" else brief.digest
    lines += ["_" + " · ".join(meta) + "_", "", escape(top), ""]
    lines += since_last_sections(brief, numbers)
    unchanged_head = False
    for i, story in display_order(brief.stories):
        if story.since_last == "unchanged" and not unchanged_head:
            lines += ["## Unchanged since the last brief", ""]
            unchanged_head = True
        lines += [f"## {i}. {escape(story.title)}", ""]
        origin = "" if story.summary_origin == "llm" else " _(composed from the verified facts)_"
        lines += [narrative(story, numbers) + origin, "", "**Key facts**", ""]
        for f in story.facts:
            srcs = fact_sources(f)
            tag = "single source" if f.single_source else f"{f.corroboration} sources"
            if f.origin == "extractive":
                tag += "; extractive: quoted verbatim, not LLM output"
            lines.append(f"- {escape(f.text)} {_marks(srcs, numbers)} — {tag}")
            for a in f.agreement:
                lines.append(f"  - agrees: {_agreement(a, numbers)}")
        if story.conflicts:
            lines += ["", "**Sources differ**", ""]
            lines += [conflict(c, numbers) for c in story.conflicts]
        lines.append("")
    lines += ["## Sources", ""]
    for ref in brief.articles:
        when = ref.date.isoformat() if ref.date else "date unknown"
        mark = " — extractive evidence only" if status.get(ref.id) == "extractive" else ""
        page = f" — `{ref.url.replace('`', '')}`" if ref.url else ""  # fetched: the page, then its text's file
        lines.append(f"[{numbers[ref.id]}] {escape(ref.title)} — {when}{page} — `{ref.path.replace('`', '')}`{mark}")
    if brief.errors:
        lines += ["", "## Inputs not used", ""]
        lines += [f"- `{e.path.replace('`', '')}`: {escape(e.reason)}" for e in brief.errors]
    lines += ["", "## Audit", ""]
    lines.append(
        f"{len(brief.rejected)} piece(s) of LLM output were rejected by verification and kept out of this brief; "
        "brief.json lists each with its reasons."
    )
    u = brief.usage
    lines.append(
        f"LLM calls: {u.calls}, tokens: {u.prompt_tokens}+{u.completion_tokens}, estimated cost: ${u.cost_usd:.4f}."
    )
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
