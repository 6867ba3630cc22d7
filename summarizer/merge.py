"""merge: verified per-article results -> stories with reconciled facts, conflicts and a narrative.

Pure assembly, no LLM: stories come from ``cluster``, facts and conflicts from ``reconcile``, and the
narrative and digest are composed deterministically from the facts. ``write`` may replace them with
LLM-written text, which must pass ``check_narrative`` / ``check_cited_text`` here first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from summarizer.models import (
    Article,
    ArticleResult,
    BriefFact,
    Conflict,
    Document,
    Story,
)


def check_narrative(text: str, facts: Sequence[BriefFact]) -> list[str]:
    """Problems with a narrative whose [n] markers index ``facts`` (1-based). Empty list: it passes."""
    return check_cited_text(text, [f.text for f in facts], "fact")


def check_cited_text(text: str, items: Sequence[str], noun: str) -> list[str]:
    """Every sentence cites [n] items that exist, and each of its parts is supported by them.

    A marker after the full stop belongs to the sentence before it ("… each. [1][2]").
    """
    from summarizer.segment import split_sentences
    from summarizer.text import cited_sentences
    from summarizer.verify import claim_problems

    problems: list[str] = []
    if not text.strip():
        return ["narrative is empty"]
    context = " ".join(items)
    for sentence, marks in cited_sentences(text, split_sentences):
        bad = [m for m in marks if not 1 <= m <= len(items)]
        if bad:
            problems.append(f"marker [{bad[0]}] does not exist; {noun}s are [1] to [{len(items)}]")
            continue
        if not marks:
            problems.append(f"sentence cites no {noun}: {sentence[:80]!r}")
            continue
        cited = list(dict.fromkeys(marks))
        evidence = [(f"{noun} [{m}]", items[m - 1]) for m in cited]
        problems += [str(p) for p in claim_problems(sentence, evidence, context=context)]
    return problems


def conflict_line(c: Conflict, fact_index: Mapping[str, int]) -> str:
    """'injured: 10 [1] (25 May) vs at least 15 [2] (24 May)' with markers indexing the story's facts."""
    parts = []
    for v in c.values:
        mark = f" [{fact_index[v.fact]}]" if v.fact is not None and v.fact in fact_index else ""
        when = f" ({v.date.day} {v.date:%b})" if v.date else ""
        parts.append(f"{v.value}{mark}{when}")
    return f"{c.label}: " + " vs ".join(parts)


def compose_narrative(facts: Sequence[BriefFact], conflicts: Sequence[Conflict]) -> str:
    """Deterministic stand-in: the best-corroborated facts, verbatim, each with its marker."""
    index = {f.id: i for i, f in enumerate(facts, start=1)}
    ranked = sorted(index.items(), key=lambda kv: (-facts[kv[1] - 1].corroboration, kv[1]))[:3]
    sentences = []
    for _, i in sorted(ranked, key=lambda kv: kv[1]):
        text = facts[i - 1].text.strip()
        text = text if text.endswith((".", "!", "?", "”", '"')) else text + "."
        sentences.append(f"{text} [{i}]")
    for c in conflicts:
        sentences.append(f"Sources differ on {conflict_line(c, index)}.")
    return " ".join(sentences)


def story_title(results: Sequence[ArticleResult]) -> str:
    # A verified headline from the latest report, else that report's own title.
    latest = sorted(results, key=lambda r: r.article.date or dt.date.min, reverse=True)
    for r in latest:
        if r.headline:
            return r.headline
    return latest[0].article.title


def build_stories(results: Sequence[ArticleResult], docs: Mapping[str, Document]) -> list[Story]:
    """Cluster, reconcile and order; narratives are composed here and may be replaced by the LLM's."""
    from summarizer.cluster import cluster_articles, story_weight
    from summarizer.reconcile import reconcile

    by_id = {r.article.id: r for r in results}
    articles: dict[str, Article] = {aid: d.article for aid, d in docs.items()}
    body = {aid: d.article.text[d.article.body_start :] for aid, d in docs.items()}
    groups = cluster_articles([(r.article.id, body[r.article.id]) for r in results])
    stories: list[Story] = []
    for group in groups:
        members = [by_id[a] for a in group]
        facts, conflicts = reconcile(members, articles)
        latest = max((r.article.date for r in members if r.article.date), default=None)
        sources = len({r.article.id for r in members})
        stories.append(
            Story(
                id="",
                title=story_title(members),
                summary=compose_narrative(facts, conflicts),
                summary_origin="composed",
                articles=[r.article.id for r in members],
                facts=facts,
                conflicts=conflicts,
                weight=story_weight(sources, latest),
            )
        )
    stories.sort(key=lambda s: -s.weight)
    for i, s in enumerate(stories, start=1):
        s.id = f"s{i}"
    return stories


def digest(stories: Sequence[Story]) -> str:
    """'Today in N stories: …' built from story titles and source counts only."""
    if not stories:
        return "No stories today."
    parts = []
    for s in stories[:8]:
        n = len(s.articles)
        differ = f"; sources differ on {len(s.conflicts)} figure(s)" if s.conflicts else ""
        parts.append(f"{s.title} ({n} source{'s' if n != 1 else ''}{differ})")
    head = f"Today in {len(stories)} stor{'ies' if len(stories) != 1 else 'y'}: "
    return head + "; ".join(parts) + "."
