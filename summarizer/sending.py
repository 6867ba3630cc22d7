"""A big run's calls go out from worker processes, each with its own event loop and client.

One event-loop thread carries, for every call, the request, the answer's checks (the in-loop checks that
decide a re-ask) and the verification: 2-6 ms of CPU per article, while at N = 32 and 200 ms a call
leaves 6 ms. On one thread the calls went out at ~70 % of the provider's pace (bench_batch: the LLM
phase 1.45× its bound with the loop busy in bursts). Here each worker runs the same per-article path
(:class:`summarizer.pipeline.ArticlePath`) on its share of the articles, N / workers calls in flight.

The parent keeps what must stay one: the cache (workers get each article's cached result with it, and
the parent stores new ones), the call log, progress and the run's stats. A worker is handed articles
as it finishes others (2 × its concurrency under way), so the share follows each worker's pace. If a
worker dies, the articles it held are run again, by the other workers or in this process: none is lost
(an answer that was in flight is paid twice).

Workers are forked before the run's event loop starts (``start``), when the process has one thread, so
they start in milliseconds with the loaded articles shared; with other threads alive they are spawned.
They are used only where they can pay off and nothing process-wide must be shared: a big concurrent run
against a server (not the embedded engine, not a recording or a replay, no ``--budget``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarizer.workers import cores

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from summarizer.cache import ResultCache
    from summarizer.llm import LLM, Endpoint
    from summarizer.models import Article, ArticleEvidence, ArticleResult, Document, Usage
    from summarizer.pipeline import Options, RunStats
    from summarizer.progress import Progress
    from summarizer.templates import Prompts
    from summarizer.write import Written

# Measured side by side (bench_batch.py --workers-compare, N = 32, 200 ms, 2 cores): the median wall time
# with workers is 1.05× at 40 articles, 0.96-1.01× at 100-300, 0.94× at 1,000 (where they also write the
# narratives and the parent's loop is busiest).
MIN_ARTICLES = 100
MIN_CONCURRENCY = 8

log = logging.getLogger("summarizer")


@dataclass
class _Setup:
    """What a worker needs to make its own client and run the article path (picklable)."""

    endpoint: Endpoint
    priced: bool
    prompts_folder: Path | None
    max_reasks: int
    concurrency: int
    log_level: int = logging.WARNING


def worth_it(llm: LLM, articles: int, options: Options, *, budget: bool, recording: bool) -> bool:
    return (
        articles >= MIN_ARTICLES
        and options.concurrency >= MIN_CONCURRENCY
        and cores() > 1
        and not budget  # reservations must stay in one process, in order
        and not recording  # vcrpy patches this process's client only
        and not llm.endpoint.profile.local
    )


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    credit: int = 1
    held: set[int] = field(default_factory=set)
    jobs: set[int] = field(default_factory=set)  # narrative groups it is writing
    peak: int = 0
    alive: bool = True


class Senders:
    """Worker processes that run articles; ``await run(...)``, then ``close()``."""

    def __init__(self, llm: LLM, prompts: Prompts, options: Options, workers: int | None = None) -> None:
        import multiprocessing

        # What each worker's first article would load, loaded once here before the fork (inherited, not
        # loaded by each on the same cores): the SDK and instructor's request machinery for the answers'
        # schemas, the checks' data. This process, which asks the digest and some narratives itself while
        # the last articles are out, then does not import the SDK on its event loop either.
        from summarizer.extract import CheckedExtraction
        from summarizer.models import LLMNarratives
        from summarizer.verify import preload

        for model in (CheckedExtraction, LLMNarratives):
            llm.prepare(model)
        preload()

        n = max(1, min(workers or cores(), options.concurrency))
        # N calls in flight in all: the workers' shares add up to it.
        shares = [options.concurrency // n + (i < options.concurrency % n) for i in range(n)]
        level = logging.getLogger("summarizer").getEffectiveLevel()
        # fork only with one thread: a lock another thread holds would stay held in the child.
        # Linux only: elsewhere (macOS) system libraries are not fork-safe and Python spawns by default.
        single = threading.active_count() == 1
        method = "fork" if single and sys.platform.startswith("linux") else "spawn"
        ctx: Any = multiprocessing.get_context(method)
        self.method = method
        self._workers: list[_Worker] = []
        self._closed = self._ended = False
        self._n = options.concurrency
        self._running = False
        self._changed: asyncio.Event | None = None
        self._jobs: dict[int, asyncio.Future[Any]] = {}  # narrative groups out at the workers, by job id
        self._next_job = 0
        for share in shares:
            setup = _Setup(
                endpoint=llm.endpoint,
                priced=llm.priced,
                prompts_folder=prompts.folder,
                max_reasks=options.max_reasks,
                concurrency=share,
                log_level=level,
            )
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=_worker_main, args=(child, setup), daemon=True, name="summarizer-sender")
            proc.start()
            child.close()
            # Articles under way at a worker: its share at the provider, as many ready to go.
            self._workers.append(_Worker(proc, parent, credit=2 * share))

    @property
    def alive(self) -> int:
        return sum(w.alive for w in self._workers)

    def _spare(self) -> int:
        """Calls the workers may not have out now: N less each one's share still under way (its articles
        and the narratives it is writing, each one call at a time)."""
        return self._n - sum(min(w.credit // 2, len(w.held) + len(w.jobs)) for w in self._workers if w.alive)

    async def room(self, calls: Callable[[], int]) -> None:
        """Wait until the parent may send one more call beside the ``calls()`` it has out, with N in flight
        in all (story narratives asked while the last articles are out: write.NarrativeWriter)."""
        while self._running and self._changed is not None and self._spare() <= calls():
            self._changed.clear()
            await self._changed.wait()

    async def narrate(self, group: list[Any], max_reasks: int) -> tuple[dict[str, Written], Usage] | None:
        """A group of story narratives written by the least busy worker (write.write_group there: the call in
        its share of N, the checks off this loop), while the run is on: (outcomes by tag, usage), or None
        (no worker can, or it died meanwhile: the caller writes it itself)."""
        alive = [w for w in self._workers if w.alive]
        if not self._running or self._ended or not alive:
            return None
        w = min(alive, key=lambda w: len(w.held) + len(w.jobs))
        job, self._next_job = self._next_job, self._next_job + 1
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs[job] = done
        try:
            w.conn.send(("narrate", job, group, max_reasks))
        except OSError:
            self._jobs.pop(job, None)
            return None
        w.jobs.add(job)
        got: tuple[dict[str, Written], Usage] | None = await done
        return got

    def _job_done(self, w: _Worker, job: int, got: tuple[dict[str, Written], Usage] | None) -> None:
        w.jobs.discard(job)
        done = self._jobs.pop(job, None)
        if done is not None and not done.done():
            done.set_result(got)

    async def run(
        self,
        items: list[Article | Document],
        llm: LLM,
        prompts: Prompts,
        options: Options,
        *,
        cache: ResultCache | None,
        progress: Progress | None,
        stats: RunStats,
        on_done: Callable[[ArticleEvidence, ArticleResult], None] | None = None,
        order: Callable[[], Sequence[int]] | None = None,
    ) -> tuple[list[ArticleEvidence], list[ArticleResult]]:
        """``order()``: the positions of ``items`` in the order to hand out the rest once every worker has its
        first share (merge.StoryBuilder.order: story by story, so each story is complete, and is written,
        as early as it can be, not all of them at the end)."""
        from summarizer.models import Document
        from summarizer.pipeline import ArticlePath

        loop = asyncio.get_running_loop()
        here = ArticlePath(llm, prompts, options, cache=cache, progress=progress, stats=stats)
        self._changed, self._running = asyncio.Event(), True
        n = len(items)
        evidence: list[ArticleEvidence | None] = [None] * n
        results: list[ArticleResult | None] = [None] * n
        keys: dict[int, str | None] = {}  # made as each article is handed out, not all before the first
        pending: collections.deque[int] = collections.deque(range(n))
        left = [n]
        all_done = loop.create_future()
        local: set[asyncio.Task[None]] = set()

        def finish(k: int, ev: ArticleEvidence, res: ArticleResult) -> None:
            if results[k] is None:
                evidence[k], results[k] = ev, res
                if on_done is not None:
                    on_done(ev, res)
                left[0] -= 1
                if left[0] == 0 and not all_done.done():
                    all_done.set_result(None)

        def feed(w: _Worker) -> None:
            while w.alive and pending and len(w.held) < w.credit:
                k = pending.popleft()
                item = items[k]
                if k not in keys:
                    keys[k] = here.key(item.article if isinstance(item, Document) else item)
                key = keys[k]
                hit = cache.get(key) if cache is not None and key is not None else None
                try:
                    w.conn.send(("article", k, items[k], hit))
                except OSError:  # it died meanwhile: its sentinel says so, and this article goes back
                    pending.appendleft(k)
                    return
                w.held.add(k)
                if progress is not None and hit is None:
                    progress.started(item.article.id if isinstance(item, Document) else item.id)

        async def run_here(k: int) -> None:
            ev, res = await here.one(items[k])
            finish(k, ev, res)

        def by_this_process() -> None:
            # No worker left: the rest runs here, on the same path (the cache and progress included).
            while pending:
                task = asyncio.ensure_future(run_here(pending.popleft()))
                local.add(task)
                task.add_done_callback(local.discard)

        def on_message(w: _Worker, msg: tuple[Any, ...]) -> None:
            kind, k = msg[0], msg[1]
            if kind == "narrated":
                _, job, written, usage, records = msg
                for record in records:
                    llm.call_log.add(record)
                self._job_done(w, job, (written, usage))
                return
            if kind == "narrate-failed":  # a bug: the caller writes the group itself
                log.warning("a sender process failed on story narratives (%s); they are written here", msg[2])
                self._job_done(w, k, None)
                return
            w.held.discard(k)
            if kind == "done":
                _, _, ev, res, records, outcome, peak = msg
                w.peak = max(w.peak, peak)
                for record in records:
                    llm.call_log.add(record)
                if res.cached:
                    stats.cached += 1
                if outcome.sent:
                    stats.llm_articles += 1
                    stats.transport_failed += outcome.transport_failed
                    key = keys.get(k)
                    if cache is not None and key is not None and not outcome.transport_failed:
                        cache.put(key, res)
                if progress is not None:
                    aid = res.article.id
                    progress.finished(aid, ok=res.cached or res.status != "extractive", tokens=outcome.tokens)
                finish(k, ev, res)
                self._changed_now()
            else:  # the path raised in the worker (a bug): the article runs here instead, and says why
                log.warning("a sender process failed on an article (%s); it runs in this process", msg[2])
                task = asyncio.ensure_future(run_here(k))
                local.add(task)
                task.add_done_callback(local.discard)
            feed(w)

        def on_death(w: _Worker) -> None:
            for job in list(w.jobs):  # its narratives are written by the caller instead
                self._job_done(w, job, None)
            if not w.alive or left[0] == 0:  # the run had what it needed
                w.alive = False
                return
            w.alive = False
            lost = sorted(k for k in w.held if results[k] is None)
            w.held.clear()
            stats.events.append(f"a sender process ended early; {len(lost)} article(s) it held were run again")
            pending.extendleft(reversed(lost))
            for other in self._workers:
                feed(other)
            self._changed_now()
            if not self.alive:
                by_this_process()

        reader = threading.Thread(target=self._read, args=(loop, on_message, on_death), daemon=True)
        reader.start()
        for w in self._workers:
            feed(w)
        if order is not None and pending:
            # Decided now, not before the first calls: clustering the texts takes a while at 1,000 articles
            # (and sklearn's import ~0.9 s in a fresh process). Off this loop, which takes answers meanwhile.
            ranked = await asyncio.to_thread(order)
            rest, left_now = [], set(pending)
            for k in ranked:
                if k in left_now:
                    rest.append(k)
                    left_now.discard(k)
            pending.clear()
            pending.extend(rest + sorted(left_now))
        if not self.alive:
            by_this_process()
        try:
            if n:
                await all_done
            if local:
                await asyncio.gather(*local)
        finally:
            self._running = False  # the parent's calls need no room any more
            self._changed_now()
        stats.peak_in_flight = max(stats.peak_in_flight, sum(w.peak for w in self._workers))
        return [e for e in evidence if e is not None], [r for r in results if r is not None]

    def _changed_now(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def _read(self, loop: asyncio.AbstractEventLoop, on_message: Any, on_death: Any) -> None:
        """Every worker's answers (and deaths) to the event loop, in order of arrival."""
        from multiprocessing.connection import wait

        watch: dict[Any, _Worker] = {}
        for w in self._workers:
            watch[w.conn] = w
            watch[w.proc.sentinel] = w
        while watch:
            for ready in wait(list(watch)):
                found = watch.get(ready)
                if found is None:  # its other handle was ready in the same batch
                    continue
                w = found
                bye = dead = False
                try:
                    while w.conn.poll():  # what it sent before it ended is read first
                        msg = w.conn.recv()
                        if msg[0] == "bye":
                            bye = True
                            break
                        _call(loop, on_message, w, msg)
                except (EOFError, OSError):
                    dead = True
                dead = not bye and (dead or ready is w.proc.sentinel)
                if bye or dead:  # it takes no more articles
                    watch.pop(w.conn, None)
                    watch.pop(w.proc.sentinel, None)
                if dead:
                    _call(loop, on_death, w)

    def end(self) -> None:
        """Tell the workers to finish what they hold and exit, without waiting for them (``close`` does)."""
        if self._ended:
            return
        self._ended = True
        for w in self._workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)

    def close(self, *, now: bool = False) -> None:
        """End the workers: each finishes what it holds first, or, ``now`` (the run was interrupted or
        failed), at once. A second call does nothing."""
        if self._closed:
            return
        self._closed = True
        self.end()
        for w in self._workers:
            if now:
                w.proc.terminate()
        for w in self._workers:
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.terminate()
                w.proc.join(timeout=5)
            w.conn.close()


def _call(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> None:
    """``fn(*args)`` in the loop's thread; nothing once the run's loop has ended (a late bye or exit)."""
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
        loop.call_soon_threadsafe(fn, *args)


def start(llm: LLM, prompts: Prompts, options: Options) -> Senders:
    """Start the workers (before the run's event loop: see the module docstring)."""
    return Senders(llm, prompts, options)


# ---------------------------------------------------------------- in the worker


def _worker_main(conn: Connection, setup: _Setup) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not logging.getLogger().handlers:  # spawned: the CLI's stderr handler (cli.py) was not inherited
        logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("summarizer").setLevel(setup.log_level)
    if setup.log_level > logging.INFO:
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
    try:
        asyncio.run(_serve(conn, setup))
    finally:
        # No finalizers: a forked worker shares the parent's open files (the cache, the call log).
        conn.close()
        os._exit(0)


async def _serve(conn: Connection, setup: _Setup) -> None:
    from summarizer.connect import client
    from summarizer.pipeline import ArticlePath, Options, Outcome
    from summarizer.templates import Prompts

    prompts = Prompts(setup.prompts_folder)
    llm = client(setup.endpoint, prompts, priced=setup.priced)
    llm.max_in_flight = setup.concurrency
    options = Options(concurrency=setup.concurrency, max_reasks=setup.max_reasks, narrative=False)
    path = ArticlePath(llm, prompts, options)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    send_lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(msg)

    def read() -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                # The parent is gone (killed: a clean end says None first). Nobody can take this worker's
                # answers any more: it ends now rather than finish, and pay for, the calls it has out.
                os._exit(1)
            loop.call_soon_threadsafe(inbox.put_nowait, msg)
            if msg is None:
                return

    threading.Thread(target=read, daemon=True).start()
    tasks: set[asyncio.Task[None]] = set()

    async def narrate(job: int, group: list[Any], max_reasks: int) -> None:
        from summarizer.write import Narratives, write_group

        out = Narratives()
        try:
            usage = await write_group(group, llm, prompts, max_reasks, out, None)
            records, llm.call_log.records = llm.call_log.records, []
            send(("narrated", job, out.written, usage, records))
        except Exception as exc:
            send(("narrate-failed", job, f"{type(exc).__name__}: {exc}"))

    async def handle(k: int, item: Any, hit: ArticleResult | None) -> None:
        outcome = Outcome()
        try:
            ev, res = await path.one(item, hit, outcome=outcome)
            records, llm.call_log.records = llm.call_log.records, []
            send(("done", k, ev, res, records, outcome, path.stats.peak_in_flight))
        except Exception as exc:
            send(("failed", k, f"{type(exc).__name__}: {exc}"))

    while (msg := await inbox.get()) is not None:
        task = asyncio.create_task(narrate(*msg[1:]) if msg[0] == "narrate" else handle(*msg[1:]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    await llm.close()
    send(("bye", -1))
