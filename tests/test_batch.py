"""The Batch API path against a scripted local endpoint, driven by the real openai client.

``Scripted`` implements the four routes the path uses (upload, download, create batch, retrieve batch).
A batch stays ``in_progress`` until the test calls ``finish``, which answers every input line with a canned
chat completion derived from its custom_id, except ids the test scripted to fail.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest

from summarizer.batch import (
    MAX_BYTES,
    MAX_REQUESTS,
    BatchError,
    BatchNotReady,
    batch_files,
    build_batch_lines,
    collect,
    collect_all,
    completion_text,
    describe,
    is_error,
    latest_run,
    load_state,
    save_state,
    status,
    submit,
    submit_all,
    usage_of,
)
from summarizer.cache import cache_key
from summarizer.cost import estimate_cost

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))
MODEL = "gpt-4o-mini"

# ------------------------------------------------------------------ the scripted endpoint


def canned_content(custom_id: str) -> str:
    return json.dumps({"headline": f"Headline for {custom_id}", "summary": "s", "facts": []})


@dataclass
class Scripted:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_in_output: set[str] = field(default_factory=set)  # answered with HTTP 400 inside the output file
    fail_in_error_file: set[str] = field(default_factory=set)  # listed in the error file
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{len(self.files) + len(self.batches) + 1:04d}"

    def add_file(self, data: bytes, purpose: str, filename: str) -> dict[str, Any]:
        fid = self.new_id("file")
        obj = {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[fid] = {**obj, "data": data}
        return obj

    def create_batch(self, req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        fid = req.get("input_file_id")
        if fid not in self.files or self.files[fid]["purpose"] != "batch":
            return 400, {"error": {"message": "input_file_id must be a file uploaded with purpose=batch"}}
        if req.get("endpoint") != "/v1/chat/completions" or req.get("completion_window") != "24h":
            return 400, {"error": {"message": "bad endpoint or completion_window"}}
        bid = self.new_id("batch")
        lines = self.files[fid]["data"].decode().splitlines()
        bad = [
            n
            for n, raw in enumerate(lines, 1)
            if (j := json.loads(raw)).get("method") != "POST" or j.get("url") != req["endpoint"]
        ]
        batch: dict[str, Any] = {
            "id": bid,
            "object": "batch",
            "endpoint": req["endpoint"],
            "input_file_id": fid,
            "completion_window": "24h",
            "created_at": int(time.time()),
            "status": "in_progress",
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": req.get("metadata"),
        }
        if bad:
            batch["status"] = "failed"
            batch["errors"] = {
                "object": "list",
                "data": [
                    {"code": "invalid_url", "line": n, "message": f"line {n}: url must match endpoint"} for n in bad
                ],
            }
        self.batches[bid] = batch
        return 200, batch

    def finish(self, batch_id: str) -> None:
        """Complete the batch: answer each line from its custom_id, as the scripted failures say."""
        batch = self.batches[batch_id]
        out: list[str] = []
        err: list[str] = []
        for n, raw in enumerate(self.files[batch["input_file_id"]]["data"].decode().splitlines()):
            line = json.loads(raw)
            cid = line["custom_id"]
            if cid in self.fail_in_error_file:
                err.append(
                    json.dumps(
                        {
                            "id": f"req-{n}",
                            "custom_id": cid,
                            "response": None,
                            "error": {"code": "batch_expired", "message": "not completed in time"},
                        }
                    )
                )
                continue
            if cid in self.fail_in_output:
                body: dict[str, Any] = {
                    "error": {"message": "context_length_exceeded", "type": "invalid_request_error"}
                }
                out.append(
                    json.dumps(
                        {
                            "id": f"req-{n}",
                            "custom_id": cid,
                            "error": None,
                            "response": {"status_code": 400, "request_id": f"r{n}", "body": body},
                        }
                    )
                )
                continue
            content = canned_content(cid)
            prompt_chars = sum(len(m["content"]) for m in line["body"]["messages"])
            body = {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": line["body"]["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_chars // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": prompt_chars // 4 + len(content) // 4,
                },
            }
            out.append(
                json.dumps(
                    {
                        "id": f"req-{n}",
                        "custom_id": cid,
                        "error": None,
                        "response": {"status_code": 200, "request_id": f"r{n}", "body": body},
                    }
                )
            )
        if out:
            batch["output_file_id"] = self.add_file(("\n".join(out) + "\n").encode(), "batch_output", "out.jsonl")["id"]
        if err:
            batch["error_file_id"] = self.add_file(("\n".join(err) + "\n").encode(), "batch_output", "err.jsonl")["id"]
        failed = len(err) + len(self.fail_in_output & {json.loads(x)["custom_id"] for x in out})
        batch["request_counts"] = {
            "total": len(out) + len(err),
            "completed": len(out) + len(err) - failed,
            "failed": failed,
        }
        batch["status"] = "completed"
        batch["completed_at"] = int(time.time())


def make_handler(script: Scripted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, code: int, payload: dict[str, Any] | bytes) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(code)
            self.send_header(
                "Content-Type",
                "application/octet-stream" if isinstance(payload, bytes) else "application/json",
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != "Bearer sk-scripted":
                self._send(401, {"error": {"message": "bad key"}})
                return False
            return True

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_POST(self) -> None:
            with script.lock:
                script.log.append(f"POST {self.path}")
                if not self._authorised():
                    return
                if self.path == "/v1/files":
                    ctype = self.headers["Content-Type"]
                    msg = email.message_from_bytes(
                        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self._body(),
                        policy=email.policy.HTTP,
                    )
                    fields: dict[str, tuple[str | None, bytes]] = {}
                    for part in msg.walk():
                        name = part.get_param("name", header="content-disposition")
                        payload = part.get_payload(decode=True)
                        if isinstance(name, str) and isinstance(payload, bytes):
                            fields[name] = (part.get_filename(), payload)
                    if "file" not in fields or "purpose" not in fields:
                        self._send(400, {"error": {"message": "multipart needs file and purpose"}})
                        return
                    filename, data = fields["file"]
                    self._send(200, script.add_file(data, fields["purpose"][1].decode(), filename or "upload"))
                elif self.path == "/v1/batches":
                    code, payload = script.create_batch(json.loads(self._body()))
                    self._send(code, payload)
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_GET(self) -> None:
            with script.lock:
                script.log.append(f"GET {self.path}")
                if not self._authorised():
                    return
                if m := re.fullmatch(r"/v1/files/([\w-]+)/content", self.path):
                    f = script.files.get(m[1])
                    self._send(200, f["data"]) if f else self._send(404, {"error": {"message": "no file"}})
                elif m := re.fullmatch(r"/v1/batches/([\w-]+)", self.path):
                    b = script.batches.get(m[1])
                    self._send(200, b) if b else self._send(404, {"error": {"message": "no batch"}})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

    return Handler


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, openai.OpenAI]]:
    script = Scripted()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = openai.OpenAI(
        api_key="sk-scripted",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        max_retries=0,
        timeout=10,
    )
    try:
        yield script, client
    finally:
        client.close()
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ helpers


def article_requests() -> list[tuple[str, dict[str, Any]]]:
    """One chat request per real seed article plus one AP paragraph, keyed by its cache key."""
    texts = [p.read_text(encoding="utf-8") for p in EXAMPLES]
    texts.append(texts[0].split("\n\n")[3])  # the AP paragraph with 307 / 390 / 1,000
    reqs = []
    for text in texts:
        sha = hashlib.sha256(text.encode()).hexdigest()
        key = cache_key(article_sha256=sha, model=MODEL, prompt_template="Summarise:\n{{ text }}", schema={})
        body = {
            "model": MODEL,
            "messages": [{"role": "system", "content": "Return JSON."}, {"role": "user", "content": text}],
            "temperature": 0,
            "response_format": {"type": "json_object"},
        }
        reqs.append((key, body))
    return reqs


# ------------------------------------------------------------------ pure pieces


def test_build_batch_lines_shape_and_order() -> None:
    reqs = article_requests()
    text = build_batch_lines(reqs)
    assert text.endswith("\n")
    lines = [json.loads(x) for x in text.splitlines()]
    assert [x["custom_id"] for x in lines] == [k for k, _ in reqs]
    for (_, body), line in zip(reqs, lines, strict=True):
        assert set(line) == {"custom_id", "method", "url", "body"}
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        assert line["body"] == body
    # Non-ASCII text (curly quotes in the seeds) survives unescaped and intact.
    assert "Russia’s Defense Ministry" in text


def test_build_batch_lines_rejects_what_the_api_would() -> None:
    (k1, b1), (k2, b2), _ = article_requests()
    with pytest.raises(ValueError, match="duplicate"):
        build_batch_lines([(k1, b1), (k1, b2)])
    with pytest.raises(ValueError, match="one model"):
        build_batch_lines([(k1, b1), (k2, {**b2, "model": "gpt-4o"})])
    with pytest.raises(ValueError, match="empty"):
        build_batch_lines([("", b1)])
    with pytest.raises(ValueError, match="messages"):
        build_batch_lines([(k1, {"model": MODEL})])
    with pytest.raises(ValueError):
        build_batch_lines([])


def test_state_file_roundtrip_and_merge(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "batches.json"
    assert load_state(path) == {}
    save_state(path, "batch-1", {"k1": {"path": "examples/ap.txt", "sha256": "aa"}})
    save_state(path, "batch-2", {"k2": {"path": "examples/bbc.txt", "sha256": "bb"}})
    save_state(path, "batch-1", {"k3": {"path": "x.txt", "sha256": "cc"}})  # replaces batch-1 only
    assert load_state(path) == {
        "batch-1": {"k3": {"path": "x.txt", "sha256": "cc"}},
        "batch-2": {"k2": {"path": "examples/bbc.txt", "sha256": "bb"}},
    }
    assert not list(path.parent.glob(".batches-*"))  # no temp files left behind
    path.write_text("{ damaged")
    with pytest.raises(BatchError, match="damaged"):
        load_state(path)
    save_state(path, "batch-3", {"k4": "y"})  # recording a new batch still works
    assert load_state(path) == {"batch-3": {"k4": "y"}}


# ------------------------------------------------------------------ against the scripted endpoint


def test_submit_status_collect_roundtrip(scripted: tuple[Scripted, openai.OpenAI], tmp_path: Path) -> None:
    script, client = scripted
    reqs = article_requests()
    ok_id, bad_output_id, bad_error_id = (k for k, _ in reqs)
    script.fail_in_output = {bad_output_id}
    script.fail_in_error_file = {bad_error_id}

    jsonl = build_batch_lines(reqs)
    batch_id = submit(client, jsonl)
    state = tmp_path / "batches.json"
    save_state(
        state,
        batch_id,
        {k: {"path": str(p)} for (k, _), p in zip(reqs, [*EXAMPLES, EXAMPLES[0]], strict=True)},
    )

    # The upload is byte-for-byte what we built, with the purpose the Batch API requires.
    uploaded = script.files[script.batches[batch_id]["input_file_id"]]
    assert uploaded["purpose"] == "batch" and uploaded["data"].decode() == jsonl
    assert script.log[:2] == ["POST /v1/files", "POST /v1/batches"]

    info = status(client, batch_id)
    assert info["status"] == "in_progress" and info["request_counts"]["total"] == 3
    assert "in_progress" in describe(info)
    with pytest.raises(BatchNotReady):
        collect(client, batch_id)

    script.finish(batch_id)
    info = status(client, batch_id)
    assert info["status"] == "completed" and info["request_counts"] == {
        "total": 3,
        "completed": 1,
        "failed": 2,
    }
    assert describe(info).endswith("1/3 completed, 2 failed")

    results = collect(client, batch_id)
    assert set(results) == {ok_id, bad_output_id, bad_error_id}
    assert set(results) == set(load_state(state)[batch_id])  # collect can be matched back via the state file

    ok = results[ok_id]
    assert not is_error(ok)
    assert json.loads(completion_text(ok) or "")["headline"] == f"Headline for {ok_id}"
    usage = usage_of(ok, cost_usd=0.0)
    assert usage.prompt_tokens > 500 and usage.completion_tokens > 0  # a whole article went in

    assert is_error(results[bad_output_id]) and results[bad_output_id]["status_code"] == 400
    assert results[bad_output_id]["error"]["message"] == "context_length_exceeded"
    assert completion_text(results[bad_output_id]) is None
    assert is_error(results[bad_error_id]) and results[bad_error_id]["error"]["code"] == "batch_expired"

    # Batch pricing is half the synchronous price for the same tokens.
    sync = estimate_cost(MODEL, usage.prompt_tokens, usage.completion_tokens)
    assert estimate_cost(MODEL, usage.prompt_tokens, usage.completion_tokens, batch=True) == pytest.approx(sync / 2)


def test_collect_all_succeed_preserves_every_custom_id(scripted: tuple[Scripted, openai.OpenAI]) -> None:
    script, client = scripted
    reqs = [
        (f"{i:064x}", {"model": MODEL, "messages": [{"role": "user", "content": f"article {i}"}]}) for i in range(25)
    ]
    batch_id = submit(client, build_batch_lines(reqs), metadata={"run": "test"})
    assert script.batches[batch_id]["metadata"] == {"run": "test"}
    script.finish(batch_id)
    results = collect(client, batch_id)
    assert len(results) == 25
    for cid, _ in reqs:
        assert json.loads(completion_text(results[cid]) or "")["headline"] == f"Headline for {cid}"
    assert "error_file_id" not in status(client, batch_id)


def test_batch_that_fails_validation_is_an_error(scripted: tuple[Scripted, openai.OpenAI]) -> None:
    _, client = scripted
    good = json.loads(build_batch_lines(article_requests()[:1]))
    bad = json.dumps({**good, "custom_id": "x", "url": "/v1/embeddings"})
    batch_id = submit(client, json.dumps(good) + "\n" + bad + "\n")
    assert status(client, batch_id)["status"] == "failed"
    with pytest.raises(BatchError, match="line 2: url must match endpoint"):
        collect(client, batch_id)


def test_unknown_batch_surfaces_the_api_error(scripted: tuple[Scripted, openai.OpenAI]) -> None:
    _, client = scripted
    with pytest.raises(openai.NotFoundError):
        status(client, "batch-nope")


# ------------------------------------------------------------------ one run, several batch files


def many_requests(n: int) -> list[tuple[str, dict[str, Any]]]:
    """``n`` requests built from real seed text, each distinct (its index leads the user message)."""
    text = EXAMPLES[0].read_text(encoding="utf-8")
    return [
        (f"{i:064x}", {"model": MODEL, "messages": [{"role": "user", "content": f"[{i}] {text}"}]}) for i in range(n)
    ]


def test_the_limits_are_the_batch_apis() -> None:
    assert (MAX_REQUESTS, MAX_BYTES) == (50_000, 200 * 1024 * 1024)


def test_batch_files_split_by_request_count_in_order() -> None:
    reqs = many_requests(25)
    files = list(batch_files(reqs, max_requests=10))
    assert [len(f.custom_ids) for f in files] == [10, 10, 5]
    assert [cid for f in files for cid in f.custom_ids] == [k for k, _ in reqs]  # order kept, none lost
    for f in files:
        lines = [json.loads(x) for x in f.text.splitlines()]
        assert [x["custom_id"] for x in lines] == f.custom_ids and f.text.endswith("\n")
    # The single-file form is the same text when it fits.
    assert "".join(f.text for f in batch_files(reqs)) == build_batch_lines(reqs)


def test_batch_files_split_by_bytes_and_refuse_an_oversized_request() -> None:
    reqs = many_requests(12)
    one = len(build_batch_lines(reqs[:1]).encode())
    limit = 3 * one + one // 2  # room for three requests per file, not four
    files = list(batch_files(reqs, max_bytes=limit))
    assert [len(f.custom_ids) for f in files] == [3, 3, 3, 3]
    assert all(len(f.text.encode()) <= limit for f in files)
    with pytest.raises(ValueError, match="over the"):
        list(batch_files(reqs, max_bytes=one // 2))
    # Checks run before any file is made: a duplicate at the end stops the run before anything is sent.
    with pytest.raises(ValueError, match="duplicate"):
        next(batch_files([*reqs, reqs[0]], max_requests=2))


def test_build_batch_lines_refuses_more_than_one_file() -> None:
    reqs = [(f"{i:x}", {"model": MODEL, "messages": []}) for i in range(MAX_REQUESTS + 1)]
    with pytest.raises(ValueError, match="at most 50000"):
        build_batch_lines(reqs)


def test_submit_all_splits_records_every_batch_and_collects_them_all(
    scripted: tuple[Scripted, openai.OpenAI], tmp_path: Path
) -> None:
    script, client = scripted
    state = tmp_path / "batches.json"
    save_state(state, "batch-older", {"old": {"path": "x"}})  # an earlier run stays recorded, apart
    reqs = many_requests(25)
    items = {cid: {"path": f"a{i}.txt"} for i, (cid, _) in enumerate(reqs)}
    script.fail_in_output = {reqs[3][0]}
    ids = submit_all(client, reqs, state=state, items=items, max_requests=10)
    assert len(ids) == 3 and list(script.batches) == ids
    # Each uploaded file holds its share; each batch is tagged with the run and its part.
    counts = [len(script.files[script.batches[b]["input_file_id"]]["data"].decode().splitlines()) for b in ids]
    assert counts == [10, 10, 5]
    runs = {script.batches[b]["metadata"]["run"] for b in ids}
    assert len(runs) == 1 and [script.batches[b]["metadata"]["part"] for b in ids] == ["1", "2", "3"]
    # The state file records every batch id of the run, and their items together.
    recorded, merged = latest_run(state)
    assert recorded == ids and merged == items
    assert set(load_state(state)) == {"batch-older", *ids}

    script.finish(ids[0])
    script.finish(ids[2])
    with pytest.raises(BatchNotReady, match=f"1 of 3 .*{ids[1]} is in_progress"):
        collect_all(client, ids)
    script.finish(ids[1])
    results = collect_all(client, ids)
    assert set(results) == set(items)  # every article of every batch
    assert is_error(results[reqs[3][0]])
    assert json.loads(completion_text(results[reqs[24][0]]) or "")["headline"] == f"Headline for {reqs[24][0]}"


def test_latest_run_of_an_older_state_file_is_its_last_batch(tmp_path: Path) -> None:
    state = tmp_path / "batches.json"
    with pytest.raises(FileNotFoundError):
        latest_run(state)
    save_state(state, "batch-1", {"k1": 1})
    save_state(state, "batch-2", {"k2": 2})
    assert latest_run(state) == (["batch-2"], {"k2": 2})


def test_cli_submit_splits_a_run_and_collect_gathers_every_batch(
    scripted: tuple[Scripted, openai.OpenAI], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import summarizer.batch
    from summarizer.batchrun import batch_collect, batch_status, batch_submit

    script, client = scripted
    url = str(client.base_url).rstrip("/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setattr(summarizer.batch, "MAX_REQUESTS", 2)  # 3 articles → 2 batch files
    paths = [*EXAMPLES, tmp_path / "para.txt"]
    paths[-1].write_text(EXAMPLES[0].read_text(encoding="utf-8").split("\n\n")[3] + "\n", encoding="utf-8")
    state = tmp_path / "state.json"
    assert batch_submit(list(map(str, paths)), state=state, model=MODEL, base_url=url, prompts_dir=None) == 0
    ids, items = latest_run(state)
    assert len(ids) == 2 and list(script.batches) == ids and len(items) == 3
    script.finish(ids[0])
    assert batch_collect(state=state, out=tmp_path / "out", base_url=url, prompts_dir=None) == 1  # one still running
    assert not (tmp_path / "out" / "brief.json").exists()
    script.finish(ids[1])
    assert batch_status(state=state, base_url=url) == 0
    assert batch_collect(state=state, out=tmp_path / "out", base_url=url, prompts_dir=None) == 0
    brief = json.loads((tmp_path / "out" / "brief.json").read_text(encoding="utf-8"))
    assert sorted(r["article"]["path"] for r in brief["results"]) == sorted(map(str, paths))
    assert all(any(e.startswith("collected from batch ") for e in r["events"]) for r in brief["results"])
    assert brief["usage"]["calls"] == 3  # every answer of both batches was read


def test_collect_holds_one_document_at_a_time(
    scripted: tuple[Scripted, openai.OpenAI], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`batch collect` of a 100,000-article day must not hold every segmentation (it did: all up front)."""
    import weakref

    import summarizer.segment as segmentation
    from summarizer.batchrun import batch_collect, batch_submit
    from summarizer.models import Article, Document

    script, client = scripted
    url = str(client.base_url).rstrip("/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    paths = []
    for i in range(4):
        p = tmp_path / f"a{i}.txt"
        p.write_text(EXAMPLES[i % 2].read_text(encoding="utf-8").replace("\n", f" ({i})\n", 1), encoding="utf-8")
        paths.append(str(p))
    state = tmp_path / "state.json"
    assert batch_submit(paths, state=state, model=MODEL, base_url=url, prompts_dir=None) == 0
    for batch_id in list(script.batches):
        script.finish(batch_id)
    made: list[weakref.ref[Document]] = []
    most_alive = 0
    real = segmentation.segment

    def tracked(article: Article) -> Document:
        nonlocal most_alive
        most_alive = max(most_alive, sum(r() is not None for r in made))  # before this one is made
        doc = real(article)
        made.append(weakref.ref(doc))
        return doc

    monkeypatch.setattr(segmentation, "segment", tracked)
    assert batch_collect(state=state, out=tmp_path / "out", base_url=url, prompts_dir=None) == 0
    assert len(made) == 4
    assert most_alive <= 1  # the one before is let go as the next is segmented
    brief = json.loads((tmp_path / "out" / "brief.json").read_text(encoding="utf-8"))
    assert sorted(r["article"]["path"] for r in brief["results"]) == sorted(paths)
    assert all(r["facts"] for r in brief["results"])
