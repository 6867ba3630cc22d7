"""The embedded engine for real: llama-cpp-python's server with the bundled gemma3 270M GGUF.

These start the actual server (no mock). They need the [local] extra, which the README's test
command installs.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

pytest.importorskip("llama_cpp", reason="needs the [local] extra (llama-cpp-python)")
pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def server_url():  # type: ignore[no-untyped-def]
    from summarizer.engine import default_gguf, embedded_server

    with embedded_server(default_gguf(), n_ctx=4096) as url:
        yield url


def test_server_command_threads_and_no_per_token_logits() -> None:
    import os
    from pathlib import Path

    from summarizer.engine import cores, server_command

    cmd = server_command(Path("m.gguf"), 8123)
    opts = dict(zip(cmd[3::2], cmd[4::2], strict=True))  # after: python -m llama_cpp.server
    n = len(os.sched_getaffinity(0))
    assert cores() == n
    assert opts["--n_threads_batch"] == str(n)  # prompt batches: every core
    assert opts["--n_threads"] == str(max(1, n // 2))  # one token at a time: half, at least one
    assert opts["--logits_all"] == "false"  # the server's default keeps n_ctx × 262,144 logits per prompt
    assert opts["--chat_format"] == "gemma" and opts["--host"] == "127.0.0.1" and opts["--port"] == "8123"
    assert server_command(Path("m.gguf"), 1, threads=1)[cmd.index("--n_threads") + 1] == "1"


def _post(url: str, body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
    req = urllib.request.Request(
        url + "/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def test_server_takes_json_object_with_schema_and_rejects_json_schema(server_url: str) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    msgs = [{"role": "user", "content": "Give the number 307 as JSON."}]
    status, data = _post(
        server_url, {"messages": msgs, "max_tokens": 20, "response_format": {"type": "json_object", "schema": schema}}
    )
    assert status == 200
    parsed = json.loads(data["choices"][0]["message"]["content"])  # grammar-constrained: always JSON
    assert isinstance(parsed["n"], int)
    status, _ = _post(
        server_url,
        {
            "messages": msgs,
            "max_tokens": 20,
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        },
    )
    assert status >= 400  # why the embedded endpoint uses mode llama_json


def test_structured_extraction_through_the_real_engine(server_url: str, seed_docs) -> None:  # type: ignore[no-untyped-def]
    from summarizer.extract import extract
    from summarizer.llm import LLM, embedded_endpoint
    from summarizer.models import Document
    from summarizer.templates import Prompts
    from summarizer.verify import verify_extraction

    doc = seed_docs[0]
    short = Document(article=doc.article, sentences=doc.sentences[:6])

    async def go():  # type: ignore[no-untyped-def]
        llm = LLM(embedded_endpoint(server_url, "gemma-3-270m"))
        try:
            return await extract(short, llm, Prompts(), max_reasks=0)
        finally:
            await llm.close()

    got = asyncio.run(go())
    assert not got.transport_failed
    assert got.usage.calls == 1 and got.usage.completion_tokens > 0
    result = verify_extraction(got.extraction, short, rejected=got.rejected)
    # Whatever the weak model wrote, what survives is verified or extractive, and cites real sentences.
    assert result.facts
    for f in result.facts:
        for c in f.citations:
            assert doc.article.text[c.start : c.end] == c.quote


def _server_children(parent: int) -> list[int]:
    """Pids of llama.cpp server processes started by ``parent``."""
    import pathlib

    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "llama_cpp.server" in cmd:
            found.append(int(proc.name))
    return found


def _running(pid: int) -> bool:
    import pathlib

    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_the_embedded_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import AP

    cmd = [sys.executable, "-m", "summarizer.cli", "brief", str(AP), "--no-cache", "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        children: list[int] = []
        while not children and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            children = _server_children(proc.pid)
        assert children, "the embedded server never started"
        time.sleep(3)  # let it load the model and take the request
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    alive = [p for p in children if _running(p)]
    for pid in alive:  # never leave a server behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert b"engine: embedded llama.cpp" in err  # the one line naming engine and model
    assert alive == [], "the embedded server outlived Ctrl-C"
