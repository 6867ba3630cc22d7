"""Provider faults through the whole pipeline, against a SCRIPTED endpoint (no model, no network).

Each fault shows what happens to it: retried with backoff (429 honouring Retry-After, 500, 503, a
reset connection, a stall past the client timeout), re-asked (invalid JSON, schema violations,
fabricated numbers, sentence ids past the end) or rejected with a reason (truncated output). Whatever
happens, every article ends in brief.json, marked: results[].status, results[].events, rejected[].
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC, lee_corpus, write_lee
from scripted_endpoint import (
    MIXED_FAULT_NAMES,
    Fault,
    Reply,
    ScriptedEndpoint,
    hostile_bad_ids,
    hostile_wrong_numbers,
    is_digest,
    mixed_faults,
    parse_sentences,
    well_behaved,
)

from summarizer.run import BriefRequest, run_brief


def set_bounds(mp: pytest.MonkeyPatch, **bounds: Any) -> None:
    """Shorter transport bounds (timeout, retries, backoff) for the endpoint run_brief resolves."""
    import summarizer.llm as llm

    real = llm.resolve_endpoint

    def resolve(**kwargs: Any) -> Any:
        ep = real(**kwargs)
        if ep is not None:
            for k, v in bounds.items():
                assert hasattr(ep, k), k
                setattr(ep, k, v)
        return ep

    mp.setattr(llm, "resolve_endpoint", resolve)


FAST = {"timeout": 2.0, "max_backoff": 0.05, "max_transport_retries": 4, "max_retry_seconds": 10.0}


@dataclass
class Run:
    code: int
    brief: dict[str, Any]
    md: str
    requests: list[dict[str, Any]]
    times: list[float]
    seconds: float
    calls: list[dict[str, Any]]


def run(
    tmp_path: Path,
    responder: Callable[[dict[str, Any]], Reply] | None = None,
    *,
    inputs: list[Path] | None = None,
    script: list[Reply] | None = None,
    base_url: str | None = None,
    **options: Any,
) -> Run:
    out = tmp_path / "out"
    opts: dict[str, Any] = {"concurrency": 4, "narrative": False, "quiet": True, "use_cache": False}
    opts.update(options)

    def go(url: str) -> int:
        req = BriefRequest(
            inputs=[str(p) for p in (inputs or [AP])],
            out=out,
            base_url=url,
            model="scripted",
            mode="json",
            cache_path=tmp_path / "c.sqlite3",
            **opts,
        )
        return run_brief(req)

    started = time.monotonic()
    if base_url is not None:
        code = go(base_url)
        requests: list[dict[str, Any]] = []
        times: list[float] = []
    else:
        with ScriptedEndpoint(responder, script=script or ()) as ep:
            code = go(ep.base_url)
            requests, times = list(ep.requests), list(ep.times)
            assert not ep.errors, ep.errors  # a responder that raised is a test bug
    seconds = time.monotonic() - started
    calls = [json.loads(line) for line in (out / "calls.jsonl").read_text().splitlines()]
    brief = json.loads((out / "brief.json").read_text())
    return Run(code, brief, (out / "brief.md").read_text(), requests, times, seconds, calls)


def first_call_only(fault: Callable[[dict[str, Any]], Reply]) -> Callable[[dict[str, Any]], Reply]:
    """The first request gets ``fault(request)``; later ones a faithful model."""
    seen: list[int] = []

    def respond(request: dict[str, Any]) -> Reply:
        seen.append(1)
        return fault(request) if len(seen) == 1 else well_behaved(request)

    return respond


def invalid_json(request: dict[str, Any]) -> str:
    text = json.dumps(well_behaved(request))
    return text[:-3] + ",,}"


def schema_violation(request: dict[str, Any]) -> dict[str, Any]:
    return {"headline": 5, "facts": "none"}


def truncated(request: dict[str, Any]) -> Fault:
    text = json.dumps(well_behaved(request))
    return Fault("truncated", content=text[: len(text) // 2])


def only(r: Run) -> dict[str, Any]:
    assert len(r.brief["results"]) == 1
    return r.brief["results"][0]


def events(result: dict[str, Any]) -> str:
    return " | ".join(result["events"])


# ---------------------------------------------------------------- retried with backoff


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_status_is_retried_and_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, script=[Fault("status", status=status)])
    assert r.code == 0
    assert len(r.requests) == 2  # the fault, then one retry
    res = only(r)
    assert res["status"] == "verified"
    assert f"1 transport error(s) retried: HTTP {status}" in events(res)
    assert r.brief["rejected"] == []  # a retried transport error is not a rejection
    assert [c["error"] is not None for c in r.calls] == [True, False]


def test_429_retry_after_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_bounds(monkeypatch, **{**FAST, "max_backoff": 5.0})
    r = run(tmp_path, script=[Fault("status", status=429, retry_after=1.2)])
    assert len(r.requests) == 2
    gap = r.times[1] - r.times[0]
    assert 1.1 <= gap < 3.0, gap  # the server's hint, not our own (much shorter) backoff
    assert only(r)["status"] == "verified"


def test_retry_after_is_capped_by_our_max_backoff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_bounds(monkeypatch, **{**FAST, "max_backoff": 0.3})
    r = run(tmp_path, script=[Fault("status", status=429, retry_after=60)])
    assert len(r.requests) == 2
    assert r.times[1] - r.times[0] < 2.0  # not 60 s
    assert only(r)["status"] == "verified"


def test_connection_reset_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, script=[Fault("reset")])
    assert len(r.requests) == 2
    res = only(r)
    assert res["status"] == "verified"
    assert "1 transport error(s) retried: connection error" in events(res)


def test_stall_past_the_client_timeout_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_bounds(monkeypatch, **{**FAST, "timeout": 0.5})
    r = run(tmp_path, script=[Fault("stall", seconds=20)])
    assert len(r.requests) == 2
    assert r.times[1] - r.times[0] < 2.0  # gave up after the timeout, not after the stall
    res = only(r)
    assert res["status"] == "verified"
    assert "1 transport error(s) retried: timeout" in events(res)
    assert r.seconds < 10


# ---------------------------------------------------------------- rejected with a reason


def test_truncated_output_is_rejected_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, first_call_only(truncated))
    # finish_reason=length is not re-asked: the same prompt and cap would be cut again.
    assert len(r.requests) == 1
    res = only(r)
    assert res["status"] == "extractive"
    assert "output truncated (finish_reason=length)" in events(res)
    (rej,) = r.brief["rejected"]
    assert rej["article"] == "a1" and rej["field"] == "response"
    assert rej["reasons"] == ["output truncated (finish_reason=length)"]
    assert rej["content"].startswith('{"headline"')  # the partial output is kept for the audit
    # The brief still has the article's evidence: its lead sentences, verbatim.
    assert res["facts"] and all(f["origin"] == "extractive" for f in res["facts"])


# ---------------------------------------------------------------- re-asked


def bad_ids_merged(request: dict[str, Any]) -> dict[str, Any]:
    """Ids past the end on a fact that joins two sentences: no single sentence states it, so no re-anchoring."""
    sents = parse_sentences(request)
    out = hostile_bad_ids(request)
    out["facts"] = [{"text": f"{sents[1][1]} {sents[2][1]}", "sentence_ids": [len(sents) + 5]}]
    return out


REASKED: dict[str, Callable[[dict[str, Any]], Reply]] = {
    "invalid_json": invalid_json,
    "schema_violation": schema_violation,
    "wrong_numbers": hostile_wrong_numbers,
    "bad_ids": bad_ids_merged,
}


def test_verbatim_copies_with_bad_ids_are_re_anchored_without_a_reask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A weak model copies sentences but miscounts ids; the copy is located, verified there, and kept.
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, hostile_bad_ids, max_reasks=2)
    assert len(r.requests) == 1  # nothing to re-ask about
    res = only(r)
    assert res["status"] == "verified"
    anchored = [e for e in res["events"] if e.startswith("fact citation re-anchored")]
    from_llm = [f for f in res["facts"] if f["origin"] == "llm"]
    assert len(anchored) == len(from_llm) >= 3
    n_sentences = len(parse_sentences(r.requests[0]))
    for fact in res["facts"]:
        assert fact["text"] == fact["citations"][0]["quote"]
        assert all(0 <= c["sentence"] < n_sentences for c in fact["citations"])


@pytest.mark.parametrize("name", list(REASKED))
def test_bad_output_once_is_reasked_and_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, first_call_only(REASKED[name]))
    assert r.code == 0
    assert len(r.requests) == 2  # one re-ask
    # The re-ask carries the original conversation, the bad answer and what was wrong with it.
    reask = r.requests[1]["messages"]
    assert len(reask) > len(r.requests[0]["messages"])
    feedback = json.dumps(reask[len(r.requests[0]["messages"]) :])
    expected = {
        "invalid_json": "JSON",
        "schema_violation": "headline",
        "wrong_numbers": "you wrote 370",
        "bad_ids": "but the article has sentences 0 to",
    }[name]
    assert expected in feedback
    res = only(r)
    assert res["status"] == "verified"
    assert "370" not in r.md and "1,063" not in r.md


@pytest.mark.parametrize("name", list(REASKED))
def test_successful_reask_is_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, first_call_only(REASKED[name]))
    res = only(r)
    assert res["status"] == "verified"
    assert "re-asked 1 time(s) before output passed" in events(res)
    (rej,) = r.brief["rejected"]
    assert rej["article"] == "a1" and rej["field"] == "response" and rej["attempt"] == 1
    assert rej["reasons"] and all(rej["reasons"])


@pytest.mark.parametrize("name", list(REASKED))
def test_bad_output_every_time_is_bounded_and_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    set_bounds(monkeypatch, **FAST)
    r = run(tmp_path, REASKED[name], max_reasks=2)
    assert r.code == 0  # the provider worked; the model's output was bad, and the audit says so
    assert len(r.requests) == 3  # first try + 2 re-asks, no more
    res = only(r)
    assert "output failed validation after 3 attempt(s)" in events(res)
    # Each failed attempt (and, for the best one, each bad part) with its reasons.
    assert len(res["rejected"]) >= 2
    assert all(rej["reasons"] for rej in res["rejected"])
    assert "370" not in r.md and "1,063" not in r.md
    n_sentences = len(parse_sentences(r.requests[0]))
    for fact in res["facts"]:
        assert fact["text"] == fact["citations"][0]["quote"]
        assert all(0 <= c["sentence"] < n_sentences for c in fact["citations"])
    assert res["status"] == "extractive"
    assert all(f["origin"] == "extractive" for f in res["facts"])


# ---------------------------------------------------------------- bounded in count and time


def test_retries_are_bounded_in_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_bounds(monkeypatch, **{**FAST, "max_transport_retries": 3})
    r = run(tmp_path, lambda req: Fault("status", status=503), inputs=[AP, BBC])
    assert len(r.requests) == 2 * (1 + 3)
    assert r.code == 1
    for res in r.brief["results"]:
        assert res["status"] == "extractive"
        assert "HTTP 503" in events(res)
    reasons = [rej["reasons"] for rej in r.brief["rejected"]]
    assert reasons == [["provider error after retries: HTTP 503 InternalServerError"]] * 2


def test_retries_are_bounded_in_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A provider that never answers: the delay bound (1 s) ends it long before the count bound (20).
    set_bounds(monkeypatch, **{**FAST, "timeout": 0.4, "max_transport_retries": 20, "max_retry_seconds": 1.0})
    r = run(tmp_path, lambda req: Fault("stall", seconds=30))
    assert 2 <= len(r.requests) <= 4
    assert r.seconds < 5.0
    res = only(r)
    assert res["status"] == "extractive" and "timeout" in events(res)
    assert r.code == 1


def test_default_bounds_end_an_outage(tmp_path: Path) -> None:
    # The shipped defaults (4 retries, capped backoff): an always-503 provider costs 5 requests.
    r = run(tmp_path, lambda req: Fault("status", status=503))
    assert len(r.requests) == 5
    assert r.seconds < 30  # random exponential backoff 0.5·2^k, at most ~7.5 s in all
    assert r.code == 1 and only(r)["status"] == "extractive"


# ---------------------------------------------------------------- provider down


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_provider_down_gives_a_clear_error_and_an_extractive_brief(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_bounds(monkeypatch, **{**FAST, "max_transport_retries": 2})
    r = run(tmp_path, base_url=f"http://127.0.0.1:{free_port()}/v1", inputs=[AP, BBC], narrative=True)
    err = capsys.readouterr().err
    assert r.code == 1
    assert "the provider failed for 2 article(s) after bounded retries" in err
    assert "Traceback" not in err
    assert [a["path"] for a in r.brief["articles"]] == [str(AP), str(BBC)]
    for res in r.brief["results"]:
        assert res["status"] == "extractive"
        assert "connection error" in events(res)
        assert res["facts"] and all(f["origin"] == "extractive" for f in res["facts"])
    reasons = [x for rej in r.brief["rejected"] for x in rej["reasons"]]
    assert "provider error after retries: connection error" in reasons
    # 3 attempts per extraction, and the story's narrative also tried (and failed) within bounds.
    assert sum(1 for c in r.calls if c["error"] == "connection error") == 2 * 3 + 3 * len(r.brief["stories"])
    assert r.brief["stories"] and all(s["summary_origin"] == "composed" for s in r.brief["stories"])
    assert all(s["summary"].strip() for s in r.brief["stories"])  # composed once the narratives failed
    assert "extractive evidence" in r.md


# ---------------------------------------------------------------- a waiting worker blocks no other


def test_429_wait_does_not_stall_other_workers(tmp_path: Path) -> None:
    paths = write_lee(tmp_path / "lee", 8)
    slow_first = lee_corpus()[0][:40]
    hit: list[float] = []

    def respond(request: dict[str, Any]) -> Reply:
        sents = parse_sentences(request)
        if sents and sents[0][1].startswith(slow_first) and not hit:
            hit.append(time.monotonic())
            return Fault("status", status=429, retry_after=1.5)
        return well_behaved(request)

    r = run(tmp_path, respond, inputs=paths, concurrency=4)
    assert r.code == 0
    assert len(r.requests) == 9  # 8 articles + the one retry
    first = [p for p in r.requests if parse_sentences(p)[0][1].startswith(slow_first)]
    assert len(first) == 2
    slow_times = [
        t for t, p in zip(r.times, r.requests, strict=True) if parse_sentences(p)[0][1].startswith(slow_first)
    ]
    assert slow_times[1] - slow_times[0] >= 1.4  # Retry-After honoured for that article
    others = [
        t for t, p in zip(r.times, r.requests, strict=True) if not parse_sentences(p)[0][1].startswith(slow_first)
    ]
    assert len(others) == 7
    # While it waited, the other 3 workers got through all 7 other articles.
    assert max(others) < slow_times[1]
    assert r.seconds < 1.5 + 5
    assert all(res["status"] == "verified" for res in r.brief["results"])


# ---------------------------------------------------------------- 1 call in 3 fails, 30 articles


STORY_CALLS = ("narrative", "digest")


@dataclass
class MixedRun:
    run: Run
    faults: list[tuple[str, str]]  # (fault name, article id, "narrative" or "digest")
    ids: dict[str, str]  # article path -> id


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MixedRun]:
    tmp = tmp_path_factory.mktemp("mixed")
    paths = write_lee(tmp / "lee", 30)
    first_sentence = {}
    from summarizer.load import load_inputs
    from summarizer.segment import segment

    for doc in (segment(a) for a in load_inputs([str(p) for p in paths]).articles):
        first_sentence[doc.sentences[0].text] = doc.article.path
    injected: list[tuple[str, str]] = []

    def on_fault(name: str, request: dict[str, Any]) -> None:
        sents = parse_sentences(request)
        # The digest may go out alongside the narratives: which of them a fault hits is not fixed.
        story = "digest" if is_digest(request) else "narrative"
        injected.append((name, first_sentence[sents[0][1]] if sents else story))

    with pytest.MonkeyPatch.context() as mp:
        set_bounds(mp, **FAST)
        # One call at a time: which article gets which fault is fixed by the input order (at 4 at a time it
        # varied with timing, and one article's verbatim copy with bad ids is re-asked, not re-anchored).
        r = run(tmp, mixed_faults(every=3, on_fault=on_fault), inputs=paths, narrative=True, concurrency=1)
    ids = {res["article"]["path"]: res["article"]["id"] for res in r.brief["results"]}
    yield MixedRun(r, [(n, ids.get(p, p)) for n, p in injected], ids)


def test_mixed_faults_lose_nothing(mixed: MixedRun) -> None:
    r = mixed.run
    assert r.code == 0  # every transport fault was retried successfully
    assert len(r.brief["articles"]) == 30 and len(r.brief["results"]) == 30
    assert {res["article"]["path"] for res in r.brief["results"]} == set(mixed.ids)
    for res in r.brief["results"]:
        assert res["status"] in ("verified", "partial", "extractive")
        assert res["facts"], res["article"]["id"]
    # Every article is in some story.
    in_stories = {a for s in r.brief["stories"] for a in s["articles"]}
    assert in_stories == set(mixed.ids.values())
    # About 1 in 3 calls failed, in every one of the 9 ways.
    assert {n for n, _ in mixed.faults} == set(MIXED_FAULT_NAMES)
    assert len(mixed.faults) == len(r.requests) // 3
    # Bounded: each fault costs at most one more request (a retry or a re-ask).
    assert len(r.requests) <= 30 + len(r.brief["stories"]) + len(mixed.faults)
    assert r.seconds < 60


def test_mixed_faults_transport_and_truncation_are_marked(mixed: MixedRun) -> None:
    r = mixed.run
    by_id = {res["article"]["id"]: res for res in r.brief["results"]}
    marks = {"429": "HTTP 429", "500": "HTTP 500", "503": "HTTP 503", "reset": "connection error"}
    transport = 0
    for name, aid in mixed.faults:
        if name in marks:
            transport += 1
            if aid not in STORY_CALLS:
                assert marks[name] in events(by_id[aid]), (name, aid, by_id[aid]["events"])
        elif name == "truncated" and aid not in STORY_CALLS:
            res = by_id[aid]
            reasons = [x for rej in res["rejected"] for x in rej["reasons"]]
            assert any("truncated" in x for x in reasons), (aid, reasons)
        elif name == "truncated":
            stage = "digest" if aid == "digest" else "merge"
            assert any(rej["stage"] == stage and "truncated" in " ".join(rej["reasons"]) for rej in r.brief["rejected"])
    # Every transport fault, narratives' too, is in calls.jsonl with its error.
    assert sum(1 for c in r.calls if c["error"]) == transport


def test_mixed_faults_reasks_are_marked(mixed: MixedRun) -> None:
    by_id = {res["article"]["id"]: res for res in mixed.run.brief["results"]}
    # The mixed endpoint's bad ids are verbatim copies: re-anchored at once, no re-ask needed.
    for name, aid in mixed.faults:
        if name == "bad_ids" and aid not in STORY_CALLS:
            assert any("re-anchored" in e for e in by_id[aid]["events"]), (aid, by_id[aid]["events"])
    parse_faults = [(n, aid) for n, aid in mixed.faults if n in REASKED and n != "bad_ids" and aid not in STORY_CALLS]
    assert parse_faults
    for name, aid in parse_faults:
        res = by_id[aid]
        assert res["rejected"], (name, aid)
        marked = [e for e in res["events"] if "re-asked" in e or "failed validation" in e]
        assert marked, (name, aid, res["events"])
