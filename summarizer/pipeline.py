"""Wires the stages together for one run: load -> segment -> extract -> verify -> cluster/merge -> render.

Articles run concurrently (bounded by ``concurrency``); each verified result is cached as soon as it
is done, so a killed run resumes without paying twice. No article is ever dropped: whatever fails
ends as extractive evidence, marked as such, with the failure in the audit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from summarizer.models import (
    Article,
    ArticleEvidence,
    ArticleResult,
    Brief,
    Document,
    EngineInfo,
    InputError,
    Rejection,
    Usage,
)
from summarizer.templates import Prompts
from summarizer.verify import article_ref, ref

if TYPE_CHECKING:
    from summarizer.cache import ResultCache
    from summarizer.cost import Budget
    from summarizer.llm import LLM
    from summarizer.merge import StoryBuilder
    from summarizer.progress import Progress
    from summarizer.workers import SegmentAhead
    from summarizer.write import NarrativeWriter


@dataclass
class Options:
    concurrency: int = 4
    max_reasks: int = 2
    narrative: bool = True
    budget_usd: float | None = None


@dataclass
class Outcome:
    """What one article's path did, for a caller that keeps the stats and the cache itself (a worker's
    parent, ``summarizer.sending``)."""

    sent: bool = False  # asked of the LLM (not cached, not skipped)
    transport_failed: bool = False
    tokens: int = 0


@dataclass
class RunStats:
    llm_articles: int = 0
    cached: int = 0
    skipped_budget: int = 0
    transport_failed: int = 0
    peak_in_flight: int = 0
    events: list[str] = field(default_factory=list)


def cache_key_for(doc: Document, model: str, prompts: Prompts) -> str:
    return _article_key(doc.article, model, prompts)


def _article_key(article: Article, model: str, prompts: Prompts) -> str:
    # The article text, not its sentences: a cache hit needs no segmentation to be found.
    from summarizer.cache import cache_key
    from summarizer.extract import schema

    template = "\x00".join(prompts.source(n) for n in ("extract.system.j2", "extract.user.j2", "reask.user.j2"))
    return cache_key(article_sha256=article.sha256, model=model, prompt_template=template, schema=schema())


def rebind(cached: ArticleResult, doc: Document) -> ArticleResult:
    """A cached result under this run's article id and path (same text, so the offsets hold)."""
    old, new = cached.article.id, doc.article.id
    result = cached.model_copy(deep=True)
    result.article = ref(doc)
    result.cached = True
    for fact in result.facts:
        if fact.id.startswith(f"{old}-"):
            fact.id = new + fact.id[len(old) :]
        for c in fact.citations:
            c.article = new
    for c in result.summary_citations:
        c.article = new
    for rej in result.rejected:
        rej.article = new
    return result


def _estimate(doc: Document, llm: LLM, prompts: Prompts) -> float:
    """Cost of the first call for ``doc``, before it is made: prompt estimate + the output cap."""
    from summarizer.cost import rough_tokens
    from summarizer.extract import build_prompt, schema

    system, user = build_prompt(doc, prompts)
    prompt_tokens = rough_tokens(system + user) + rough_tokens(str(schema()))
    return llm.cost_of(prompt_tokens, llm.endpoint.max_tokens)


async def segment_and_process(
    items: Sequence[Article | Document],
    llm: LLM | None,
    prompts: Prompts,
    options: Options,
    *,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
    budget: Budget | None = None,
    stats: RunStats | None = None,
    on_done: Callable[[ArticleEvidence, ArticleResult], None] | None = None,
) -> tuple[list[ArticleEvidence], list[ArticleResult]]:
    """One verified ArticleResult per article: (evidence, results), in input order.

    Each article's Document lives only while its article is processed: what the later stages need of it
    is kept as its :class:`ArticleEvidence` (``merge.article_evidence``), so a run of 100,000 articles
    does not hold 100,000 segmentations until the brief is written.

    Each article is segmented inside its own task, when its turn for the LLM comes, so the segmenter's
    CPU runs while other articles wait on the provider instead of before the first call goes out. In a
    big concurrent run, worker processes segment ahead instead (``summarizer.workers``), leaving the
    event-loop thread to the calls; everything else (cache, budget, progress, stats) stays here.

    A big run against a server sends from worker processes instead (``summarizer.sending``), each running
    :class:`ArticlePath` on its share.
    ``on_done(evidence, result)`` is called for each article as it is done (``merge.StoryBuilder.add``).
    """
    from summarizer import workers as pool

    raw = [item for item in items if not isinstance(item, Document)]
    workers = (
        pool.SegmentAhead(raw, ahead=pool.LOOKAHEAD * options.concurrency)
        if llm is not None and pool.worth_processes(len(raw), options.concurrency)
        else None
    )
    try:
        return await _process(items, llm, prompts, options, cache, progress, budget, stats, workers, on_done)
    finally:
        if workers is not None:
            workers.close()


async def _process(
    items: Sequence[Article | Document],
    llm: LLM | None,
    prompts: Prompts,
    options: Options,
    cache: ResultCache | None,
    progress: Progress | None,
    budget: Budget | None,
    stats: RunStats | None,
    workers: SegmentAhead | None,
    on_done: Callable[[ArticleEvidence, ArticleResult], None] | None = None,
) -> tuple[list[ArticleEvidence], list[ArticleResult]]:
    # Where each article is in the list the workers segment (Documents need no segmenting).
    position = {id(item): n for n, item in enumerate(i for i in items if not isinstance(i, Document))}
    path = ArticlePath(llm, prompts, options, cache=cache, progress=progress, budget=budget, stats=stats)

    async def document(item: Document | Article) -> Document:
        if workers is None or isinstance(item, Document):
            return _segmented(item)
        return await workers.segment(position[id(item)])

    path.document = document

    async def one(item: Document | Article) -> tuple[ArticleEvidence, ArticleResult]:
        got = await path.one(item)
        if on_done is not None:
            on_done(*got)
        return got

    done = await asyncio.gather(*(one(d) for d in items))
    return [d for d, _ in done], [r for _, r in done]


_LOOK_UP = object()  # ArticlePath.one: look the article up in the cache (the default)


class ArticlePath:
    """One article's way from text to a verified ArticleResult and its evidence: the cache, the budget,
    the call with its re-asks, the checks. The one path, whether the article runs in this process
    (``segment_and_process``) or in a worker process of a big run (``summarizer.sending``)."""

    def __init__(
        self,
        llm: LLM | None,
        prompts: Prompts,
        options: Options,
        *,
        cache: ResultCache | None = None,
        progress: Progress | None = None,
        budget: Budget | None = None,
        stats: RunStats | None = None,
    ) -> None:
        self.llm, self.prompts, self.options = llm, prompts, options
        self.cache, self.progress, self.budget = cache, progress, budget
        self.stats = stats or RunStats()
        self.document: Callable[[Document | Article], Awaitable[Document]] = _as_document
        # When the client bounds its calls in flight itself, twice as many articles may be under way: one is
        # segmented and prompted, or its answer checked, while N calls are at the provider.
        ahead = 2 if llm is not None and llm.max_in_flight else 1
        self._sem = asyncio.Semaphore(max(1, options.concurrency) * ahead)
        self._in_flight = 0
        self.model = llm.endpoint.model if llm is not None else ""

    def key(self, article: Article) -> str | None:
        """The article's cache key, or None when results are not cached (no cache, or no LLM)."""
        if self.cache is None or self.llm is None:
            return None
        return _article_key(article, self.model, self.prompts)

    async def one(
        self, item: Document | Article, hit: Any = _LOOK_UP, *, outcome: Outcome | None = None
    ) -> tuple[ArticleEvidence, ArticleResult]:
        """``hit``: the cached result when the caller looked it up already (None: a miss); ``outcome``
        is filled in for a caller that keeps the stats and the cache itself (a worker's parent)."""
        from summarizer.merge import article_evidence

        doc, result = await self._verified(item, hit, outcome)
        return article_evidence(result, doc), result  # the Document goes here

    async def _verified(
        self, item: Document | Article, hit: Any, outcome: Outcome | None
    ) -> tuple[Document, ArticleResult]:
        from summarizer.extract import extract, to_result
        from summarizer.verify import verify_extraction

        llm, cache, progress, budget, stats, options = (
            self.llm,
            self.cache,
            self.progress,
            self.budget,
            self.stats,
            self.options,
        )
        article = item.article if isinstance(item, Document) else item
        key = self.key(article)
        if hit is _LOOK_UP:
            hit = cache.get(key) if cache is not None and key is not None else None
        if hit is not None:
            stats.cached += 1
            if progress is not None:
                progress.finished(article.id, ok=True, tokens=0)
            doc = await self.document(item)
            return doc, rebind(hit, doc)
        if llm is None:
            doc = _segmented(item)
            result = verify_extraction(None, doc, events=["no LLM configured: extractive evidence"])
            if progress is not None:
                progress.finished(article.id, ok=False, tokens=0)
            return doc, result
        async with self._sem:
            # Segmented only now: with a concurrency limit, this CPU overlaps other articles' LLM waits.
            doc = await self.document(item)
            # Every re-ask is another call: the reservation covers the worst case, so --budget holds.
            reserved = _estimate(doc, llm, self.prompts) * (1 + options.max_reasks) if budget is not None else 0.0
            if budget is not None and not budget.reserve(reserved):
                stats.skipped_budget += 1
                result = verify_extraction(None, doc, events=["not sent: the --budget would be exceeded"])
                if progress is not None:
                    progress.finished(article.id, ok=False, tokens=0)
                return doc, result
            self._in_flight += 1
            stats.peak_in_flight = max(stats.peak_in_flight, self._in_flight)
            if progress is not None:
                progress.started(article.id)
            try:
                got = await extract(doc, llm, self.prompts, max_reasks=options.max_reasks)
            finally:
                self._in_flight -= 1
        stats.llm_articles += 1
        if outcome is not None:
            outcome.sent, outcome.transport_failed = True, got.transport_failed
            outcome.tokens = got.usage.total_tokens
        if budget is not None:
            budget.settle(reserved, got.usage.cost_usd)
        if got.transport_failed:
            stats.transport_failed += 1
        result = to_result(got, doc)
        # Only results that reflect a real model answer are cached; a provider outage is retried next run.
        if cache is not None and key is not None and not got.transport_failed:
            cache.put(key, result)
        if progress is not None:
            progress.finished(article.id, ok=result.status != "extractive", tokens=got.usage.total_tokens)
        return doc, result


async def _as_document(item: Document | Article) -> Document:
    return _segmented(item)


def _segmented(item: Document | Article) -> Document:
    if isinstance(item, Document):
        return item
    from summarizer import segment as segmentation  # the module, looked up at call time (tests patch it)

    return segmentation.segment(item)


async def build_brief(
    docs: Sequence[ArticleEvidence | Document],
    results: Sequence[ArticleResult],
    llm: LLM | None,
    prompts: Prompts,
    options: Options,
    *,
    errors: Sequence[InputError] = (),
    engine: EngineInfo | None = None,
    budget: Budget | None = None,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
    builder: StoryBuilder | None = None,
    writer: NarrativeWriter | None = None,
) -> Brief:
    """Stories, reconciled facts, conflicts, narratives and the digest from verified per-article results.

    ``docs``: each article's evidence as ``segment_and_process`` returns it (Documents are reduced here).
    ``builder``: a StoryBuilder every result was already added to (``on_done``), its stories built meanwhile;
    ``writer``: the NarrativeWriter it handed each story to as it was built (not with a budget)."""
    from summarizer.merge import build_stories, compose_narrative, digest, evidence_for
    from summarizer.write import (
        Written,
        digest_prompt,
        worst_cost,
        worth_narrating,
        write_digest,
        write_narratives,
    )

    stories = builder.finish() if builder is not None else build_stories(results, evidence_for(results, docs))
    rejected: list[Rejection] = [rej for r in results for rej in r.rejected]
    usage = Usage()
    for r in results:
        if not r.cached:
            usage.add(r.usage)
    wanted = llm is not None and options.narrative and len(stories) > 1  # one story: its title is the digest
    # The digest reads titles and facts, never the narratives: without a budget (whose reservations must
    # stay in order) it is asked alongside them, in a slot of its own, one round trip sooner.
    digest_task: asyncio.Task[Written] | None = None
    if llm is not None and options.narrative:
        worth = [s for s in stories if worth_narrating(s)]
        if progress is not None:  # story writing is a phase of its own: narratives and the digest
            progress.phase("stories", len(worth) + (len(stories) > 1))
        if wanted and budget is None and options.concurrency > 1:
            if progress is not None:
                progress.started("digest")
            # Asked while the last articles were out, once its stories were built (StoryBuilder's on_top).
            digest_task = writer.digest(stories) if writer is not None else None
            if digest_task is None:
                digest_task = asyncio.ensure_future(write_digest(stories, llm, prompts, cache=cache))
        if progress is not None:
            for story in worth:
                progress.started(story.id)
        # Several stories a call, each narrative verified on its own against its own facts; asked as the
        # stories were built when a writer was given them.
        if writer is not None and budget is None:
            narrated = await writer.finish(stories)
        else:
            narrated = await write_narratives(
                worth,
                llm,
                prompts,
                cache=cache,
                budget=budget,
                concurrency=max(1, options.concurrency - (digest_task is not None)),
            )
        # A call's tokens are shared by the stories it carried.
        share, extra = divmod(narrated.usage.total_tokens, max(1, len(narrated.written)))
        for story in stories:
            written = narrated.written.get(story.id)
            if written is None:
                continue
            if progress is not None:
                progress.finished(story.id, ok=written.text is not None, tokens=share + extra)
                extra = 0
            rejected += written.rejected
            if written.text is not None:
                story.summary, story.summary_origin = written.text, "llm"
        usage.add(narrated.usage)
    for story in stories:  # a builder made with compose=False left them: only those with no LLM narrative
        if not story.summary:
            story.summary = compose_narrative(story.facts, story.conflicts, story.outlets)
    top = digest(stories)
    origin: Literal["llm", "composed"] = "composed"
    estimate = worst_cost("digest", llm, *digest_prompt(stories, prompts)) if llm is not None and budget else 0.0
    if llm is not None and wanted and (digest_task is not None or budget is None or budget.reserve(estimate)):
        if progress is not None and digest_task is None:
            progress.started("digest")
        written = await (digest_task if digest_task is not None else write_digest(stories, llm, prompts, cache=cache))
        if progress is not None:
            progress.finished("digest", ok=written.text is not None, tokens=written.usage.total_tokens)
        rejected += written.rejected
        usage.add(written.usage)
        if budget is not None:
            budget.settle(estimate, written.usage.cost_usd)
        if written.text:
            top, origin = written.text, "llm"
    dates = sorted({d.article.date for d in docs if d.article.date})
    title = "Brief" + (f": {dates[0]:%-d %B %Y}" if len(dates) == 1 else "")
    if len(dates) > 1:
        title = f"Brief: {dates[0]:%-d %b} – {dates[-1]:%-d %b %Y}"
    return Brief(
        title=title,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        dates=dates,
        digest=top,
        digest_origin=origin,
        engine=engine,
        articles=[article_ref(d.article) for d in docs],
        results=list(results),
        stories=stories,
        rejected=rejected,
        errors=list(errors),
        usage=usage,
    )


def build_brief_sync(*args: Any, **kwargs: Any) -> Brief:
    """:func:`build_brief` from synchronous code (batch collection, benchmarks).

    The coroutine handed to ``asyncio.run`` returns nothing: asyncio reprs a finished task's result
    on the way out, and the repr of a whole Brief costs ~0.4 ms per article.
    """
    built: list[Brief] = []

    async def go() -> None:
        built.append(await build_brief(*args, **kwargs))

    asyncio.run(go())
    return built[0]
