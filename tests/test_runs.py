"""Runs at the provider's speed: cache, resume after kill -9, budget, concurrency, the cache and batch
commands, progress output. Everything against SCRIPTED local endpoints (no model, no network).

The 429 / Retry-After case (one article waits, the others are not stalled) is covered by
``tests/test_faults.py::test_429_wait_does_not_stall_other_workers``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC, ROOT, write_lee
from scripted_endpoint import (
    ScriptedEndpoint,
    hostile_injection,
    hostile_wrong_numbers,
    is_digest,
    is_narrative,
    parse_sentences,
    well_behaved,
)
from typer.testing import CliRunner

from summarizer.run import BriefRequest, run_brief

# ---------------------------------------------------------------- helpers


def is_extraction(request: dict[str, Any]) -> bool:
    return not is_narrative(request) and not is_digest(request)


def article_of(request: dict[str, Any]) -> str:
    """The first sentence of the <article> an extraction request carries: identifies the article."""
    sents = parse_sentences(request)
    assert sents, "an extraction request without an <article> block"
    return sents[0][1]


def first_sentences(paths: list[Path]) -> dict[str, str]:
    """first sentence (as the prompt shows it) -> path, computed by the pipeline's own segmenter."""
    from summarizer.load import load_inputs
    from summarizer.segment import segment

    loaded = load_inputs([str(p) for p in paths])
    assert not loaded.errors
    return {segment(a).sentences[0].text.replace("\n", " "): a.path for a in loaded.articles}


def brief(
    inputs: list[Path], url: str, out: Path, *, cache_path: Path | None = None, **opts: Any
) -> tuple[int, dict[str, Any]]:
    options: dict[str, Any] = {"model": "scripted", "mode": "json", "concurrency": 4, "narrative": False}
    options.update({"quiet": True, **opts})
    code = run_brief(
        BriefRequest(inputs=[str(p) for p in inputs], out=out, base_url=url, cache_path=cache_path, **options)
    )
    return code, json.loads((out / "brief.json").read_text(encoding="utf-8"))


def facts_by_path(b: dict[str, Any]) -> dict[str, list[str]]:
    return {r["article"]["path"]: [f["text"] for f in r["facts"]] for r in b["results"]}


def cache_rows(path: Path) -> int:
    """Entries in the SQLite cache, read by another connection (as a second process would)."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:  # table not created yet
        return 0
    finally:
        conn.close()


def cached_paths(path: Path) -> set[str]:
    from summarizer.models import ArticleResult

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = [r[0] for r in conn.execute("SELECT value FROM results")]
    finally:
        conn.close()
    return {ArticleResult.model_validate_json(v).article.path for v in rows}


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


# ---------------------------------------------------------------- 1. cache


def test_rerun_is_served_from_cache_and_no_cache_pays_again(tmp_path: Path) -> None:
    # The seeds make one two-source story, so a narrative is worth asking for; the ABC texts stand alone.
    paths = [*write_lee(tmp_path / "lee", 5), AP, BBC]
    db = tmp_path / "c.sqlite3"
    with ScriptedEndpoint(well_behaved) as ep:
        code, first = brief(paths, ep.base_url, tmp_path / "o1", cache_path=db, narrative=True)
        assert code == 0
        paid = len(ep.requests)
        firsts = first_sentences(paths)
        assert {firsts[article_of(q)] for q in ep.requests if is_extraction(q)} == set(map(str, paths))
        assert any(is_narrative(q) for q in ep.requests) and any(is_digest(q) for q in ep.requests)
        assert first["usage"]["calls"] == paid
        assert not any(r["cached"] for r in first["results"])

        code, again = brief(paths, ep.base_url, tmp_path / "o2", cache_path=db, narrative=True)
        assert code == 0
        assert len(ep.requests) == paid  # ZERO calls: articles, narratives and digest all from cache
        assert [r["cached"] for r in again["results"]] == [True] * len(paths)
        assert again["usage"]["calls"] == 0 and again["usage"]["cost_usd"] == 0
        assert facts_by_path(again) == facts_by_path(first)
        assert [s["summary"] for s in again["stories"]] == [s["summary"] for s in first["stories"]]
        assert again["digest"] == first["digest"]

        code, fresh = brief(paths, ep.base_url, tmp_path / "o3", cache_path=db, use_cache=False)
        assert code == 0
        # --no-cache pays for every article again
        assert {firsts[article_of(q)] for q in ep.requests[paid:]} == set(map(str, paths))
        assert not any(r["cached"] for r in fresh["results"])
        assert fresh["usage"]["calls"] == len(ep.requests) - paid >= len(paths)


# ---------------------------------------------------------------- 2. resume after kill -9


def test_resume_after_kill_9_pays_only_for_unfinished_articles(tmp_path: Path) -> None:
    paths = write_lee(tmp_path / "lee", 8)
    firsts = first_sentences(paths)
    assert len(firsts) == 8
    cache_dir = tmp_path / "cache"
    db = cache_dir / "results.sqlite3"
    with ScriptedEndpoint(well_behaved, latency=0.4) as ep:
        cmd = [
            sys.executable, "-m", "summarizer.cli", "brief", *map(str, paths), "--base-url", ep.base_url,
            "--model", "scripted", "--mode", "json", "--concurrency", "1", "--no-narrative",
            "--out", str(tmp_path / "killed"),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            env=cli_env(SUMMARIZER_CACHE_DIR=str(cache_dir)),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while cache_rows(db) < 3:
                assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
                assert time.monotonic() < deadline, "no 3 cached articles within 60 s"
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert not (tmp_path / "killed" / "brief.json").exists()  # it really died mid-run
        finished = cached_paths(db)
        assert 3 <= len(finished) < 8
        first_run = len(ep.requests)

        code, b = brief(paths, ep.base_url, tmp_path / "resumed", cache_path=db, concurrency=1)
        assert code == 0
        resent = [firsts[article_of(r)] for r in ep.requests[first_run:]]

    # Exactly the unfinished articles are sent; no finished article is paid twice.
    assert set(resent) == set(map(str, paths)) - finished
    assert not set(resent) & finished
    # Across both runs each article reached the endpoint once, except at most the one in flight at the kill.
    sent_twice = {firsts[article_of(r)] for r in ep.requests[:first_run]} & set(resent)
    assert len(sent_twice) <= 1
    # The brief covers all 8, the finished ones from the cache.
    assert sorted(r["article"]["path"] for r in b["results"]) == sorted(map(str, paths))
    assert {r["article"]["path"] for r in b["results"] if r["cached"]} == finished
    assert all(r["facts"] for r in b["results"])
    assert b["usage"]["calls"] == len(ep.requests) - first_run


# ---------------------------------------------------------------- 3. budget


def first_call_estimates(paths: list[Path], model: str) -> list[float]:
    """What the guard reserves before each article's first call: prompt estimate + the output cap."""
    from summarizer.cost import estimate_cost, rough_tokens
    from summarizer.extract import build_prompt, schema
    from summarizer.llm import Endpoint
    from summarizer.load import load_inputs
    from summarizer.segment import segment
    from summarizer.templates import Prompts

    prompts = Prompts()
    max_tokens = Endpoint(base_url="", model="").max_tokens
    out = []
    for doc in (segment(a) for a in load_inputs([str(p) for p in paths]).articles):
        system, user = build_prompt(doc, prompts)
        out.append(estimate_cost(model, rough_tokens(system + user) + rough_tokens(str(schema())), max_tokens))
    return out


def test_budget_stops_sending_and_still_covers_every_article(tmp_path: Path) -> None:
    paths = write_lee(tmp_path / "lee", 6)
    estimates = first_call_estimates(paths, "gpt-4o-mini")
    # The guard reserves an article's worst case (first call + 2 re-asks = 3 estimates) and settles to what it
    # really cost (well under the estimate: the output cap is generous). 4 estimates: the first article fits for
    # sure, a couple more fit after settling, six cannot.
    budget = 4 * max(estimates)
    assert budget < 3 * sum(estimates)

    with ScriptedEndpoint(well_behaved) as ep:
        code, b = brief(paths, ep.base_url, tmp_path / "out", model="gpt-4o-mini", budget=budget, concurrency=1)
        firsts = first_sentences(paths)
        sent = {firsts[article_of(q)] for q in ep.requests if is_extraction(q)}
    assert code == 0
    assert 1 <= len(sent) < 6  # fewer articles sent than given
    results = b["results"]
    assert sorted(r["article"]["path"] for r in results) == sorted(map(str, paths))  # all 6 still covered
    skipped = [r for r in results if any("budget" in e for e in r["events"])]
    assert len(skipped) == 6 - len(sent)
    for r in skipped:
        assert r["status"] == "extractive" and r["facts"]  # the lead sentences stand in
        assert r["usage"]["calls"] == 0
    assert {r["article"]["path"] for r in results if r["usage"]["calls"]} == sent
    assert 0 < b["usage"]["cost_usd"] <= budget


def test_budget_counts_reasks(tmp_path: Path) -> None:
    paths = write_lee(tmp_path / "lee", 3)
    # Room for one article's worst case: its first call and both re-asks (the guard reserves all three).
    budget = first_call_estimates(paths, "gpt-4o-mini")[0] * 3 * 1.01
    # Every answer has wrong figures, so each sent article is re-asked max_reasks (2) times.
    with ScriptedEndpoint(hostile_wrong_numbers) as ep:
        _, b = brief(paths, ep.base_url, tmp_path / "out", model="gpt-4o-mini", budget=budget, concurrency=1)
        assert len(ep.requests) >= 2
    assert b["usage"]["cost_usd"] <= budget, (b["usage"], budget)
    not_sent = [r for r in b["results"] if r["usage"]["calls"] == 0]
    assert not_sent and all("budget" in " ".join(r["events"]) for r in not_sent)


# ---------------------------------------------------------------- 4. concurrency


def test_concurrency_bound_is_reached_and_never_exceeded(tmp_path: Path) -> None:
    paths = write_lee(tmp_path / "lee", 12)
    with ScriptedEndpoint(well_behaved) as warm:  # imports and first-use costs are not what is measured here
        brief(paths[:1], warm.base_url, tmp_path / "warm", use_cache=False)
    with ScriptedEndpoint(well_behaved, latency=0.3) as ep:
        started = time.perf_counter()
        code, b = brief(paths, ep.base_url, tmp_path / "out", use_cache=False, concurrency=4)
        wall = time.perf_counter() - started
    calls = len(ep.requests)  # 12, plus any re-ask verify asked for
    assert code == 0 and calls >= 12 and len(b["results"]) == 12
    assert ep.max_in_flight == 4  # N in flight, never more
    assert wall < calls * 0.3 / 4 * 1.6, (wall, calls)  # 0.9 s of calls at N=4 (one at a time: 3.6 s)


def test_the_next_article_is_segmented_while_a_call_is_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client bounds its calls in flight (N) itself, so the next articles are segmented and prompted
    while N calls are at the provider, instead of each in its call's slot."""
    import summarizer.segment

    paths = write_lee(tmp_path / "lee", 3)
    real = summarizer.segment.segment
    started: list[float] = []

    def segment(*args: Any, **kwargs: Any) -> Any:
        started.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(summarizer.segment, "segment", segment)
    latency = 0.4
    with ScriptedEndpoint(well_behaved, latency=latency) as ep:
        code, _ = brief(paths, ep.base_url, tmp_path / "out", use_cache=False, concurrency=1)
        times = list(ep.times)
    assert code == 0 and len(times) == 3 and ep.max_in_flight == 1  # one call at a time, never more
    assert started[1] < times[0] + latency  # the second article was segmented before the first answer came


def test_a_run_sets_the_collector_for_a_batch_and_puts_it_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While articles are processed and the brief is written the loaded objects are frozen, young objects are
    collected every BATCH_GC_YOUNG allocations and the whole heap after BATCH_GC_OLD middle passes; after
    the run the caller's collector is as it was, on success and on error."""
    import gc

    import summarizer.render
    import summarizer.segment
    from summarizer.run import BATCH_GC_OLD, BATCH_GC_YOUNG

    paths = write_lee(tmp_path / "lee", 2)
    real = summarizer.segment.segment
    during: list[tuple[tuple[int, int, int], int]] = []

    def segment(*args: Any, **kwargs: Any) -> Any:
        during.append((gc.get_threshold(), gc.get_freeze_count()))
        return real(*args, **kwargs)

    monkeypatch.setattr(summarizer.segment, "segment", segment)
    real_write = summarizer.render.write_brief

    def write_brief(*args: Any, **kwargs: Any) -> Any:  # the brief is written under the batch's collector too
        during.append((gc.get_threshold(), gc.get_freeze_count()))
        return real_write(*args, **kwargs)

    monkeypatch.setattr(summarizer.render, "write_brief", write_brief)
    before = gc.get_threshold()
    assert before[0] != BATCH_GC_YOUNG and before[2] != BATCH_GC_OLD and gc.get_freeze_count() == 0
    with ScriptedEndpoint(well_behaved) as ep:
        code, _ = brief(paths, ep.base_url, tmp_path / "out", use_cache=False)
    assert code == 0 and len(during) == 3  # two articles segmented, one brief written
    assert all(t == (BATCH_GC_YOUNG, before[1], BATCH_GC_OLD) and frozen > 0 for t, frozen in during)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("segmenter broke")

    monkeypatch.setattr(summarizer.render, "write_brief", broken)
    with ScriptedEndpoint(well_behaved) as ep, pytest.raises(RuntimeError):
        brief(paths, ep.base_url, tmp_path / "out3", use_cache=False)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    monkeypatch.setattr(summarizer.segment, "segment", broken)
    with ScriptedEndpoint(well_behaved) as ep, pytest.raises(RuntimeError):
        brief(paths, ep.base_url, tmp_path / "out2", use_cache=False)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


# ---------------------------------------------------------------- 6. cache stats / clear


def test_cache_stats_and_clear_commands(tmp_path: Path) -> None:
    from summarizer.cli import app

    runner = CliRunner()
    paths = write_lee(tmp_path / "lee", 3)
    before = runner.invoke(app, ["cache", "stats"])
    assert before.exit_code == 0 and "entries: 0" in before.output
    with ScriptedEndpoint(well_behaved) as ep:
        brief(paths, ep.base_url, tmp_path / "o1")  # default cache: $SUMMARIZER_CACHE_DIR (conftest)
        stats = runner.invoke(app, ["cache", "stats"])
        assert stats.exit_code == 0, stats.output
        assert "entries: 3" in stats.output
        assert f"path: {Path(os.environ['SUMMARIZER_CACHE_DIR']) / 'results.sqlite3'}" in stats.output

        cleared = runner.invoke(app, ["cache", "clear"])
        assert cleared.exit_code == 0 and "removed 3 cached result(s)" in cleared.output
        after = runner.invoke(app, ["cache", "stats"])
        assert after.exit_code == 0 and "entries: 0" in after.output

        n = len(ep.requests)
        brief(paths, ep.base_url, tmp_path / "o2")
        firsts = first_sentences(paths)
        assert {firsts[article_of(q)] for q in ep.requests[n:]} == set(map(str, paths))  # gone: paid again


# ---------------------------------------------------------------- 7. batch submit / status / collect via the CLI


@pytest.fixture
def batch_server() -> Iterator[tuple[Any, str]]:
    # The scripted files+batches server of test_batch.py (same module object pytest imported).
    from test_batch import Scripted, make_handler

    script = Scripted()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_batch_submit_status_collect_then_live_run_hits_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_server: tuple[Any, str]
) -> None:
    import test_batch

    from summarizer.cache import ResultCache
    from summarizer.cli import app

    script, url = batch_server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")  # the scripted server checks it
    paths = [AP, BBC, *write_lee(tmp_path / "lee", 2)]
    runner = CliRunner()
    state = tmp_path / "state.json"
    out = tmp_path / "out"

    r = runner.invoke(app, ["batch", "submit", *map(str, paths), "--state", str(state), "--model", "gpt-4o-mini",
                            "--base-url", url])  # fmt: skip
    assert r.exit_code == 0, r.output
    (batch_id,) = script.batches
    uploaded = script.files[script.batches[batch_id]["input_file_id"]]["data"].decode().splitlines()
    lines = {json.loads(x)["custom_id"]: json.loads(x)["body"] for x in uploaded}
    assert len(lines) == 4 and all(b["model"] == "gpt-4o-mini" for b in lines.values())

    r = runner.invoke(app, ["batch", "status", "--state", str(state), "--base-url", url])
    assert r.exit_code == 0 and f"{batch_id}: in_progress" in r.output
    r = runner.invoke(app, ["batch", "collect", "--state", str(state), "--out", str(out), "--base-url", url])
    assert r.exit_code == 1 and not (out / "brief.json").exists()  # not finished: nothing written

    # The model's answers: faithful for the lee texts, a fabricated casualty figure for AP, every figure
    # falsified for BBC. Derived from each request's own prompt, as a model would.
    firsts = first_sentences(paths)
    by_path = {firsts[article_of(body)]: cid for cid, body in lines.items()}
    hostile = {by_path[str(AP)]: hostile_injection, by_path[str(BBC)]: hostile_wrong_numbers}
    answers = {cid: json.dumps(hostile.get(cid, well_behaved)(body)) for cid, body in lines.items()}
    monkeypatch.setattr(test_batch, "canned_content", answers.__getitem__)
    script.finish(batch_id)

    r = runner.invoke(app, ["batch", "status", "--state", str(state), "--base-url", url])
    assert r.exit_code == 0 and f"{batch_id}: completed — 4/4 completed, 0 failed" in r.output
    r = runner.invoke(app, ["batch", "collect", "--state", str(state), "--out", str(out), "--base-url", url])
    assert r.exit_code == 0, r.output
    b = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    status = {res["article"]["path"]: res["status"] for res in b["results"]}
    assert sorted(status) == sorted(map(str, paths))  # every article covered
    assert status[str(BBC)] == "extractive"  # nothing it said survived verify
    assert status[str(AP)] == "partial"  # the real facts kept, the invented one dropped
    assert all(status[str(p)] == "verified" for p in paths[2:])
    invented = [x for x in b["rejected"] if "10,000 people died" in x["content"]]
    assert invented and all(x["reasons"] for x in invented)
    bbc_id = next(res["article"]["id"] for res in b["results"] if res["article"]["path"] == str(BBC))
    assert any(x["article"] == bbc_id and x["field"] == "fact" and x["reasons"] for x in b["rejected"])
    assert "10,000" not in (out / "brief.md").read_text(encoding="utf-8")
    assert b["usage"]["calls"] == 4 and b["usage"]["cost_usd"] > 0  # priced at the batch rate

    with ResultCache() as cache:
        assert len(cache) == 4

    # A live run over the same inputs with the same model name: every extraction comes from the cache.
    with ScriptedEndpoint(well_behaved) as ep:
        r = runner.invoke(app, ["brief", *map(str, paths), "--base-url", ep.base_url, "--model", "gpt-4o-mini",
                                "--mode", "json", "--no-narrative", "--out", str(tmp_path / "live"), "-q"])  # fmt: skip
        assert r.exit_code == 0, r.output
        assert [q for q in ep.requests if is_extraction(q)] == []
    live = json.loads((tmp_path / "live" / "brief.json").read_text(encoding="utf-8"))
    assert all(res["cached"] for res in live["results"]) and live["usage"]["calls"] == 0
    assert {res["article"]["path"]: res["status"] for res in live["results"]} == status


# ---------------------------------------------------------------- 8. progress and --verbose


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = write_lee(tmp_path / "lee", 4)
    with ScriptedEndpoint(well_behaved, latency=0.05) as ep:
        code, _ = brief(paths, ep.base_url, tmp_path / "out", quiet=False)
    assert code == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err  # no redraws, no colour codes
    assert "in flight" not in err and "eta" not in err  # no progress line at all
    lines = err.splitlines()
    assert [ln for ln in lines if not ln.startswith("engine: ")] == [ln for ln in lines if ln.startswith("wrote ")]
    assert len([ln for ln in lines if ln.startswith("wrote ")]) == 1
    assert re.search(r" · 4 article\(s\): .* · LLM calls \d+", err)


def test_verbose_logs_each_call(tmp_path: Path) -> None:
    paths = write_lee(tmp_path / "lee", 2)
    with ScriptedEndpoint(well_behaved) as ep:
        proc = subprocess.run(
            [sys.executable, "-m", "summarizer.cli", "brief", *map(str, paths), "--base-url", ep.base_url,
             "--model", "scripted", "--mode", "json", "--no-narrative", "--out", str(tmp_path / "out"), "--verbose"],
            env=cli_env(SUMMARIZER_CACHE_DIR=str(tmp_path / "cache")),
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    calls = re.findall(r"^call (a\d+) attempt=1 latency=\d+\.\d\ds tokens=\d+\+\d+", proc.stderr, re.M)
    assert sorted(calls) == ["a1", "a2"], proc.stderr
    assert "in flight" not in proc.stderr and "\r" not in proc.stderr
