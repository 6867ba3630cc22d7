"""The client path (summarizer/llm.py) against a SCRIPTED endpoint: what is sent is exactly what we built."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from scripted_endpoint import ScriptedEndpoint, _completion, parse_sentences, well_behaved

from summarizer.llm import LLM, Endpoint, env_proxy
from summarizer.run import BriefRequest, run_brief

TEMPLATE_LIKE = (
    "Officials said {{ document }} was a typo in 12 reports.\n\n"
    "The {% if %} block appeared 3 times, and {# a comment #} once.\n"
)


def test_article_text_that_looks_like_a_template_is_sent_unchanged(tmp_path: Path) -> None:
    """instructor renders messages as Jinja templates when given a context; ours never reaches it."""
    article = tmp_path / "jinja.txt"
    article.write_text(TEMPLATE_LIKE, encoding="utf-8")
    with ScriptedEndpoint(well_behaved) as ep:
        code = run_brief(
            BriefRequest(inputs=[str(article)], out=tmp_path / "o", base_url=ep.base_url, model="scripted", quiet=True)
        )
    assert code == 0
    sent = " ".join(text for _, text in parse_sentences(ep.requests[0]))
    assert "{{ document }}" in sent and "{% if %}" in sent and "{# a comment #}" in sent
    brief = json.loads((tmp_path / "o" / "brief.json").read_text(encoding="utf-8"))
    assert brief["results"][0]["status"] == "verified"
    assert any("{{ document }}" in f["text"] for f in brief["results"][0]["facts"])


def _extraction_messages(fold: bool) -> tuple[list[dict[str, str]], type]:
    from summarizer.extract import CheckedExtraction, build_prompt
    from summarizer.llm import LLM, Endpoint
    from summarizer.models import Article
    from summarizer.segment import segment
    from summarizer.templates import Prompts

    text = "Rain fell.\n\nThe council said 307 homes were flooded on Monday. Repairs will take 3 weeks.\n"
    doc = segment(Article(id="a", path="a.txt", title="Rain", text=text, sha256="0" * 64, body_start=text.index("The")))
    system, user = build_prompt(doc, Prompts())
    llm = LLM(Endpoint(base_url="http://unused/v1", model="m", fold_system=fold))
    return llm.messages(system, user), CheckedExtraction


# (mode instructor is driven in, the extra body a form adds): every form the providers use.
FORMS = [("json", {}), ("json_schema", {}), ("tools", {}), ("json", {"response_format": {"type": "json_object"}})]


@pytest.mark.parametrize("fold", [False, True])
@pytest.mark.parametrize(("mode_name", "extra"), FORMS)
def test_requests_are_what_instructor_and_the_sdk_would_send(fold: bool, mode_name: str, extra: dict) -> None:
    """llm.py builds requests itself (instructor and the SDK cost several ms of CPU per call): the bodies are
    the ones instructor + the openai SDK send, first asks and re-asks alike, so cassettes still replay."""
    import asyncio

    import instructor
    import openai

    from summarizer.llm import LLM, Endpoint, _instructor_model, default_reask, schema_of

    first, model = _extraction_messages(fold)
    if extra:  # json_object_schema: the schema rides in response_format, as providers.structured_request puts it
        extra = {"response_format": {"type": "json_object", "schema": schema_of(model)}}
    reask = [*first, {"role": "assistant", "content": "not json"}, {"role": "user", "content": default_reask(["x"])}]
    kwargs: dict = {"model": "scripted", "max_tokens": 640, "temperature": 0.5}
    if extra:
        kwargs["extra_body"] = extra
    asked = _instructor_model(model)

    async def ours(url: str) -> None:
        llm = LLM(Endpoint(base_url=url, model="scripted"))
        for messages in (first, reask):
            await llm._attempt(messages, dict(kwargs), mode_name, asked)
        await llm.close()

    async def theirs(url: str) -> None:
        modes = {"tools": instructor.Mode.TOOLS, "json": instructor.Mode.JSON}
        mode = modes.get(mode_name, instructor.Mode.JSON_SCHEMA)
        client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
        patched = instructor.patch(create=client.chat.completions.create, mode=mode)
        for messages in (first, reask):
            await patched(messages=[dict(m) for m in messages], response_model=asked, max_retries=0, **kwargs)
        await client.close()

    sent = []
    for go in (ours, theirs):
        with ScriptedEndpoint(well_behaved) as ep:
            asyncio.run(go(ep.base_url))
            sent.append(list(ep.requests))
    assert len(sent[0]) == 2
    assert sent[0] == sent[1]


# ---------------------------------------------------------------- the HTTP client's environment


class _AnyAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _ask(llm: LLM) -> Any:
    return llm.structured(
        label="probe",
        system="Extract facts.",
        user="Sentences:\n[1] The council approved 12 new homes.\n",
        response_model=_AnyAnswer,
        max_reasks=0,
    )


def test_a_call_takes_no_executor_thread() -> None:
    """Each request goes out from the event loop alone. aiohttp's trust_env looked the proxy and a netrc
    entry up in executor threads for every request: two thread hops a call, and 4-15 turns of the loop
    before its request was written (measured at N = 32)."""
    submitted: list[Any] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    with ScriptedEndpoint(well_behaved) as ep:
        llm = LLM(Endpoint(base_url=ep.base_url, model="scripted", forms=("json",)))

        async def go() -> list[Any]:
            asyncio.get_running_loop().set_default_executor(Counting(max_workers=1))
            try:
                return [await _ask(llm) for _ in range(3)]
            finally:
                await llm.close()

        got = asyncio.run(go())
    assert all(g.value is not None for g in got) and len(ep.requests) == 3
    assert submitted == []


class _ScriptedProxy(BaseHTTPRequestHandler):
    """A loopback HTTP proxy (SCRIPTED): records each request target and answers as a provider would."""

    targets: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        type(self).targets.append(self.path)
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps(_completion(request, {"facts": []}, "stop")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_the_proxy_the_environment_names_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY and NO_PROXY hold as for the SDK's httpx client, looked up once per session."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _ScriptedProxy.targets = []
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
        # llm.invalid cannot resolve: the call answers only by way of the proxy.
        llm = LLM(Endpoint(base_url="http://llm.invalid/v1", model="scripted", forms=("json",)))

        async def go() -> list[Any]:
            try:
                return [await _ask(llm) for _ in range(2)]
            finally:
                await llm.close()

        got = asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert all(g.value is not None for g in got), [g.error for g in got]
    assert _ScriptedProxy.targets == ["http://llm.invalid/v1/chat/completions"] * 2
    assert env_proxy("http://llm.invalid/v1").url is not None
    for loopback in ("http://127.0.0.1:8080/v1", "http://localhost:8080/v1", "http://[::1]:8080/v1"):
        assert env_proxy(loopback).url is None  # the embedded engine is never reached through a proxy
    monkeypatch.setenv("NO_PROXY", "llm.invalid")
    assert env_proxy("http://llm.invalid/v1").url is None
    assert env_proxy("http://other.invalid/v1").url is not None


def test_story_writing_takes_the_next_free_slot_before_the_waiting_articles() -> None:
    """llm.Slots: a call asked with priority (a narrative, the digest) is handed the next free slot before
    the calls already waiting; a waiter cancelled after it was handed one passes it on, none is lost."""
    import asyncio

    from summarizer.llm import Slots

    async def go() -> list[str]:
        slots = Slots(1)
        order: list[str] = []
        await slots.acquire()  # the one slot is out

        async def call(name: str, *, first: bool = False) -> None:
            await slots.acquire(first=first)
            order.append(name)
            await asyncio.sleep(0)
            slots.release()

        a1 = asyncio.ensure_future(call("article 1"))
        a2 = asyncio.ensure_future(call("article 2"))
        await asyncio.sleep(0)
        story = asyncio.ensure_future(call("narrative", first=True))
        await asyncio.sleep(0)
        assert slots.locked() and order == []
        slots.release()
        await asyncio.gather(a1, a2, story)
        assert order == ["narrative", "article 1", "article 2"]

        # Handed a slot and cancelled before it ran: the slot goes to the next waiter, and back to free.
        await slots.acquire()
        gone = asyncio.ensure_future(slots.acquire())
        after = asyncio.ensure_future(call("after"))
        await asyncio.sleep(0)
        slots.release()  # handed to `gone`
        gone.cancel()
        await asyncio.gather(after)
        assert order[-1] == "after" and not slots.locked()
        await asyncio.wait_for(slots.acquire(), 1)  # free again: no slot was lost
        return order

    assert asyncio.run(go())[:3] == ["narrative", "article 1", "article 2"]


def test_prepare_builds_what_a_call_needs_before_it_is_made() -> None:
    """LLM.prepare (sending.Senders calls it before forking its workers): instructor's wrapper model and its
    request fields for the schema are built then, so the first call builds nothing, and sends the same."""
    from summarizer.llm import _asking, _instructor_model

    class Fresh(BaseModel):  # a model no other test has built
        model_config = ConfigDict(extra="ignore")

    with ScriptedEndpoint(well_behaved) as ep:
        llm = LLM(Endpoint(base_url=ep.base_url, model="scripted", forms=("json",)))
        llm.prepare(Fresh)
        built = (_instructor_model.cache_info().misses, _asking.cache_info().misses)

        async def go() -> Any:
            try:
                return await llm.structured(label="p", system="S", user="U", response_model=Fresh, max_reasks=0)
            finally:
                await llm.close()

        got = asyncio.run(go())
    assert got.value is not None and len(ep.requests) == 1
    assert (_instructor_model.cache_info().misses, _asking.cache_info().misses) == built
