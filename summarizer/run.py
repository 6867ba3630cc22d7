"""What one CLI invocation does: pick the engine, run the pipeline, write the brief, report.

Kept out of cli.py so the CLI stays a thin layer and ``summarizer --help`` imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from summarizer.connect import Connection
from summarizer.templates import Prompts


@dataclass(kw_only=True)
class BriefRequest(Connection):
    """One `summarizer brief` job: the inputs, the options, and (inherited) which LLM to talk to."""

    inputs: list[str]
    out: Path = Path("brief")
    prompts_dir: Path | None = None
    concurrency: int | None = None
    max_reasks: int | None = None
    narrative: bool | None = None  # None: on for hosted APIs, off for a local engine
    use_cache: bool = True
    budget: float | None = None
    formats: list[str] = field(default_factory=lambda: ["md", "json", "html"])
    cache_path: Path | None = None
    since: dt.datetime | None = None  # keep only articles dated within the window (undated kept, marked)
    previous: Path | None = None  # the brief to compare with (default: brief.json already in ``out``)
    refresh: bool = False  # download pages again instead of revalidating the page cache
    max_facts: int | None = None  # facts per story in brief.md (None: the renderer's default, 6)


# A run makes millions of short-lived objects and few cycles: the youngest generation is collected every
# 10,000 allocations instead of CPython's 700 (outside the LLM at 3,000 articles, ~0.1-0.3 ms an article
# less, benchmarks/bench_batch.py's pass measured both ways; 100,000 articles stay under 4 GiB).
BATCH_GC_YOUNG = 10_000
# A whole-heap pass after this many middle ones (10 by default): each walks all the evidence kept so far, so
# their cost grew with the run (~0.09 ms an article at 30,000). The run's garbage dies young (peak unchanged).
BATCH_GC_OLD = 100


def batch_collector() -> tuple[int, int, int]:
    """Set the cyclic collector for the rest of a run: what is loaded is frozen (modules, articles and the
    client live for the whole run, so no pass need scan them again: ~0.1 ms an article at 3,000, measured),
    young objects are collected less often and the whole heap rarely. Returns the thresholds
    :func:`restore_collector` puts back."""
    saved = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(BATCH_GC_YOUNG, saved[1], BATCH_GC_OLD)
    return saved


def restore_collector(saved: tuple[int, int, int]) -> None:
    """Undo :func:`batch_collector`: a caller in the same process (tests, a notebook) gets its collector back."""
    gc.set_threshold(*saved)
    gc.unfreeze()


def _say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


def run_brief(req: BriefRequest) -> int:
    """The whole `summarizer brief` job. Returns the exit code."""
    import logging

    # instructor logs every failed validation at ERROR; our audit already records them with reasons.
    if not logging.getLogger("summarizer").isEnabledFor(logging.INFO):
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
    from summarizer.connect import open_llm
    from summarizer.llm import CallLog
    from summarizer.load import load_inputs
    from summarizer.merge import StoryBuilder
    from summarizer.models import Brief
    from summarizer.pipeline import Options, RunStats, build_brief, segment_and_process
    from summarizer.progress import Progress, progress_enabled
    from summarizer.render import write_brief
    from summarizer.write import DIGEST_STORIES, NarrativeWriter

    started = time.perf_counter()
    try:
        prompts = Prompts(req.prompts_dir)
    except FileNotFoundError as exc:
        _say(f"summarizer: {exc}")
        return 2
    from summarizer.changes import find_previous, since_counts
    from summarizer.feeds import apply_window, write_sources
    from summarizer.fetch import FetchOptions

    previous, previous_path, why = find_previous(req.out, req.previous)
    if why is not None:
        _say(f"summarizer: {why}", quiet=req.previous is None and req.quiet)
        if req.previous is not None:
            return 2
    loaded = load_inputs(req.inputs, fetch=FetchOptions(refresh=req.refresh), since=req.since)
    if req.since is not None:
        loaded.notes += apply_window(loaded, req.since)
    for e in loaded.errors:
        _say(f"summarizer: {e.path}: {e.reason}")
    for note in loaded.notes:
        _say(f"summarizer: note: {note}", req.quiet)
    if not loaded.articles:
        _say("summarizer: no readable article in the inputs")
        return 1
    write_sources(loaded.articles, req.out)
    articles = {a.id: a for a in loaded.articles}
    stats = RunStats()
    code = 1 if loaded.errors else 0

    cache = None
    if req.use_cache and req.replay is None:
        from summarizer.cache import ResultCache

        cache = ResultCache(req.cache_path)
    budget = None
    if req.budget is not None:
        from summarizer.cost import Budget

        budget = Budget(req.budget)
    collector: tuple[int, int, int] | None = None
    try:
        with open_llm(req, prompts) as (llm, engine):
            llm.call_log = CallLog(req.out / "calls.jsonl")
            local = llm.endpoint.profile.local or req.replay is not None
            options = Options(
                concurrency=req.concurrency or (1 if local else 8),
                # The small local model's re-asks (10-40 s each) and story narratives (cut at their token cap)
                # changed nothing on the seeds: the same verified facts in 52 s instead of 139 s (README).
                max_reasks=req.max_reasks if req.max_reasks is not None else (0 if local else 2),
                narrative=req.narrative if req.narrative is not None else not local,
                budget_usd=req.budget,
            )
            llm.max_in_flight = options.concurrency  # calls at the provider at once, stories' calls too

            built: list[Brief] = []
            collector = batch_collector()  # undone below
            from summarizer import sending

            # A big run's calls go out from worker processes, forked here, before the event loop starts.
            worth = sending.worth_it(
                llm, len(loaded.articles), options, budget=budget is not None, recording=req.record is not None
            )
            senders = sending.start(llm, prompts, options) if worth and req.replay is None else None

            async def go() -> None:
                try:
                    with Progress(len(articles), enabled=progress_enabled(req.quiet)) as progress:
                        # Each article is segmented in its own task, overlapping other articles' LLM waits.
                        # Stories are reconciled as their last article comes in, while the others are at the
                        # provider, and their narratives asked then (not with a budget, whose order must hold).
                        writer = (
                            NarrativeWriter(
                                llm,
                                prompts,
                                cache=cache,
                                room=senders.room if senders else None,
                                send=senders.narrate if senders else None,
                            )
                            if options.narrative and budget is None and options.concurrency > 1
                            else None
                        )
                        # Composed narratives only for the stories no LLM narrative replaces (build_brief).
                        # The digest is asked once its stories are built, and the last narratives once no
                        # story of two sources is left to come: neither waits for the run's last answer.
                        builder = StoryBuilder(
                            loaded.articles,
                            on_story=writer.add if writer else None,
                            compose=not options.narrative,
                            top=DIGEST_STORIES if writer else 0,
                            on_top=writer.ask_digest if writer else None,
                            on_sources_done=writer.flush if writer else None,
                        )
                        builder.prepare()  # clustered in a thread while the first calls are out
                        if senders is not None:  # worker processes run each article's path
                            docs, results = await senders.run(
                                list(loaded.articles),
                                llm,
                                prompts,
                                options,
                                cache=cache,
                                progress=progress,
                                stats=stats,
                                on_done=builder.add,
                                order=builder.order,
                            )
                        else:
                            docs, results = await segment_and_process(
                                loaded.articles,
                                llm,
                                prompts,
                                options,
                                cache=cache,
                                progress=progress,
                                budget=budget,
                                stats=stats,
                                on_done=builder.add,
                            )
                    if senders is not None:
                        senders.end()  # they exit while the stories are written; joined below
                    brief = await build_brief(
                        docs,
                        results,
                        llm,
                        prompts,
                        options,
                        errors=loaded.errors,
                        engine=engine,
                        budget=budget,
                        cache=cache,
                        progress=progress,
                        builder=builder,
                        writer=writer,
                    )
                    progress.close()  # the story-writing phase's line
                    built.append(brief)
                finally:
                    if senders is not None:
                        senders.close(now=not built)  # at once only if the run was interrupted or failed
                    await llm.close()
                    llm.call_log.close()

            # go() returns nothing: asyncio.run would otherwise repr() the whole Brief on the way out.
            asyncio.run(go())
            brief = built[0]
    except BaseException as exc:
        if collector is not None:
            restore_collector(collector)
        from summarizer.engine import EngineError
        from summarizer.replay import ReplayError

        # Engine start-up, cassette problems: one clear line, no traceback.
        if isinstance(exc, (EngineError, FileNotFoundError, ValueError, ReplayError)):
            _say(f"summarizer: {exc}")
            return 1
        raise
    finally:
        if cache is not None:
            cache.close()
    try:
        if previous is not None:
            from summarizer.changes import annotate

            annotate(brief, previous, articles, previous_path=str(previous_path))
        # Still under the batch's collector: at 100,000 articles whole-heap passes cost rendering ~0.09 ms an article.
        paths = write_brief(brief, articles, req.out, req.formats, max_facts=req.max_facts)
    finally:
        if collector is not None:
            restore_collector(collector)
    if stats.transport_failed:
        _say(
            f"summarizer: the provider failed for {stats.transport_failed} article(s) after bounded retries; "
            "they are covered by extractive evidence"
        )
        code = 1
    if stats.skipped_budget:
        _say(
            f"summarizer: --budget reached: {stats.skipped_budget} article(s) not sent, covered by extractive evidence"
        )
    counts: dict[str, int] = {}
    for r in brief.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    u = brief.usage
    _say(
        f"wrote {', '.join(str(p) for p in paths)} · {len(articles)} article(s): "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f" · {len(brief.stories)} story(ies)"
        + since_counts(brief)
        + f" · {stats.cached} from cache · LLM calls {u.calls}, "
        f"tokens {u.prompt_tokens}+{u.completion_tokens}, est. ${u.cost_usd:.4f}"
        f" · {time.perf_counter() - started:.1f}s",
        req.quiet,
    )
    return code
