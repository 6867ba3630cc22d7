"""extract: send one article to the LLM and get back headline, summary and facts citing sentence ids.

The model sees numbered sentences and cites ids, never quotes: ids are checked exactly, cost few
output tokens and give exact spans. Our checks run inside a plain pydantic validator, so instructor
re-asks with precise feedback ("you wrote 370; sentence 4 says 307"). When the re-asks run out, the
best structurally valid attempt goes on to the verify stage, which keeps what passes.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, ValidationError, ValidationInfo, model_validator

from summarizer.llm import LLM, validation_context
from summarizer.models import ArticleResult, Document, LLMExtraction, Rejection, Usage
from summarizer.templates import Prompts

MAX_PROMPT_SENTENCES = 120
MAX_PROMPT_CHARS = 12_000
RAW_AUDIT_CHARS = 2_000


# The schema the model fills, plus our checks when a Document is in the validation context. (Its docstring
# is the schema's description, which the model reads.)
class CheckedExtraction(LLMExtraction):
    """What the model is asked to return for one article."""

    model_config = ConfigDict(title="LLMExtraction")

    @model_validator(mode="after")
    def _verified(self, info: ValidationInfo) -> CheckedExtraction:
        ctx = validation_context(info.context)
        doc = ctx.get("document")
        if isinstance(doc, Document):
            from summarizer.verify import feedback

            issues = feedback(self, doc)
            if issues:
                # One finding a line: the re-ask (prompts/reask.user.j2) lists them in our own words.
                raise ValueError("\n".join(issues[:12]))
        return self


@functools.cache
def _schema_json() -> str:
    return json.dumps(CheckedExtraction.model_json_schema(), sort_keys=True)


def schema() -> dict[str, Any]:
    """The extraction schema (computed once: it is part of every cache key)."""
    return dict(json.loads(_schema_json()))


def prompt_sentences(doc: Document) -> tuple[list[dict[str, Any]], bool]:
    """The sentences that fit the prompt budget; long articles are cut and the rest stays extractive."""
    shown: list[dict[str, Any]] = []
    used = 0
    for s in doc.sentences[:MAX_PROMPT_SENTENCES]:
        used += len(s.text) + 8
        if used > MAX_PROMPT_CHARS and shown:
            break
        shown.append({"id": s.id, "text": s.text})
    return shown, len(shown) < len(doc.sentences)


def build_prompt(doc: Document, prompts: Prompts, max_facts: int = 8) -> tuple[str, str]:
    sentences, truncated = prompt_sentences(doc)
    a = doc.article
    system = prompts.render("extract.system.j2", max_facts=max_facts)
    user = prompts.render(
        "extract.user.j2",
        title=a.title,
        date=a.date.isoformat() if a.date else "",
        sentences=sentences,
        truncated=truncated,
    )
    return system, user


@dataclass
class Extracted:
    extraction: LLMExtraction | None
    attempt: int
    rejected: list[Rejection] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    events: list[str] = field(default_factory=list)
    transport_failed: bool = False


def _score(candidate: LLMExtraction, doc: Document) -> int:
    from summarizer.verify import judge_fact

    return sum(judge_fact(f.text, f.sentence_ids, doc)[0].ok for f in candidate.facts)


def parse_answer(raw: str) -> LLMExtraction | None:
    # Models sometimes wrap JSON in prose or fences; the object between the outer braces is what counts.
    start, end = raw.find("{"), raw.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return LLMExtraction.model_validate(json.loads(raw[start : end + 1], strict=False))
    except (ValidationError, json.JSONDecodeError, ValueError):
        return None


async def extract(doc: Document, llm: LLM, prompts: Prompts, *, max_reasks: int = 2) -> Extracted:
    system, user = build_prompt(doc, prompts)
    ctx: dict[str, Any] = {"document": doc}
    out = await llm.structured(
        label=doc.article.id,
        system=system,
        user=user,
        response_model=CheckedExtraction,
        context=ctx,
        max_reasks=max_reasks,
    )
    shown, truncated = prompt_sentences(doc)
    if truncated:
        # Past the prompt budget: the model sees the start; verify still quotes figures from the whole text.
        out.events.insert(
            0,
            f"long article: the LLM saw sentences 0-{len(shown) - 1} of {len(doc.sentences)}"
            f" ({MAX_PROMPT_CHARS:,} characters)",
        )
    result = Extracted(
        extraction=None,
        attempt=out.attempts,
        usage=out.usage,
        events=list(out.events),
        transport_failed=out.transport_failed,
    )
    if out.value is not None:
        result.extraction = out.value
    else:
        # Candidates: every attempt whose raw output is structurally valid; verify judges its parts.
        candidates = [(f.attempt, p) for f in out.failures if (p := parse_answer(f.content)) is not None]
        if candidates:
            best_n, best = max(candidates, key=lambda c: (_score(c[1], doc), c[0]))
            result.extraction, result.attempt = best, best_n
        if out.error:
            result.events.append(out.error)
    for f in out.failures:
        if f.attempt == result.attempt and result.extraction is not None:
            continue  # its parts are judged one by one in verify
        result.rejected.append(
            Rejection(
                article=doc.article.id,
                field="response",
                content=f.content[:RAW_AUDIT_CHARS] or "(empty)",
                reasons=f.problems,
                attempt=f.attempt,
            )
        )
    if out.transport_failed and out.error:
        result.rejected.append(
            Rejection(
                article=doc.article.id,
                field="response",
                content="(no response)",
                reasons=[out.error],
                attempt=out.attempts,
            )
        )
    return result


def from_raw(raw: str, doc: Document, *, attempt: int = 1, usage: Usage | None = None, event: str = "") -> Extracted:
    """A raw answer that did not come through ``extract`` (a Batch API result), judged the same way."""
    parsed = parse_answer(raw)
    rejected = (
        []
        if parsed is not None
        else [
            Rejection(
                article=doc.article.id,
                field="response",
                content=raw[:RAW_AUDIT_CHARS] or "(empty)",
                reasons=["the answer is not valid JSON for the schema"],
                attempt=attempt,
            )
        ]
    )
    return Extracted(
        extraction=parsed, attempt=attempt, rejected=rejected, usage=usage or Usage(), events=[event] if event else []
    )


def failed(doc: Document, reason: str) -> Extracted:
    """No answer at all (a provider outage, a failed batch line): the article stays, extractive, with the reason."""
    return Extracted(
        extraction=None,
        attempt=0,
        events=[reason],
        rejected=[Rejection(article=doc.article.id, field="response", content="(no response)", reasons=[reason])],
        transport_failed=True,
    )


def to_result(got: Extracted, doc: Document) -> ArticleResult:
    """The one path from a model's answer to a verified ArticleResult (live runs and batch collection)."""
    from summarizer.verify import verify_extraction

    return verify_extraction(
        got.extraction, doc, attempt=got.attempt, rejected=got.rejected, usage=got.usage, events=got.events
    )
