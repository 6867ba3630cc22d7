"""Provider profiles: each server is asked for schema-constrained output in the form it takes.

Each profile runs against a SCRIPTED endpoint (tests/scripted_endpoint.py) that accepts only that
profile's form and answers 400 to anything else, as the real servers do; detection runs against the
probes each server answers. The llama.cpp profile also runs against the real llama-cpp-python server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC
from scripted_endpoint import ScriptedEndpoint, well_behaved

from summarizer.providers import PROFILES, Form, detect_profile, form_of_request
from summarizer.run import BriefRequest, run_brief


def only(form: Form) -> Any:
    """A server that takes structured output in ``form`` only."""

    def accepts(request: dict[str, Any]) -> str | None:
        got = form_of_request(request)
        return None if got == form else f"unsupported response_format / structured output: {got}"

    return accepts


def run(url: str, out: Path, inputs: list[Path], **opts: Any) -> tuple[int, dict[str, Any]]:
    options: dict[str, Any] = {"model": "scripted", "concurrency": 1, "narrative": False, "quiet": True}
    options.update(opts)
    code = run_brief(BriefRequest(inputs=[str(p) for p in inputs], out=out, base_url=url, **options))
    return code, json.loads((out / "brief.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_asks_in_the_form_its_server_accepts(tmp_path: Path, name: str) -> None:
    profile = PROFILES[name]
    with ScriptedEndpoint(well_behaved, accepts=only(profile.forms[0])) as ep:
        code, brief = run(ep.base_url, tmp_path, [AP], provider=name, use_cache=False)
    assert code == 0
    assert ep.refused == 0, f"{name} asked in a form its server refuses"
    assert {form_of_request(q) for q in ep.requests} == {profile.forms[0]}
    assert brief["results"][0]["status"] == "verified"
    if profile.fold_system:
        assert all(m["role"] != "system" or "json" in m["content"].lower() for q in ep.requests for m in q["messages"])


def test_a_refused_form_falls_back_to_the_next_and_is_remembered(tmp_path: Path) -> None:
    """The generic profile tries json_schema first; a llama.cpp-like server refuses it with a 400."""
    with ScriptedEndpoint(well_behaved, accepts=only("json_object_schema")) as ep:
        code, brief = run(ep.base_url, tmp_path, [AP, BBC], provider="generic", use_cache=False)
    assert code == 0
    forms = [form_of_request(q) for q in ep.requests]
    assert forms[0] == "json_schema" and ep.refused == 1  # refused once ...
    assert forms[1:] == ["json_object_schema"] * (len(forms) - 1)  # ... then remembered for the endpoint
    assert [r["status"] for r in brief["results"]] == ["verified", "verified"]
    events = " ".join(e for r in brief["results"] for e in r["events"])
    assert "structured output as json_schema refused (HTTP 400)" in events


@pytest.mark.parametrize(
    ("gets", "expected"),
    [
        ({"/props": {"default_generation_settings": {}, "chat_template": ""}}, "llama.cpp"),
        ({"/api/version": {"version": "0.9.0"}}, "ollama"),
        ({"/version": {"version": "0.10.1"}}, "vllm"),
        ({"/v1/models": {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "me"}]}}, "llama.cpp"),
        ({}, "generic"),
    ],
)
def test_profile_is_detected_from_what_the_server_answers(gets: dict[str, Any], expected: str) -> None:
    with ScriptedEndpoint(gets=gets) as ep:
        assert detect_profile(ep.base_url).name == expected


def test_hosted_apis_are_known_by_their_url() -> None:
    assert detect_profile("https://api.openai.com/v1").name == "openai"
    assert detect_profile("https://api.anthropic.com/v1/").name == "anthropic"


def test_detected_profile_is_used_without_provider_flag(tmp_path: Path) -> None:
    gets = {"/api/version": {"version": "0.9.0"}}
    with ScriptedEndpoint(well_behaved, accepts=only("ollama_format"), gets=gets) as ep:
        code, brief = run(ep.base_url, tmp_path, [AP], use_cache=False)
    assert code == 0 and ep.refused == 0
    assert brief["engine"]["name"] == "ollama"


def test_batch_bodies_come_from_the_profile() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    openai_body = PROFILES["openai"].batch_body(model="m", system="S", user="U", schema=schema, name="X", max_tokens=9)
    assert openai_body["response_format"]["json_schema"]["schema"] == schema
    assert [m["role"] for m in openai_body["messages"]] == ["system", "user"]
    llama = PROFILES["llama.cpp"].batch_body(model="m", system="S", user="U", schema=schema, name="X", max_tokens=9)
    assert llama["response_format"] == {"type": "json_object", "schema": schema}
    assert [m["role"] for m in llama["messages"]] == ["user"]  # system text folded
    assert form_of_request(llama) == "json_object_schema" and form_of_request(openai_body) == "json_schema"


@pytest.mark.engine
def test_llama_cpp_profile_against_the_real_server(tmp_path: Path) -> None:
    """The real llama-cpp-python server behind --base-url: detected as llama.cpp, asked with its schema form."""
    pytest.importorskip("llama_cpp", reason="needs the [local] extra (llama-cpp-python)")
    from summarizer.engine import default_gguf, embedded_server
    from summarizer.llm import resolve_endpoint

    text = tmp_path / "short.txt"
    text.write_text(
        "Ukraine and Russia each freed 307 prisoners on Saturday.\n\n"
        "Kyiv's mayor said 10 people were injured overnight.\n",
        encoding="utf-8",
    )
    with embedded_server(default_gguf(), n_ctx=4096) as url:
        ep = resolve_endpoint(base_url=url, model=None, mode=None, env={})
        assert ep is not None and ep.profile.name == "llama.cpp" and ep.forms[0] == "json_object_schema"
        assert ep.timeout >= 600  # a CPU server needs minutes, not the hosted default
        code, brief = run(url, tmp_path / "out", [text], max_reasks=0, use_cache=False, model=None)
    calls = [json.loads(line) for line in (tmp_path / "out" / "calls.jsonl").read_text().splitlines()]
    assert code == 0
    assert calls and all(c["error"] is None for c in calls)
    assert calls[0]["request"]["messages"][-1]["role"] == "user"
    assert brief["engine"]["name"] == "llama.cpp"
    assert brief["results"][0]["status"] in ("verified", "partial", "extractive")


def test_a_500_naming_response_format_is_a_form_refusal_not_an_outage(tmp_path: Path) -> None:
    """llama-cpp-python answers a json_schema response_format with a 500 that names it (measured)."""

    def accepts(request: dict[str, Any]) -> tuple[int, str] | None:
        if form_of_request(request) == "json_object_schema":
            return None
        return 500, "1 validation error: ('body', 'response_format', 'type'): Input should be 'text' or 'json_object'"

    with ScriptedEndpoint(well_behaved, accepts=accepts) as ep:
        code, brief = run(ep.base_url, tmp_path, [AP], provider="generic", use_cache=False)
    assert code == 0
    assert ep.refused == 1  # not retried as a transient 5xx: one refusal, then the next form
    assert brief["results"][0]["status"] == "verified"


def test_a_context_length_400_does_not_weaken_the_form(tmp_path: Path) -> None:
    """A 400 about the request itself fails that article; later calls keep the schema-constrained form."""
    first = [True]

    def accepts(request: dict[str, Any]) -> str | None:
        if first[0]:
            first[0] = False
            return "This model's maximum context length is 2048 tokens. Please reduce the length of the messages."
        return None

    with ScriptedEndpoint(well_behaved, accepts=accepts) as ep:
        code, brief = run(ep.base_url, tmp_path, [AP, BBC], provider="generic", use_cache=False)
    assert code == 1  # the provider refused one article: it stays, extractive, and the exit code says so
    assert [form_of_request(q) for q in ep.requests] == ["json_schema"] * len(ep.requests)
    assert sorted(r["status"] for r in brief["results"]) == ["extractive", "verified"]
