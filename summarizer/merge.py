"""merge: verified per-article results -> stories with reconciled facts, conflicts and a narrative.

Stories come from ``cluster``, facts and conflicts from ``reconcile``. The narrative is written by the
LLM from the reconciled facts only and verified like everything else (markers resolve, numbers are
supported by the facts a sentence cites, words are grounded); if it fails, a deterministic
composition from the facts stands in. The digest follows the same rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, ValidationInfo, model_validator

from summarizer.llm import LLM
from summarizer.models import (
    Article,
    ArticleResult,
    BriefFact,
    Conflict,
    Document,
    LLMDigest,
    LLMNarrative,
    Rejection,
    Story,
    Usage,
)
from summarizer.templates import Prompts

if TYPE_CHECKING:
    from summarizer.cache import ResultCache

NARRATIVE_FACTS = 12


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


class CheckedNarrative(LLMNarrative):
    model_config = ConfigDict(title="LLMNarrative")

    @model_validator(mode="after")
    def _verified(self, info: ValidationInfo) -> CheckedNarrative:
        facts = (info.context or {}).get("facts")
        if facts is not None:
            problems = check_narrative(self.narrative, facts)
            if problems:
                raise ValueError("Fix exactly these problems in the narrative:\n- " + "\n- ".join(problems[:10]))
        return self


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


def text_key(kind: str, model: str, system: str, user: str) -> str:
    """Cache key of a generated text: the rendered prompt pins the template, the facts and the model."""
    return hashlib.sha256(json.dumps([kind, model, system, user]).encode("utf-8")).hexdigest()


async def write_narrative(
    story: Story, llm: LLM, prompts: Prompts, *, max_reasks: int = 1, cache: ResultCache | None = None
) -> tuple[list[Rejection], Usage]:
    """Replace the composed narrative with a verified LLM one, if the model manages it."""
    facts = story.facts[:NARRATIVE_FACTS]
    if not facts:
        return [], Usage()
    index = {f.id: i for i, f in enumerate(facts, start=1)}
    conflicts = [conflict_line(c, index) for c in story.conflicts]
    system = prompts.render("narrative.system.j2", conflicts=conflicts)
    user = prompts.render("narrative.user.j2", title=story.title, facts=facts, conflicts=conflicts)
    key = text_key("narrative", llm.endpoint.model, system, user)
    if cache is not None:
        hit = cache.get_text(key)
        if hit is not None and not check_narrative(hit, facts):  # re-verified: the cache is not trusted blindly
            story.summary, story.summary_origin = hit, "llm"
            return [], Usage()
    context: dict[str, Any] = {"facts": facts}
    out = await llm.structured(
        label=story.id,
        system=system,
        user=user,
        response_model=CheckedNarrative,
        context=context,
        max_reasks=max_reasks,
        max_tokens=400,
    )
    rejected = [
        Rejection(
            stage="merge", field="narrative", content=raw[:2000] or "(empty)", reasons=[err], attempt=n, article=None
        )
        for n, raw, err in out.failures
    ]
    if isinstance(out.value, LLMNarrative):
        story.summary = out.value.narrative.strip()
        story.summary_origin = "llm"
        if cache is not None:
            cache.put_text(key, story.summary)
    elif out.error and not out.failures:
        rejected.append(Rejection(stage="merge", field="narrative", content="(no response)", reasons=[out.error]))
    return rejected, out.usage


class CheckedDigest(LLMDigest):
    model_config = ConfigDict(title="LLMDigest")

    @model_validator(mode="after")
    def _verified(self, info: ValidationInfo) -> CheckedDigest:
        stories = (info.context or {}).get("stories")
        if stories is not None:
            problems = check_cited_text(self.digest, stories, "story")
            if problems:
                raise ValueError("Fix exactly these problems in the digest:\n- " + "\n- ".join(problems[:10]))
        return self


def _story_evidence(story: Story) -> str:
    return " ".join([story.title, *(f.text for f in story.facts[:3])])


async def write_digest(
    stories: Sequence[Story], llm: LLM, prompts: Prompts, *, max_reasks: int = 1, cache: ResultCache | None = None
) -> tuple[str | None, list[Rejection], Usage]:
    """A verified LLM digest with [n] markers indexing ``stories``, or None (the composed one stands)."""
    shown = list(stories[:8])
    if not shown:
        return None, [], Usage()
    system = prompts.render("digest.system.j2")
    user = prompts.render("digest.user.j2", stories=shown)
    evidence = [_story_evidence(s) for s in shown]
    key = text_key("digest", llm.endpoint.model, system, user)
    if cache is not None:
        hit = cache.get_text(key)
        if hit is not None and not check_cited_text(hit, evidence, "story"):
            return hit, [], Usage()
    out = await llm.structured(
        label="digest",
        system=system,
        user=user,
        response_model=CheckedDigest,
        context={"stories": evidence},
        max_reasks=max_reasks,
        max_tokens=300,
    )
    rejected = [
        Rejection(stage="digest", field="digest", content=raw[:2000] or "(empty)", reasons=[err], attempt=n)
        for n, raw, err in out.failures
    ]
    if isinstance(out.value, LLMDigest):
        text = out.value.digest.strip()
        if cache is not None:
            cache.put_text(key, text)
        return text, rejected, out.usage
    if out.error and not out.failures:
        rejected.append(Rejection(stage="digest", field="digest", content="(no response)", reasons=[out.error]))
    return None, rejected, out.usage


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
