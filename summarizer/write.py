"""write: the LLM-written story narrative and top-of-brief digest, each verified before it is used.

merge.py assembles stories deterministically (and composes a stand-in narrative); this module is the
only place story text is asked of the LLM. Both texts go one path (``write_cited``): render the prompt,
look the outcome up in the cache, else ask with bounded re-asks, verify, and cache the *outcome*:
the verified text, or "nothing passed, the composed text stands" together with the rejections. A rerun
over the same facts therefore makes no call, whichever way the first run went.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from summarizer.models import LLMDigest, LLMNarrative, Rejection, Story, Usage
from summarizer.templates import Prompts

if TYPE_CHECKING:
    from summarizer.cache import ResultCache
    from summarizer.llm import LLM

NARRATIVE_FACTS = 12
DIGEST_STORIES = 8
# Output caps: a narrative is one short paragraph, a digest up to three sentences.
NARRATIVE_MAX_TOKENS = 400
DIGEST_MAX_TOKENS = 300

Kind = Literal["narrative", "digest"]


class _Checked(BaseModel):
    """Runs the caller's check (``context={"check": fn}``) on the text field, so instructor can re-ask."""

    text_field: ClassVar[str]

    @model_validator(mode="after")
    def _verified(self, info: ValidationInfo) -> _Checked:
        from summarizer.llm import validation_context

        check = validation_context(info.context).get("check")
        if check is not None:
            problems = check(str(getattr(self, self.text_field)))
            if problems:
                raise ValueError("\n".join(problems[:10]))
        return self


class CheckedNarrative(LLMNarrative, _Checked):
    model_config = ConfigDict(title="LLMNarrative")
    text_field: ClassVar[str] = "narrative"


class CheckedDigest(LLMDigest, _Checked):
    model_config = ConfigDict(title="LLMDigest")
    text_field: ClassVar[str] = "digest"


@dataclass
class Written:
    """The outcome of asking for one text: ``text`` is None when nothing passed (the composed text stands)."""

    text: str | None
    rejected: list[Rejection] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cached: bool = False


@dataclass(frozen=True)
class _Spec:
    model: type[BaseModel]
    field: str
    stage: Literal["merge", "digest"]
    max_tokens: int


_SPECS: dict[Kind, _Spec] = {
    "narrative": _Spec(CheckedNarrative, "narrative", "merge", NARRATIVE_MAX_TOKENS),
    "digest": _Spec(CheckedDigest, "digest", "digest", DIGEST_MAX_TOKENS),
}


def outcome_key(kind: Kind, model: str, system: str, user: str, reask: str) -> str:
    """What decides the outcome: the model, the rendered prompt (templates + facts), the schema, the re-ask."""
    schema = json.dumps(_SPECS[kind].model.model_json_schema(), sort_keys=True)
    payload = json.dumps([2, kind, model, system, user, schema, reask], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def write_cited(
    kind: Kind,
    *,
    label: str,
    system: str,
    user: str,
    check: Callable[[str], list[str]],
    llm: LLM,
    prompts: Prompts,
    cache: ResultCache | None = None,
    max_reasks: int = 1,
) -> Written:
    """Ask for one cited text, verify it with ``check``, and cache whatever the outcome was."""
    spec = _SPECS[kind]
    key = outcome_key(kind, llm.endpoint.model, system, user, prompts.source("reask.user.j2"))
    if cache is not None:
        hit = _cached(cache.get_value(key), check)
        if hit is not None:
            return hit
    out = await llm.structured(
        label=label,
        system=system,
        user=user,
        response_model=spec.model,
        context={"check": check},
        max_reasks=max_reasks,
        max_tokens=spec.max_tokens,
    )
    rejected = [
        Rejection(
            stage=spec.stage,
            field=spec.field,
            content=f.content[:2000] or "(empty)",
            reasons=f.problems,
            attempt=f.attempt,
        )
        for f in out.failures
    ]
    text: str | None = None
    if isinstance(out.value, spec.model):
        text = str(getattr(out.value, spec.field)).strip()
    elif out.error and not out.failures:
        rejected.append(Rejection(stage=spec.stage, field=spec.field, content="(no response)", reasons=[out.error]))
    # A provider outage decides nothing about the text: ask again next run.
    if cache is not None and not out.transport_failed:
        cache.put_value(key, {"text": text, "rejected": [r.model_dump() for r in rejected]})
    return Written(text=text, rejected=rejected, usage=out.usage)


def _cached(value: Any, check: Callable[[str], list[str]]) -> Written | None:
    if not isinstance(value, dict) or "text" not in value:
        return None
    text = value["text"]
    try:
        rejected = [Rejection.model_validate(r) for r in value.get("rejected", [])]
    except ValueError:
        return None
    if text is None:
        return Written(text=None, rejected=rejected, cached=True)
    # Re-verified: the cache is not trusted blindly.
    if isinstance(text, str) and not check(text):
        return Written(text=text, rejected=rejected, cached=True)
    return None


def worth_narrating(story: Story) -> bool:
    """An LLM narrative adds something only where it can bring sources together: a single-source story keeps
    the composed one (its facts are that article's verified own), which saves a call per such story."""
    return len(set(story.articles)) >= 2 and len(story.facts) >= 2


def narrative_prompt(story: Story, prompts: Prompts) -> tuple[str, str]:
    from summarizer.merge import conflict_line

    facts = story.facts[:NARRATIVE_FACTS]
    index = {f.id: i for i, f in enumerate(facts, start=1)}
    conflicts = [conflict_line(c, index) for c in story.conflicts]
    system = prompts.render("narrative.system.j2", conflicts=conflicts)
    user = prompts.render("narrative.user.j2", title=story.title, facts=facts, conflicts=conflicts)
    return system, user


def digest_prompt(stories: Sequence[Story], prompts: Prompts) -> tuple[str, str]:
    return prompts.render("digest.system.j2"), prompts.render("digest.user.j2", stories=list(stories[:DIGEST_STORIES]))


def worst_cost(kind: Kind, llm: LLM, system: str, user: str, max_reasks: int = 1) -> float:
    """What asking for this text may cost at most: the prompt, the output cap, every re-ask (for --budget)."""
    from summarizer.cost import rough_tokens

    prompt = rough_tokens(system + user) + rough_tokens(json.dumps(_SPECS[kind].model.model_json_schema()))
    # A re-ask resends the prompt plus the failed answer.
    return (1 + max_reasks) * llm.cost_of(prompt + _SPECS[kind].max_tokens, _SPECS[kind].max_tokens)


async def write_narrative(
    story: Story, llm: LLM, prompts: Prompts, *, max_reasks: int = 1, cache: ResultCache | None = None
) -> Written:
    """A verified LLM narrative for ``story`` whose [n] markers index its first facts, or Written(None)."""
    from summarizer.merge import check_narrative

    facts = story.facts[:NARRATIVE_FACTS]
    if not facts:
        return Written(text=None)
    system, user = narrative_prompt(story, prompts)
    return await write_cited(
        "narrative",
        label=story.id,
        system=system,
        user=user,
        check=lambda text: check_narrative(text, facts),
        llm=llm,
        prompts=prompts,
        cache=cache,
        max_reasks=max_reasks,
    )


def story_evidence(story: Story) -> str:
    """What a digest sentence citing ``story`` may draw on: its title and first facts."""
    return " ".join([story.title, *(f.text for f in story.facts[:3])])


async def write_digest(
    stories: Sequence[Story], llm: LLM, prompts: Prompts, *, max_reasks: int = 1, cache: ResultCache | None = None
) -> Written:
    """A verified LLM digest whose [n] markers index ``stories``, or Written(None)."""
    from summarizer.merge import check_cited_text

    shown = list(stories[:DIGEST_STORIES])
    if not shown:
        return Written(text=None)
    evidence = [story_evidence(s) for s in shown]
    system, user = digest_prompt(shown, prompts)
    return await write_cited(
        "digest",
        label="digest",
        system=system,
        user=user,
        check=lambda text: check_cited_text(text, evidence, "story"),
        llm=llm,
        prompts=prompts,
        cache=cache,
        max_reasks=max_reasks,
    )
