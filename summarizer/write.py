"""write: the LLM-written story narratives and top-of-brief digest, each verified before it is used.

merge.py assembles stories deterministically (and composes a stand-in narrative); this module is the
only place story text is asked of the LLM. Each text's *outcome* is cached: the verified text, or
"nothing passed, the composed text stands" together with the rejections. A rerun over the same facts
therefore makes no call, whichever way the first run went.

Narratives are asked for up to ``NARRATIVE_BATCH`` stories a call (``write_narratives``): each story's
narrative is verified on its own against its own facts and cached on its own, and a re-ask carries only
the stories whose narrative failed. The digest goes ``write_cited``: one text, re-asked in the same call.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from summarizer.models import BriefFact, LLMDigest, LLMNarratives, Rejection, Story, Usage
from summarizer.templates import Prompts

if TYPE_CHECKING:
    import asyncio

    from summarizer.cache import ResultCache
    from summarizer.llm import LLM

NARRATIVE_FACTS = 12
DIGEST_STORIES = 8
# Stories whose narratives share one call, and the facts' characters one call may carry (the embedded
# engine's context is 8k tokens: prompt and every answer must fit).
NARRATIVE_BATCH = 8
NARRATIVE_BATCH_CHARS = 12_000
# Output caps: a narrative is one short paragraph (per story of a call), a digest up to three sentences.
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
    # Per story of a call: ``worst_cost(..., stories=n)`` scales the output cap.
    "narrative": _Spec(LLMNarratives, "narrative", "merge", NARRATIVE_MAX_TOKENS),
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
        priority=True,  # story writing asked mid-run goes before the articles still waiting for a slot
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


def story_view(story: Story) -> tuple[list[BriefFact], list[str]]:
    """What a narrative of ``story`` may cite: its first facts, and its conflicts with markers into them."""
    from summarizer.merge import conflict_line

    facts = story.facts[:NARRATIVE_FACTS]
    index = {f.id: i for i, f in enumerate(facts, start=1)}
    return facts, [conflict_line(c, index) for c in story.conflicts]


@dataclass
class _Ask:
    """One story of a narratives call, and what its earlier answers got wrong (for the re-ask)."""

    story: Story
    facts: list[BriefFact]
    conflicts: list[str]
    key: str
    previous: str = ""
    problems: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    tag: str = ""  # what the outcome is filed under: the story's id when it was asked

    def __post_init__(self) -> None:
        self.tag = self.tag or self.story.id


def narratives_prompt(asks: Sequence[_Ask], prompts: Prompts) -> tuple[str, str]:
    stories = [
        {"title": a.story.title, "facts": [f.text for f in a.facts], "conflicts": a.conflicts,
         "previous": a.previous, "problems": a.problems}
        for a in asks
    ]  # fmt: skip
    system = prompts.render("narratives.system.j2", conflicts=any(a.conflicts for a in asks))
    return system, prompts.render("narratives.user.j2", stories=stories)


@functools.cache
def _narratives_schema() -> str:
    return json.dumps(LLMNarratives.model_json_schema(), sort_keys=True)  # ~1 ms; once, not per story


def narrative_key(story: Story, model: str, prompts: Prompts) -> str:
    """What decides one story's narrative: the model, the templates, the schema and that story's own facts
    (not the other stories of its call, so a changed story re-asks that story alone)."""
    facts, conflicts = story_view(story)
    sources = [prompts.source(n) for n in ("narratives.system.j2", "narratives.user.j2")]
    schema = _narratives_schema()
    payload = json.dumps([3, "narrative", model, sources, schema, story.title, [f.text for f in facts], conflicts])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def narrative_batches(asks: Sequence[_Ask], size: int = NARRATIVE_BATCH) -> list[list[_Ask]]:
    """Consecutive groups of at most ``size`` stories and ``NARRATIVE_BATCH_CHARS`` of facts."""
    out: list[list[_Ask]] = []
    chars = 0
    for a in asks:
        n = sum(len(f.text) for f in a.facts)
        if not out or len(out[-1]) >= size or (chars + n > NARRATIVE_BATCH_CHARS and out[-1]):
            out.append([])
            chars = 0
        out[-1].append(a)
        chars += n
    return out


def digest_prompt(stories: Sequence[Story], prompts: Prompts) -> tuple[str, str]:
    return prompts.render("digest.system.j2"), prompts.render("digest.user.j2", stories=list(stories[:DIGEST_STORIES]))


def worst_cost(kind: Kind, llm: LLM, system: str, user: str, max_reasks: int = 1, *, stories: int = 1) -> float:
    """What asking for this text may cost at most: the prompt, the output cap (per story of a narratives
    call), every re-ask (for --budget)."""
    from summarizer.cost import rough_tokens

    cap = _SPECS[kind].max_tokens * max(1, stories)
    prompt = rough_tokens(system + user) + rough_tokens(json.dumps(_SPECS[kind].model.model_json_schema()))
    # A re-ask resends the prompt plus the failed answer.
    return (1 + max_reasks) * llm.cost_of(prompt + cap, cap)


class Budget(Protocol):
    """The run's --budget (pipeline.Budget): reserve the worst case before a call, settle what it cost."""

    def reserve(self, usd: float) -> bool: ...

    def settle(self, reserved: float, spent: float) -> None: ...


@dataclass
class Narratives:
    """Outcomes by story id (a story missing here was not asked: no facts, or past the budget)."""

    written: dict[str, Written] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)


async def write_narratives(
    stories: Sequence[Story],
    llm: LLM,
    prompts: Prompts,
    *,
    max_reasks: int = 1,
    cache: ResultCache | None = None,
    budget: Budget | None = None,
    concurrency: int = 4,
    batch: int | None = None,
) -> Narratives:
    """Verified LLM narratives for ``stories``, up to ``batch`` a call; each verified on its own."""
    import asyncio

    out = Narratives()
    asks: list[_Ask] = []
    for story in stories:
        facts, conflicts = story_view(story)
        if not facts:
            continue
        key = narrative_key(story, llm.endpoint.model, prompts)
        hit = (
            _cached(cache.get_value(key), functools.partial(_check_narrative, facts=facts))
            if cache is not None
            else None
        )
        if hit is not None:
            out.written[story.id] = hit
        else:
            asks.append(_Ask(story, facts, conflicts, key))
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(group: list[_Ask]) -> None:
        async with sem:
            estimate = 0.0
            if budget is not None:
                estimate = worst_cost(
                    "narrative", llm, *narratives_prompt(group, prompts), max_reasks, stories=len(group)
                )
                if not budget.reserve(estimate):
                    return  # past the budget: the composed narratives stand
            usage = await write_group(group, llm, prompts, max_reasks, out, cache)
            out.usage.add(usage)
            if budget is not None:
                budget.settle(estimate, usage.cost_usd)

    await asyncio.gather(*(one(g) for g in narrative_batches(asks, batch or NARRATIVE_BATCH)))
    return out


class NarrativeWriter:
    """Narratives asked as their stories are built, while other articles are still at the provider.

    ``add`` each story as it is built (``merge.StoryBuilder``'s ``on_story``); a call goes out as soon as
    ``NARRATIVE_BATCH`` stories (or ``NARRATIVE_BATCH_CHARS`` of facts) are waiting and ``room`` allows
    it; ``finish`` sends the rest and returns every outcome under the stories' final ids. Each story is
    verified, cached and re-asked exactly as :func:`write_narratives` does (the same ``write_group``).
    ``send(group, max_reasks)``: has a sending worker write the group (its call in that worker's share of
    N, its checks off this process's loop) and returns (outcomes by tag, usage), or None when no worker
    can: the group is then written here, once ``room(calls)`` lets one more call go out beside the
    ``calls()`` this writer has out (N in all; None: the client's own slots bound it).
    Not for a ``--budget`` run, whose reservations must stay in order.
    """

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts,
        *,
        cache: ResultCache | None = None,
        max_reasks: int = 1,
        room: Callable[[Callable[[], int]], Any] | None = None,
        send: Callable[[list[_Ask], int], Awaitable[tuple[dict[str, Written], Usage] | None]] | None = None,
    ) -> None:
        self.llm, self.prompts, self.cache, self.max_reasks, self._room = llm, prompts, cache, max_reasks, room
        self._send = send
        self.out = Narratives()
        self._waiting: list[_Ask] = []
        self._asks: list[_Ask] = []
        self._tasks: list[Any] = []
        self._out_now = 0
        self._seen: set[int] = set()
        self.sent_early = 0  # calls that went out before finish()
        self._digest: tuple[list[Story], asyncio.Task[Written]] | None = None  # asked for which stories, its task

    def add(self, story: Story) -> None:
        self._seen.add(id(story))
        if not worth_narrating(story):
            return
        facts, conflicts = story_view(story)
        if not facts:
            return
        key = narrative_key(story, self.llm.endpoint.model, self.prompts)
        ask = _Ask(story, facts, conflicts, key)
        self._asks.append(ask)
        check = functools.partial(_check_narrative, facts=facts)
        hit = _cached(self.cache.get_value(key), check) if self.cache is not None else None
        if hit is not None:
            self.out.written[ask.tag] = hit
            return
        self._waiting.append(ask)
        batches = narrative_batches(self._waiting)
        if len(batches) > 1 or len(batches[0]) >= NARRATIVE_BATCH:
            full = batches if len(batches[-1]) >= NARRATIVE_BATCH else batches[:-1]
            for group in full:
                self._launch(group, early=True)
            self._waiting = [] if full is batches else batches[-1]

    def flush(self, *, early: bool = True) -> None:
        """Send what is waiting now, not at ``finish``: no story worth a narrative is left to come
        (``merge.StoryBuilder``'s ``on_sources_done``), so a fuller call would only come after the run."""
        for group in narrative_batches(self._waiting) if self._waiting else []:
            self._launch(group, early=early)
        self._waiting = []

    def ask_digest(self, stories: list[Story]) -> None:
        """Ask the digest of these stories now (``merge.StoryBuilder``'s ``on_top``: the heaviest ones, all
        built, in their final order), while other articles are still out; ``digest`` hands it over."""
        import asyncio

        self.sent_early += 1
        self._digest = (list(stories), asyncio.ensure_future(self._write_digest(list(stories))))

    async def _write_digest(self, stories: list[Story]) -> Written:
        async with self._calling():
            return await write_digest(stories, self.llm, self.prompts, cache=self.cache)

    @contextlib.asynccontextmanager
    async def _calling(self) -> AsyncIterator[None]:
        """One call of this process's own: once ``room`` lets it out beside the others it has out."""
        if self._room is not None:
            await self._room(lambda: self._out_now)  # re-read on each wake: another call may have gone
        self._out_now += 1  # no await since room() said yes
        try:
            yield
        finally:
            self._out_now -= 1

    def digest(self, stories: Sequence[Story]) -> asyncio.Task[Written] | None:
        """The task of the digest asked early, if it was asked for the stories a digest of ``stories`` shows
        (the same, in the same order); else None, and an early one that no longer fits is cancelled."""
        if self._digest is None:
            return None
        asked, task = self._digest
        self._digest = None
        if [id(s) for s in asked] == [id(s) for s in stories[:DIGEST_STORIES]]:
            return task
        task.cancel()
        return None

    def _launch(self, group: list[_Ask], *, early: bool) -> None:
        import asyncio

        self.sent_early += early
        self._tasks.append(asyncio.ensure_future(self._write(group)))

    async def _write(self, group: list[_Ask]) -> None:
        if self._send is not None and (got := await self._send(group, self.max_reasks)) is not None:
            written, usage = got
            for a in group:  # verified there as here (write_group); cached here, in the run's one cache
                _settle(a, written.get(a.tag) or Written(text=None, rejected=a.rejected), self.out, self.cache)
            self.out.usage.add(usage)
            return
        async with self._calling():
            usage = await write_group(group, self.llm, self.prompts, self.max_reasks, self.out, self.cache)
        self.out.usage.add(usage)

    async def finish(self, stories: Sequence[Story]) -> Narratives:
        """Every outcome, under each story's final id (``StoryBuilder.finish`` numbers them); a story of
        ``stories`` not added yet is asked now."""
        import asyncio

        self._room = None  # every article is done: the run's slots are the client's own again
        self._send = None  # and the sending workers are ending
        for story in stories:
            if id(story) not in self._seen:
                self.add(story)
        self.flush(early=False)
        if self._tasks:
            await asyncio.gather(*self._tasks)
        final = Narratives(usage=self.out.usage)
        for a in self._asks:
            if a.tag in self.out.written:
                final.written[a.story.id] = self.out.written[a.tag]
        return final


def _check_narrative(text: str, facts: Sequence[BriefFact]) -> list[str]:
    from summarizer.merge import check_narrative

    return check_narrative(text, facts)


async def write_group(
    group: list[_Ask], llm: LLM, prompts: Prompts, max_reasks: int, out: Narratives, cache: ResultCache | None
) -> Usage:
    """Ask for the group's narratives, then re-ask for the failing stories only; record each outcome."""
    usage = Usage()
    pending = list(group)
    for attempt in range(1, max_reasks + 2):
        system, user = narratives_prompt(pending, prompts)
        got = await llm.structured(
            label=",".join(a.story.id for a in pending),
            system=system,
            user=user,
            response_model=LLMNarratives,
            max_reasks=0,  # our re-ask below carries only the stories that failed
            max_tokens=NARRATIVE_MAX_TOKENS * len(pending),
            priority=True,  # before the articles still waiting for a slot (llm.Slots)
        )
        usage.add(got.usage)
        if got.transport_failed:
            for a in pending:  # a provider outage decides nothing about the text: not cached, asked next run
                a.rejected.append(_rejection("(no response)", [got.error or "no response"], attempt))
                out.written[a.tag] = Written(text=None, rejected=a.rejected)
            break
        answers: dict[int, str] = {}
        if got.value is not None:
            for item in got.value.narratives:
                answers.setdefault(item.story, item.narrative.strip())
        failed = got.failures[-1] if got.failures else None
        still: list[_Ask] = []
        for n, a in enumerate(pending, start=1):
            text = answers.get(n)
            if text is not None:
                problems, content = _check_narrative(text, a.facts), text
            elif failed is not None:
                problems, content = failed.problems, failed.content
            else:
                problems, content = [f"the answer has no narrative for story {n}"], "(none)"
            if not problems:
                _settle(a, Written(text=text, rejected=a.rejected), out, cache)
                continue
            a.rejected.append(_rejection(content, problems, attempt))
            a.previous, a.problems = content[:2000], problems
            still.append(a)
        pending = still
        if not pending:
            break
    for a in pending:
        if a.tag not in out.written:
            _settle(a, Written(text=None, rejected=a.rejected), out, cache)
    return usage


def _rejection(content: str, reasons: list[str], attempt: int) -> Rejection:
    return Rejection(
        stage="merge", field="narrative", content=content[:2000] or "(empty)", reasons=reasons, attempt=attempt
    )


def _settle(a: _Ask, written: Written, out: Narratives, cache: ResultCache | None) -> None:
    out.written[a.tag] = written
    if cache is not None:
        cache.put_value(a.key, {"text": written.text, "rejected": [r.model_dump() for r in written.rejected]})


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
