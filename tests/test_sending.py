"""Calls sent from worker processes (summarizer/sending.py): the same results, nothing lost, one cache.

The endpoint is SCRIPTED (tests/scripted_endpoint.py, well_behaved: a careful model). Its server thread
lives in this process, so the workers here are spawned, not forked (sending.py forks only when the
process has one thread); bench_batch.py runs the forked path.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator
from scripted_endpoint import ScriptedEndpoint, well_behaved
from test_workers import _articles

from summarizer import sending
from summarizer.cache import ResultCache
from summarizer.llm import LLM, CallLog, Endpoint
from summarizer.merge import StoryBuilder, build_stories, evidence_for
from summarizer.models import Article, ArticleEvidence, ArticleResult
from summarizer.pipeline import Options, RunStats, segment_and_process
from summarizer.templates import Prompts


def _llm(base_url: str, log: Path | None = None) -> LLM:
    llm = LLM(Endpoint(base_url=base_url, model="scripted", forms=("json",)), call_log=CallLog(log))
    llm.max_in_flight = 4
    return llm


def _run(
    articles: list[Article],
    base_url: str,
    *,
    workers: bool,
    cache: ResultCache | None = None,
    log: Path | None = None,
    on_done: Any = None,
) -> tuple[list[str], list[ArticleResult], RunStats]:
    llm = _llm(base_url, log)
    options = Options(concurrency=4, max_reasks=1)
    prompts = Prompts()
    senders = sending.Senders(llm, prompts, options) if workers else None
    stats = RunStats()

    async def go() -> tuple[list[ArticleEvidence], list[ArticleResult]]:
        try:
            if senders is not None:
                return await senders.run(
                    list(articles), llm, prompts, options, cache=cache, progress=None, stats=stats, on_done=on_done
                )
            return await segment_and_process(articles, llm, prompts, options, cache=cache, stats=stats, on_done=on_done)
        finally:
            await llm.close()

    try:
        evidence, results = asyncio.run(go())
    finally:
        if senders is not None:
            senders.close()
        llm.call_log.close()
    return [e.model_dump_json() for e in evidence], results, stats


def _dump(results: list[ArticleResult]) -> list[str]:
    return [r.model_dump_json() for r in results]


def test_workers_give_the_same_evidence_and_results_in_input_order(tmp_path: Path) -> None:
    articles = _articles(tmp_path, 12)
    with ScriptedEndpoint(well_behaved, latency=0.1) as ep:
        ev_here, res_here, _ = _run(articles, ep.base_url, workers=False)
        calls_here = len(ep.requests)
        ep.max_in_flight = 0
        ev_sent, res_sent, stats = _run(articles, ep.base_url, workers=True)
        calls_sent = len(ep.requests) - calls_here
        at_once = ep.max_in_flight
    assert [r.article.id for r in res_sent] == [a.id for a in articles]
    assert _dump(res_sent) == _dump(res_here) and ev_sent == ev_here
    assert calls_sent == calls_here == 12
    assert stats.llm_articles == 12 and stats.cached == 0 and stats.transport_failed == 0
    assert all(r.facts and r.status != "extractive" for r in res_sent)
    # The workers' shares of N = 4 add up to it: never more calls at the provider at once (a worker's own
    # share, 2, at least; spawned here, one may start well after the other on a loaded machine).
    assert 2 <= at_once <= 4
    assert 1 <= stats.peak_in_flight <= 2 * 4  # articles in their extract step (a share ready per share sent)


def test_the_parent_keeps_the_cache_and_the_call_log(tmp_path: Path) -> None:
    articles = _articles(tmp_path, 8)
    log = tmp_path / "calls.jsonl"
    with ScriptedEndpoint(well_behaved) as ep, ResultCache(tmp_path / "c.sqlite3") as cache:
        _, first, stats1 = _run(articles, ep.base_url, workers=True, cache=cache, log=log)
        lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
        calls = len(ep.requests)
        _, second, stats2 = _run(articles, ep.base_url, workers=True, cache=cache)
        assert len(ep.requests) == calls  # the rerun is all cache hits, found by the parent
        assert len(cache) == 8 and stats1.llm_articles == 8
    # Every call the workers made is in this process's log, under its article's id.
    assert len(lines) == calls == 8
    assert sorted(r["label"] for r in lines) == sorted(a.id for a in articles)
    assert stats2.cached == 8 and stats2.llm_articles == 0 and all(r.cached for r in second)
    assert [r.facts for r in second] == [r.facts for r in first]


def test_a_worker_that_dies_loses_no_article(tmp_path: Path) -> None:
    articles = _articles(tmp_path, 16)
    killed: list[int] = []
    holder: dict[str, sending.Senders] = {}
    real_init = sending.Senders.__init__

    def keep(self: sending.Senders, *a: Any, **k: Any) -> None:
        real_init(self, *a, **k)
        holder["senders"] = self

    def kill_one(ev: ArticleEvidence, res: ArticleResult) -> None:
        if not killed:  # at the first result, one worker dies with articles in hand
            pid = holder["senders"]._workers[0].proc.pid
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with pytest.MonkeyPatch.context() as mp, ScriptedEndpoint(well_behaved, latency=0.3) as ep:
        mp.setattr(sending.Senders, "__init__", keep)
        _, results, stats = _run(articles, ep.base_url, workers=True, on_done=kill_one)
    assert killed
    assert [r.article.id for r in results] == [a.id for a in articles]
    assert all(r.facts and r.status != "extractive" for r in results)
    assert any("sender process ended early" in e for e in stats.events)


def test_with_every_worker_gone_the_rest_runs_in_this_process(tmp_path: Path) -> None:
    articles = _articles(tmp_path, 6)
    with ScriptedEndpoint(well_behaved) as ep:
        llm = _llm(ep.base_url)
        options = Options(concurrency=4)
        senders = sending.Senders(llm, Prompts(), options)
        for w in senders._workers:
            os.kill(w.proc.pid, signal.SIGKILL)
            w.proc.join(timeout=10)
        stats = RunStats()

        async def go() -> list[ArticleResult]:
            try:
                _, results = await senders.run(
                    list(articles), llm, Prompts(), options, cache=None, progress=None, stats=stats
                )
                return results
            finally:
                await llm.close()

        results = asyncio.run(go())
        senders.close()
    assert [r.article.id for r in results] == [a.id for a in articles]
    assert all(r.facts for r in results) and stats.llm_articles == 6
    assert len(ep.requests) == 6


def test_workers_are_used_only_where_they_pay_off_and_nothing_must_be_shared() -> None:
    llm = _llm("http://127.0.0.1:1/v1")
    big = Options(concurrency=32)
    assert sending.worth_it(llm, 1000, big, budget=False, recording=False) == (sending.cores() > 1)
    assert not sending.worth_it(llm, sending.MIN_ARTICLES - 1, big, budget=False, recording=False)
    assert not sending.worth_it(llm, 1000, Options(concurrency=1), budget=False, recording=False)
    assert not sending.worth_it(llm, 1000, big, budget=True, recording=False)  # reservations stay in order
    assert not sending.worth_it(llm, 1000, big, budget=False, recording=True)  # vcrpy patches this process
    from summarizer.llm import embedded_endpoint

    local = LLM(embedded_endpoint("http://127.0.0.1:1/v1", "m.gguf"))
    assert not sending.worth_it(local, 1000, big, budget=False, recording=False)


def test_stories_built_as_results_come_in_equal_the_stories_built_at_the_end(tmp_path: Path) -> None:
    """merge.StoryBuilder: the order articles finish in changes nothing."""
    articles = _articles(tmp_path, 7)
    with ScriptedEndpoint(well_behaved) as ep:
        evidence_json, results, _ = _run(articles, ep.base_url, workers=False)
    evidence = [ArticleEvidence.model_validate_json(e) for e in evidence_json]
    at_the_end = build_stories(results, evidence_for(results, evidence))
    builder = StoryBuilder(articles)
    order = [6, 0, 3, 5, 1, 4, 2]
    for k in order:
        builder.add(evidence[k], results[k])
    incremental = builder.finish()
    assert [s.model_dump() for s in incremental] == [s.model_dump() for s in at_the_end]
    assert len(at_the_end) == 1 and len(at_the_end[0].articles) == 7  # copies of one event: one story
    with pytest.raises(ValueError):
        builder.add(evidence[0], results[0])  # twice


class _Probe(BaseModel):
    """Any answer validates; validating it records when (the context's ``seen``)."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _seen(cls, data: Any, info: ValidationInfo) -> Any:
        from summarizer.llm import validation_context

        validation_context(info.context)["seen"]()
        return data


def test_an_answer_is_checked_after_the_call_waiting_for_its_slot_has_gone_out() -> None:
    """llm._sends_first: with one slot, call B reaches the provider before call A's answer is checked."""
    checked: list[float] = []
    sent: list[float] = []

    with ScriptedEndpoint(well_behaved, latency=0.05) as ep:
        llm = _llm(ep.base_url)
        llm.max_in_flight = 1
        post = llm._post

        async def timed_post(body: dict[str, Any]) -> Any:
            sent.append(time.monotonic())  # the request is built; it goes out in this same turn
            return await post(body)

        llm._post = timed_post  # type: ignore[method-assign]

        async def ask(label: str) -> None:
            got = await llm.structured(
                label=label,
                system="Extract facts.",
                user="Sentences:\n[1] The council approved 12 new homes.\n",
                response_model=_Probe,
                context={"seen": lambda: checked.append(time.monotonic())},
                max_reasks=0,
            )
            assert got.value is not None, got.error

        async def go() -> None:
            try:
                await asyncio.gather(ask("A"), ask("B"))
            finally:
                await llm.close()

        asyncio.run(go())
    assert len(ep.requests) == 2 and len(sent) == 2 and len(checked) == 2
    # The second request went out before the first answer was checked (without _sends_first the first
    # answer is checked in the same turn of the loop that reads it, before B's task can send).
    assert sent[1] <= checked[0]


def test_an_interrupted_run_ends_its_workers_at_once(tmp_path: Path) -> None:
    """Ctrl-C mid-run: the workers are not left to finish calls that may take minutes."""
    import contextlib

    articles = _articles(tmp_path, 4)
    with ScriptedEndpoint(well_behaved, latency=60) as ep:
        llm = _llm(ep.base_url)
        options = Options(concurrency=4)
        senders = sending.Senders(llm, Prompts(), options)

        async def go() -> None:
            run = senders.run(list(articles), llm, Prompts(), options, cache=None, progress=None, stats=RunStats())
            task = asyncio.ensure_future(run)
            deadline = time.monotonic() + 30
            while not ep.requests and time.monotonic() < deadline:  # the workers' calls are at the provider
                await asyncio.sleep(0.05)
            assert ep.requests
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await llm.close()

        asyncio.run(go())
        started = time.monotonic()
        senders.close(now=True)
        took = time.monotonic() - started
    assert took < 5
    assert not any(w.proc.is_alive() for w in senders._workers)


def test_a_worker_whose_parent_is_gone_ends_at_once(tmp_path: Path) -> None:
    """A parent killed with kill -9 leaves no worker finishing (and paying for) calls nobody will read."""
    articles = _articles(tmp_path, 4)
    with ScriptedEndpoint(well_behaved, latency=60) as ep:
        llm = _llm(ep.base_url)
        senders = sending.Senders(llm, Prompts(), Options(concurrency=4))
        try:
            for k, w in enumerate(senders._workers):
                w.conn.send(("article", k, articles[k], None))
            deadline = time.monotonic() + 30
            while len(ep.requests) < len(senders._workers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(ep.requests) == len(senders._workers)  # each has a call out, for 60 s
            for w in senders._workers:
                w.conn.close()  # what the parent's death does to the pipe
            for w in senders._workers:
                w.proc.join(timeout=10)
            assert not any(w.proc.is_alive() for w in senders._workers)
        finally:
            for w in senders._workers:
                if w.proc.is_alive():
                    w.proc.kill()


def _interleaved(folder: Path, events: int, copies: int) -> list[Path]:
    """``copies`` reports of each of ``events`` real ABC texts, interleaved: e0 e1 e2 e0 e1 e2 …"""
    from conftest import lee_corpus

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for copy in range(copies):
        for i, body in enumerate(lee_corpus()[:events]):
            p = folder / f"c{copy}_e{i:02d}.txt"
            p.write_text(f"date 2001-12-24 Copy {copy} ({i}): {' '.join(body.split()[:8])}\n\n{body}\n", "utf-8")
            paths.append(p)
    return paths


def test_articles_are_handed_out_story_by_story(tmp_path: Path) -> None:
    """StoryBuilder.order: each story's articles together, stories where their first article is, so in a
    run with sending workers each story is complete (and its narrative asked) as early as it can be."""
    from summarizer.load import load_inputs

    articles = load_inputs([str(p) for p in _interleaved(tmp_path, 3, 3)]).articles
    order = StoryBuilder(articles).order()
    assert sorted(order) == list(range(9))
    assert order == [0, 3, 6, 1, 4, 7, 2, 5, 8]  # e0's three reports, then e1's, then e2's

    # A run with workers follows it once each worker has its first share (here 2 × 2 articles in input
    # order): the articles handed out, in the order they went. And the stories are the same.
    articles = load_inputs([str(p) for p in _interleaved(tmp_path / "more", 3, 6)]).articles
    builder = StoryBuilder(articles)
    builder.order()  # clustered before the run (Senders.run asks for the order off its loop): no race below
    handed: list[int] = []

    with ScriptedEndpoint(well_behaved, latency=0.05) as ep:
        llm = _llm(ep.base_url)
        llm.max_in_flight = 2
        options = Options(concurrency=2, max_reasks=0)
        senders = sending.Senders(llm, Prompts(), options)
        for w in senders._workers:

            def send(msg: Any, real: Any = w.conn.send) -> None:
                if msg is not None and msg[0] == "article":
                    handed.append(msg[1])
                real(msg)

            w.conn.send = send  # type: ignore[method-assign]

        async def go() -> list[ArticleResult]:
            try:
                _, results = await senders.run(
                    list(articles), llm, Prompts(), options, cache=None, progress=None, stats=RunStats(),
                    on_done=builder.add, order=builder.order,
                )  # fmt: skip
                return results
            finally:
                await llm.close()

        try:
            results = asyncio.run(go())
        finally:
            senders.close()
    assert [r.article.id for r in results] == [a.id for a in articles]  # still in input order
    first = [0, 1, 2, 3]  # each worker's first share, before the stories are known
    by_story = [k for k in builder.order() if k not in first]
    assert handed == first + by_story
    assert by_story[:4] == [6, 9, 12, 15]  # the rest of e0's reports come first, then e1's, then e2's
    assert sorted(sorted(s.articles) for s in builder.finish()) == sorted(
        sorted(a.id for a in articles[i::3]) for i in range(3)
    )


def test_heaviest_stories_go_first_and_the_hooks_say_when_the_digest_s_stories_are_built(tmp_path: Path) -> None:
    """StoryBuilder.order puts the stories in finish()'s order (more sources first), so the digest's stories
    and those worth a narrative are complete first; on_top hands over the digest's stories (the very objects
    finish() ranks first), on_sources_done says no story of two sources is left to come."""
    from summarizer.load import load_inputs

    paths = _interleaved(tmp_path, 3, 3)  # e0 e1 e2 three times: drop e0's last two reports, e2's last one
    kept = [p for p in paths if not p.name.startswith(("c1_e00", "c2_e00", "c2_e02"))]
    articles = load_inputs([str(p) for p in kept]).articles
    assert [a.path.rsplit("/", 1)[-1][:6] for a in articles] == ["c0_e00", "c0_e01", "c0_e02", "c1_e01", "c1_e02",
                                                                  "c2_e01"]  # fmt: skip
    assert StoryBuilder(articles).order() == [1, 3, 5, 2, 4, 0]  # e1 (3 reports), e2 (2), e0 (1)

    with ScriptedEndpoint(well_behaved) as ep:
        evidence_json, results, _ = _run(articles, ep.base_url, workers=False)
    evidence = [ArticleEvidence.model_validate_json(e) for e in evidence_json]
    events: list[Any] = []
    builder = StoryBuilder(
        articles, top=2, on_top=lambda stories: events.append(list(stories)),
        on_sources_done=lambda: events.append("sources done"),
    )  # fmt: skip
    for k in [1, 3, 2, 5]:  # e1 is built on its third report (5); e2 then still lacks one
        builder.add(evidence[k], results[k])
    assert events == []
    builder.add(evidence[4], results[4])  # e2 built: the two heaviest are in, and every story of two sources
    assert len(events) == 2 and events[1] == "sources done"
    builder.add(evidence[0], results[0])
    stories = builder.finish()
    assert len(events) == 2  # each said once
    assert [id(s) for s in events[0]] == [id(s) for s in stories[:2]]
    assert [len(s.articles) for s in stories] == [3, 2, 1]


def test_the_room_left_for_the_parent_s_calls_counts_the_workers_narratives() -> None:
    """Senders._spare: a worker writing narratives has those calls out too. The digest, asked by the parent
    in the room left, made 33 calls in flight at N = 32 when only the articles a worker held were counted."""
    llm = _llm("http://127.0.0.1:9/v1")
    senders = sending.Senders(llm, Prompts(), Options(concurrency=4, max_reasks=0), workers=2)
    try:
        a, b = senders._workers  # shares of 2 each
        a.held, b.held = {0, 1}, {2}
        assert senders._spare() == 1
        b.jobs = {7}  # b writes one narratives call beside its article: N is all out
        assert senders._spare() == 0
        a.held, b.held = set(), set()
        assert senders._spare() == 3
    finally:
        senders.close()


def test_clustering_in_a_thread_holds_the_answers_until_the_groups_are_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StoryBuilder.prepare: the groups are found in a thread; results added meanwhile are held (the event
    loop is not blocked on the clustering) and built once they are in: the same stories as without it."""
    import threading

    from conftest import write_lee

    import summarizer.cluster

    articles = load_inputs_of(_interleaved(tmp_path / "pairs", 2, 2) + write_lee(tmp_path / "singles", 3, start=40))
    with ScriptedEndpoint(well_behaved) as ep:
        evidence_json, results, _ = _run(articles, ep.base_url, workers=False)
    evidence = [ArticleEvidence.model_validate_json(e) for e in evidence_json]
    plain = StoryBuilder(articles)
    for ev, res in zip(evidence, results, strict=True):
        plain.add(ev, res)
    want = [s.model_dump() for s in plain.finish()]

    go = threading.Event()
    real = summarizer.cluster.cluster_articles

    def slow(texts: Any) -> Any:
        assert go.wait(10)
        return real(texts)

    monkeypatch.setattr(summarizer.cluster, "cluster_articles", slow)
    built: list[str] = []
    builder = StoryBuilder(articles, on_story=lambda story: built.append(story.title))
    builder.prepare()
    for ev, res in zip(evidence[:-1], results[:-1], strict=True):
        builder.add(ev, res)  # returns at once: the groups are not in
    assert built == []
    go.set()
    builder.order()  # waits for the groups (as sending.Senders.run does, off its loop)
    builder.add(evidence[-1], results[-1])  # the groups are in: everything held is built now
    assert len(built) == len(want)
    assert [s.model_dump() for s in builder.finish()] == want


def load_inputs_of(paths: list[Path]) -> list[Article]:
    from summarizer.load import load_inputs

    return load_inputs([str(p) for p in paths]).articles


def test_story_narratives_are_written_by_the_workers_and_say_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write.NarrativeWriter(send=Senders.narrate): in a run with sending workers the narratives' calls go
    out from the workers (their checks off the parent's loop), and the brief says what one process says."""
    from scripted_endpoint import is_narrative
    from test_write import two_sources_each

    import summarizer.llm
    from summarizer.run import BriefRequest, run_brief

    posts = tmp_path / "posts.txt"
    post = summarizer.llm.LLM._post

    async def logged(self: LLM, body: dict[str, Any]) -> Any:
        kind = "narrative" if is_narrative(body) else "other"
        with posts.open("a", encoding="utf-8") as f:  # from whichever process sends it
            f.write(f"{os.getpid()} {kind}\n")
        return await post(self, body)

    monkeypatch.setattr(summarizer.llm.LLM, "_post", logged)  # forked workers have it too, spawned ones not
    narrate = sending.Senders.narrate
    by_workers: list[str] = []

    async def counted(self: sending.Senders, group: list[Any], max_reasks: int) -> Any:
        got = await narrate(self, group, max_reasks)
        by_workers.extend(a.tag for a in group if got is not None and got[0][a.tag].text)
        return got

    monkeypatch.setattr(sending.Senders, "narrate", counted)
    monkeypatch.setattr(sending, "MIN_ARTICLES", 2)
    monkeypatch.setattr(summarizer.write, "NARRATIVE_BATCH", 1)
    paths = two_sources_each(tmp_path / "in", 4)
    briefs = {}
    for name, workers in (("here", False), ("sent", True)):
        monkeypatch.setattr(sending, "MIN_CONCURRENCY", 8 if workers else 10**6)
        posts.write_text("", encoding="utf-8")
        with ScriptedEndpoint(well_behaved, latency=0.05) as ep:
            req = BriefRequest(
                inputs=[str(p) for p in paths], out=tmp_path / name, base_url=ep.base_url, model="scripted",
                mode="json", concurrency=8, narrative=True, quiet=True, cache_path=tmp_path / f"{name}.sqlite3",
            )  # fmt: skip
            assert run_brief(req) == 0
            assert ep.max_in_flight <= 8
            calls = len(ep.requests)
            assert run_brief(req) == 0  # the narratives the workers wrote are in this process's cache
            assert len(ep.requests) == calls
        briefs[name] = json.loads((tmp_path / name / "brief.json").read_text(encoding="utf-8"))
        sent = [line.split() for line in posts.read_text(encoding="utf-8").splitlines()]
        here = [kind for pid, kind in sent if pid == str(os.getpid())]
        if workers:  # every narrative written in a worker; none sent from this process
            assert len(by_workers) == 4 and "narrative" not in here
        else:
            assert here.count("narrative") == 4 and not by_workers

    def stories(b: dict[str, Any]) -> dict[tuple[str, ...], tuple[str, str]]:
        return {tuple(s["articles"]): (s["summary"], s["summary_origin"]) for s in b["stories"]}

    assert stories(briefs["sent"]) == stories(briefs["here"])
    assert sum(origin == "llm" for _, origin in stories(briefs["sent"]).values()) == 4


def test_a_dead_workers_narratives_are_written_by_the_caller(tmp_path: Path) -> None:
    """Senders.narrate gives None at once when the worker writing the group dies (the writer then writes
    it in this process), not after the call it had out."""
    from scripted_endpoint import Fault, is_narrative
    from test_write import brief, two_sources_each

    from summarizer.models import Story
    from summarizer.write import _Ask, story_view

    with ScriptedEndpoint(well_behaved) as ep:
        built = brief(two_sources_each(tmp_path / "pairs", 1), ep.base_url, tmp_path / "b", tmp_path / "c.sqlite3")
    story = Story.model_validate(built["stories"][0])
    group = [_Ask(story, *story_view(story), key="k")]
    articles = _articles(tmp_path, 16)

    def stall_narratives(request: dict[str, Any]) -> Any:
        return Fault("stall", seconds=30) if is_narrative(request) else well_behaved(request)

    with ScriptedEndpoint(stall_narratives, latency=0.3) as ep:
        llm = _llm(ep.base_url)
        options = Options(concurrency=4, max_reasks=0)
        senders = sending.Senders(llm, Prompts(), options)

        async def go() -> tuple[Any, float, list[ArticleResult]]:
            try:
                run = asyncio.ensure_future(
                    senders.run(list(articles), llm, Prompts(), options, cache=None, progress=None, stats=RunStats())
                )
                await asyncio.sleep(0.2)  # the run is on
                asked = asyncio.ensure_future(senders.narrate(group, 0))
                while not any(is_narrative(r) for r in ep.requests):
                    await asyncio.sleep(0.02)
                writer = next(w for w in senders._workers if w.jobs)
                t = time.monotonic()
                os.kill(writer.proc.pid, signal.SIGKILL)
                got = await asyncio.wait_for(asked, 10)
                waited = time.monotonic() - t
                _, results = await run
                return got, waited, results
            finally:
                await llm.close()

        try:
            got, waited, results = asyncio.run(go())
        finally:
            senders.close()
    assert got is None and waited < 5
    assert [r.article.id for r in results] == [a.id for a in articles]  # its articles ran elsewhere
