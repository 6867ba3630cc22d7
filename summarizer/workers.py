"""Segmentation in worker processes, ahead of each article's turn, off the event loop's thread.

At high concurrency the one event-loop thread carries every call's client work (instructor, the SDK,
httpx, our in-loop checks) and, before this, segmenting every article. Here a process pool sized to the
cores segments the articles in input order, a chunk per task: one round trip per article cost the loop
more than syntok itself (0.1 ms of loop thread and 0.3 ms of the process per article, against 0.02 and
0.09 in chunks of 10, measured on 1,000 ABC texts). Verification stays in-process: at ~0.1-0.3 ms per
article it is cheaper than its own round trip.

Budget, progress, stats and the cache are untouched: they stay in the parent, in the same order. Workers
start only for a big concurrent run (``worth_processes``); until they answer, an article whose turn has
come is segmented in-process (its chunk is cancelled), so no call waits for the pool to start.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from summarizer.models import Article, Document

# Start-up is ~0.2 s per worker on a free core (a fresh interpreter importing syntok). Measured side by
# side (bench_batch's endpoint, N = 32, 200 ms, 2 shared cores): at 100 and 300 articles the pool gave no
# wall-time gain (within noise), at 1,000 it takes ~1 ms of loop-thread CPU off each call.
MIN_ARTICLES = 500
MIN_CONCURRENCY = 2  # one article at a time: the loop is idle while it waits, nothing to win
CHUNK = 16
# Articles kept segmented ahead of the furthest one asked for, per unit of concurrency: the pipeline has
# up to 2 × N articles under way, so 4 × N leaves the workers a margin without running ahead of the calls.
LOOKAHEAD = 4


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worth_processes(articles: int, concurrency: int) -> bool:
    return articles >= MIN_ARTICLES and concurrency >= MIN_CONCURRENCY and cores() > 1


def _segment_all(articles: list[Article]) -> list[Document]:
    from summarizer.segment import segment

    return [segment(a) for a in articles]


def _ready() -> bool:
    import summarizer.segment

    summarizer.segment.split_sentences("Warm up. Twice.")  # syntok's imports, paid before "ready"
    return True


def _segment_here(article: Article) -> Document:
    from summarizer import segment as segmentation  # the module, looked up at call time (tests patch it)

    return segmentation.segment(article)


class SegmentAhead:
    """``await segment(i)``: article ``i`` of ``articles`` as a Document. ``close`` when done."""

    def __init__(
        self,
        articles: Sequence[Article],
        workers: int | None = None,
        chunk: int = CHUNK,
        ahead: int | None = None,
    ) -> None:
        import multiprocessing

        self._articles = list(articles)
        self._chunk = chunk
        # spawn, not fork: the parent has threads (the SDK's, SQLite's) that fork would copy mid-state.
        self._pool = ProcessPoolExecutor(
            max_workers=workers or cores(), mp_context=multiprocessing.get_context("spawn")
        )
        self._warm: Future[bool] = self._pool.submit(_ready)
        n_chunks = -(-len(self._articles) // chunk)
        # Chunks are submitted ``ahead`` articles beyond the furthest one asked for (None: all at once).
        # All at once, the workers took both cores for the first seconds of a 1,000-article run, while
        # the event loop, which carries every call, got half of one (its calls went out at half the rate).
        self._ahead = n_chunks if ahead is None else max(1, -(-ahead // chunk))
        self._chunks: list[Future[list[Document]] | None] = [None] * n_chunks
        self._submitted = 0
        self._fill(0)
        # Articles of each chunk not yet handed out: the chunk's Documents are let go with its last one.
        self._left = [len(self._articles[i : i + chunk]) for i in range(0, len(self._articles), chunk)]

    def _fill(self, k: int) -> None:
        """Submit every chunk up to ``k`` and ``ahead`` beyond it."""
        while self._submitted < len(self._chunks) and self._submitted <= k + self._ahead:
            i = self._submitted * self._chunk
            self._chunks[self._submitted] = self._pool.submit(_segment_all, self._articles[i : i + self._chunk])
            self._submitted += 1

    @property
    def ready(self) -> bool:
        return self._warm.done() and self._warm.exception() is None

    async def segment(self, i: int) -> Document:
        k = i // self._chunk
        self._fill(k)
        try:
            return await self._segment(i, k)
        finally:
            self._left[k] -= 1
            if self._left[k] <= 0:
                self._chunks[k] = None  # every article of it handed out: its Documents need not outlive them

    async def _segment(self, i: int, k: int) -> Document:
        job = self._chunks[k]
        if job is None:
            return _segment_here(self._articles[i])  # asked again after the chunk was let go
        if not job.done() and not self.ready:
            job.cancel()  # the pool is still starting: this chunk is done here, as its turns come
        if job.cancelled() or not self.ready:
            return _segment_here(self._articles[i])
        try:
            docs = await asyncio.wrap_future(job)
        except Exception:  # a worker died (or the segmenter failed): here it runs again, or fails as before
            return _segment_here(self._articles[i])
        return docs[i % self._chunk]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
