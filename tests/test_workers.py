"""Segmentation in worker processes (summarizer/workers.py): the same documents and results, in order."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from conftest import AP, BBC
from scripted_endpoint import ScriptedEndpoint, well_behaved

import summarizer.workers as workers
from summarizer.llm import LLM, Endpoint
from summarizer.load import load_inputs
from summarizer.models import Article
from summarizer.pipeline import Options, RunStats, segment_and_process
from summarizer.segment import segment
from summarizer.templates import Prompts


def _articles(tmp_path: Path, n: int) -> list[Article]:
    texts = [AP.read_text(encoding="utf-8"), BBC.read_text(encoding="utf-8")]
    paths = []
    for i in range(n):
        p = tmp_path / f"a{i:03d}.txt"
        p.write_text(texts[i % 2].replace("\n", f" (copy {i})\n", 1), encoding="utf-8")
        paths.append(str(p))
    return load_inputs(paths).articles


def _run(articles: list[Article], base_url: str) -> tuple[list[str], list[str], RunStats]:
    async def go() -> tuple[list[str], list[str], RunStats]:
        llm = LLM(Endpoint(base_url=base_url, model="scripted", forms=("json",)))
        stats = RunStats()
        docs, results = await segment_and_process(articles, llm, Prompts(), Options(concurrency=8), stats=stats)
        await llm.close()
        return [d.model_dump_json() for d in docs], [r.model_dump_json() for r in results], stats

    return asyncio.run(go())


def test_worker_segmentation_gives_the_same_documents_and_results_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = _articles(tmp_path, 40)
    with ScriptedEndpoint(well_behaved) as ep:
        monkeypatch.setattr(workers, "MIN_ARTICLES", 10**9)
        docs_here, results_here, _ = _run(articles, ep.base_url)
    # 5 rounds of 0.25 s: time for the pool to start and take over the later articles.
    with ScriptedEndpoint(well_behaved, latency=0.25) as ep:
        here: list[str] = []
        real = workers._segment_here
        monkeypatch.setattr(workers, "MIN_ARTICLES", 2)
        monkeypatch.setattr(workers, "_segment_here", lambda a: here.append(a.id) or real(a))
        docs_pool, results_pool, stats = _run(articles, ep.base_url)
    assert docs_pool == docs_here and results_pool == results_here
    assert stats.llm_articles == 40
    if workers.cores() > 1:
        assert len(here) < 40, "every article was segmented in-process: the workers were never used"


def test_until_the_workers_answer_articles_are_segmented_in_process(tmp_path: Path) -> None:
    articles = _articles(tmp_path, 6)
    ahead = workers.SegmentAhead(articles, workers=1, chunk=2)
    try:
        first = asyncio.run(ahead.segment(0))  # at once: the pool has not started yet
        assert first == segment(articles[0])
        deadline = time.monotonic() + 60
        while not ahead.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ahead.ready
        assert [asyncio.run(ahead.segment(i)) for i in range(6)] == [segment(a) for a in articles]
    finally:
        ahead.close()


def test_small_or_sequential_runs_start_no_process() -> None:
    assert not workers.worth_processes(workers.MIN_ARTICLES - 1, 32)
    assert not workers.worth_processes(10_000, 1)  # the embedded engine: one call at a time


def test_a_broken_pool_falls_back_to_segmenting_in_process(tmp_path: Path) -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    articles = _articles(tmp_path, 4)
    ahead = workers.SegmentAhead(articles, workers=1, chunk=2)
    try:
        deadline = time.monotonic() + 60
        while not ahead.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        broken: Future[list[object]] = Future()
        broken.set_exception(BrokenProcessPool("a worker died"))
        ahead._chunks[1] = broken  # type: ignore[assignment]
        assert asyncio.run(ahead.segment(3)) == segment(articles[3])
    finally:
        ahead.close()


def test_a_chunk_is_let_go_once_its_last_article_is_handed_out(tmp_path: Path) -> None:
    """A live run of 500+ articles must not hold every chunk's Documents until the LLM phase ends."""
    articles = _articles(tmp_path, 5)
    ahead = workers.SegmentAhead(articles, workers=1, chunk=2)
    try:
        time.sleep(0.1)

        async def take(ids: list[int]) -> list[str]:
            return [(await ahead.segment(i)).article.id for i in ids]

        assert asyncio.run(take([0])) == [articles[0].id]
        assert ahead._chunks[0] is not None  # article 1 of the chunk is still to come
        assert asyncio.run(take([1, 2])) == [articles[1].id, articles[2].id]
        assert ahead._chunks[0] is None and ahead._chunks[1] is not None
        assert asyncio.run(take([3, 4])) == [articles[3].id, articles[4].id]
        assert ahead._chunks == [None, None, None]
    finally:
        ahead.close()


def test_chunks_are_segmented_only_a_lookahead_beyond_the_furthest_article_asked_for(tmp_path: Path) -> None:
    """All at once, the workers took both cores while the event loop, carrying every call, starved."""
    articles = _articles(tmp_path, 12)
    ahead = workers.SegmentAhead(articles, workers=1, chunk=2, ahead=2)  # one chunk beyond
    try:
        assert [c is not None for c in ahead._chunks] == [True, True, False, False, False, False]
        got = asyncio.run(ahead.segment(6))  # chunk 3: it and the one after it are submitted now
        assert got == segment(articles[6])
        assert [c is not None for c in ahead._chunks] == [True, True, True, True, True, False]
        assert [asyncio.run(ahead.segment(i)) for i in (0, 11)] == [segment(articles[0]), segment(articles[11])]
    finally:
        ahead.close()
