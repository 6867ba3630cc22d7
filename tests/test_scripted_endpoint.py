"""The scripted endpoint, seen through the real ``openai`` client (sync and async)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import openai
import pytest
from scripted_endpoint import (
    MIXED_FAULT_NAMES,
    Fault,
    ScriptedEndpoint,
    hostile_bad_ids,
    hostile_injection,
    hostile_not_json,
    hostile_wrong_numbers,
    is_batched_narrative,
    is_narrative,
    mixed_faults,
    parse_facts,
    parse_sentences,
    parse_story_facts,
    well_behaved,
)

from summarizer.models import LLMExtraction, LLMNarrative

SENTENCES = [
    "Russia and Ukraine exchanged hundreds of prisoners Saturday in a rare moment of cooperation.",
    "The ministry in Moscow said each side brought home 307 more soldiers.",
    "A day earlier each released a total of 390 combatants and civilians.",
    "Kyiv was hit by 14 ballistic missiles and 250 drones overnight.",
    "The exchange is the largest since the full-scale invasion.",
    "Officials said 1,000 prisoners would be swapped in all.",
]
ARTICLE = "<article>\n" + "\n".join(f"[{i}] {s}" for i, s in enumerate(SENTENCES)) + "\n</article>"
FACTS = ["Each side brought home 307 soldiers.", "Kyiv was hit by 14 missiles.", "1,000 prisoners in all."]
FACT_BLOCK = "<facts>\n" + "\n".join(f"[{i}] {f}" for i, f in enumerate(FACTS, 1)) + "\n</facts>"


def extraction_request() -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Return LLMExtraction JSON."},
            {"role": "user", "content": f"Summarise:\n{ARTICLE}"},
        ],
    }


def narrative_request() -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": f"Write an LLMNarrative from:\n{FACT_BLOCK}"}]}
        ],
    }


def client(ep: ScriptedEndpoint, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=ep.base_url, api_key="test", max_retries=0, timeout=timeout)


def chat(ep: ScriptedEndpoint, request: dict[str, Any] | None = None, **kw: Any) -> Any:
    req = request or extraction_request()
    return client(ep, **kw).chat.completions.create(**req)


# ---------------------------------------------------------------- protocol


def test_normal_completion_is_a_proper_chat_completion() -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        resp = chat(ep)
        assert ep.base_url.startswith("http://127.0.0.1:") and ep.base_url.endswith("/v1")
    msg = resp.choices[0].message
    assert resp.object == "chat.completion" and resp.model == "m"
    assert resp.choices[0].finish_reason == "stop"
    payload = LLMExtraction.model_validate_json(msg.content or "")
    assert payload.summary == f"{SENTENCES[0]} {SENTENCES[1]}"
    assert resp.usage is not None
    assert resp.usage.completion_tokens == len(msg.content or "") // 4 + 1
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert resp.usage.prompt_tokens > len(ARTICLE) // 4
    assert len(ep.requests) == 1 and ep.requests[0]["messages"][1]["content"].endswith("</article>")


def test_models_route_and_404() -> None:
    with ScriptedEndpoint() as ep:
        models = client(ep).models.list()
        assert [m.id for m in models.data] == ["scripted"]
        with pytest.raises(openai.NotFoundError):
            client(ep).embeddings.create(model="m", input="x")


def test_tools_request_gets_a_tool_call() -> None:
    tools = [{"type": "function", "function": {"name": "LLMExtraction", "parameters": {"type": "object"}}}]
    req = extraction_request() | {
        "tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "LLMExtraction"}},
    }
    with ScriptedEndpoint() as ep:
        resp = chat(ep, req)
    msg = resp.choices[0].message
    assert msg.content is None and msg.tool_calls is not None and len(msg.tool_calls) == 1
    call = msg.tool_calls[0]
    assert call.function.name == "LLMExtraction"
    assert json.loads(call.function.arguments) == well_behaved(extraction_request())


def test_instructor_tools_mode_parses_the_reply() -> None:
    instructor = pytest.importorskip("instructor")
    with ScriptedEndpoint() as ep:
        ic = instructor.from_openai(client(ep), mode=instructor.Mode.TOOLS)
        out = ic.chat.completions.create(
            model="m", response_model=LLMExtraction, max_retries=0, messages=extraction_request()["messages"]
        )
        assert "tools" in ep.requests[0]
    assert isinstance(out, LLMExtraction)
    assert [f.sentence_ids for f in out.facts] == [[1], [2], [3], [5]]


def test_script_queue_is_fifo_then_responder() -> None:
    with ScriptedEndpoint(lambda r: "from responder", script=["one"]) as ep:
        ep.push({"a": 1}, "three")
        got = [chat(ep).choices[0].message.content for _ in range(4)]
        assert ep.pending == 0
    assert got == ["one", '{"a": 1}', "three", "from responder"]


def test_responder_exception_is_a_500_and_recorded() -> None:
    def broken(request: dict[str, Any]) -> str:
        raise KeyError("boom")

    with ScriptedEndpoint(broken) as ep:
        with pytest.raises(openai.InternalServerError):
            chat(ep)
        assert ep.errors and "KeyError" in ep.errors[0]


# ---------------------------------------------------------------- faults


def test_429_with_retry_after() -> None:
    with ScriptedEndpoint(script=[Fault("status", status=429, retry_after=0.1)]) as ep:
        with pytest.raises(openai.RateLimitError) as info:
            chat(ep)
        assert info.value.response.headers["retry-after"] == "0.1"
        assert info.value.status_code == 429
        assert chat(ep).choices[0].finish_reason == "stop"  # the next call is fine


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(status: int) -> None:
    with (
        ScriptedEndpoint(script=[Fault("status", status=status)]) as ep,
        pytest.raises(openai.InternalServerError) as info,
    ):
        chat(ep)
    assert info.value.status_code == status


def test_client_retries_through_a_429() -> None:
    # The openai client's own retry honours Retry-After; two faults then success.
    with ScriptedEndpoint(script=[Fault("status", status=429, retry_after=0.1), Fault("status", status=503)]) as ep:
        c = openai.OpenAI(base_url=ep.base_url, api_key="t", max_retries=2, timeout=5)
        resp = c.chat.completions.create(**extraction_request())
        assert len(ep.requests) == 3
    assert resp.choices[0].finish_reason == "stop"


def test_reset_is_a_connection_error() -> None:
    with ScriptedEndpoint(script=[Fault("reset")]) as ep:
        with pytest.raises(openai.APIConnectionError) as info:
            chat(ep)
        assert not isinstance(info.value, openai.APITimeoutError)
        assert chat(ep).choices[0].message.content  # server still serves after a reset


def test_stall_is_a_timeout_and_shutdown_is_prompt() -> None:
    t0 = time.monotonic()
    with ScriptedEndpoint(script=[Fault("stall", seconds=30)]) as ep, pytest.raises(openai.APITimeoutError):
        chat(ep, timeout=0.3)
    assert time.monotonic() - t0 < 3  # the stalled handler was woken on exit, not slept out


def test_truncated_has_finish_reason_length() -> None:
    with ScriptedEndpoint(script=[Fault("truncated", content='{"headline": "Rus')]) as ep:
        resp = chat(ep)
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.content == '{"headline": "Rus'


def test_raw_content_is_sent_as_is_even_with_tools() -> None:
    tools = [{"type": "function", "function": {"name": "LLMExtraction", "parameters": {"type": "object"}}}]
    with ScriptedEndpoint(script=[Fault("raw", content="{not json")]) as ep:
        resp = chat(ep, extraction_request() | {"tools": tools})
    assert resp.choices[0].message.content == "{not json"
    assert not resp.choices[0].message.tool_calls


def test_latency_overlaps_concurrent_async_calls() -> None:
    async def run(ep: ScriptedEndpoint) -> list[Any]:
        ac = openai.AsyncOpenAI(base_url=ep.base_url, api_key="t", max_retries=0, timeout=10)
        try:
            return await asyncio.gather(*(ac.chat.completions.create(**extraction_request()) for _ in range(10)))
        finally:
            await ac.close()

    with ScriptedEndpoint(latency=0.3) as ep:
        t0 = time.monotonic()
        results = asyncio.run(run(ep))
        elapsed = time.monotonic() - t0
        assert len(ep.requests) == 10
        assert ep.max_in_flight >= 5
    assert all(r.choices[0].finish_reason == "stop" for r in results)
    assert 0.3 <= elapsed < 1.5


def test_no_threads_left_behind() -> None:
    before = {t.ident for t in threading.enumerate()}
    with ScriptedEndpoint() as ep:
        for _ in range(3):
            chat(ep)
    time.sleep(0.2)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []


# ---------------------------------------------------------------- responders


def test_parse_sentences_and_facts() -> None:
    assert parse_sentences(extraction_request()) == list(enumerate(SENTENCES))
    assert parse_facts(narrative_request()) == list(enumerate(FACTS, 1))
    assert parse_facts(extraction_request()) == []


def test_well_behaved_extraction_is_faithful() -> None:
    out = LLMExtraction.model_validate(well_behaved(extraction_request()))
    words = set(SENTENCES[0].rstrip(".").split())
    assert out.headline and set(out.headline.split()) <= words and len(out.headline.split()) <= 12
    for fact in out.facts:
        assert fact.text == SENTENCES[fact.sentence_ids[0]]
        assert any(ch.isdigit() for ch in fact.text)
    assert [f.sentence_ids[0] for f in out.facts] == [1, 2, 3, 5]


def test_well_behaved_narrative_cites_facts() -> None:
    out = LLMNarrative.model_validate(well_behaved(narrative_request()))
    assert out.narrative == (
        "Each side brought home 307 soldiers [1]. Kyiv was hit by 14 missiles [2]. 1,000 prisoners in all [3]."
    )


def test_well_behaved_answers_each_story_of_a_batched_narratives_request() -> None:
    from summarizer.models import LLMNarratives
    from summarizer.templates import Prompts

    stories = [{"title": f"Story {k}", "facts": FACTS[k:], "conflicts": [], "previous": "", "problems": []}
               for k in range(2)]  # fmt: skip
    user = Prompts().render("narratives.user.j2", stories=stories)
    request = {"model": "m", "messages": [{"role": "user", "content": f"{user}\nSchema: LLMNarratives"}]}
    assert is_batched_narrative(request) and is_narrative(request)
    assert parse_story_facts(request) == [(1, list(enumerate(FACTS, 1))), (2, list(enumerate(FACTS[1:], 1)))]
    out = LLMNarratives.model_validate(well_behaved(request))
    assert [n.story for n in out.narratives] == [1, 2]
    assert out.narratives[1].narrative == "Kyiv was hit by 14 missiles [1]. 1,000 prisoners in all [2]."
    bad = LLMNarratives.model_validate(hostile_bad_ids(request))
    assert "[102]" in bad.narratives[0].narrative and "[101]" in bad.narratives[1].narrative


def test_hostile_wrong_numbers_changes_every_number() -> None:
    good = well_behaved(extraction_request())
    bad = LLMExtraction.model_validate(hostile_wrong_numbers(extraction_request()))
    texts = [f.text for f in bad.facts]
    assert "370" in texts[0] and "307" not in texts[0]
    assert "1,063" in texts[-1] and "1,000" not in texts[-1]
    assert "41 ballistic" in texts[2] and "205 drones" in texts[2]
    assert [f.sentence_ids for f in bad.facts] == [f["sentence_ids"] for f in good["facts"]]
    assert bad.summary != good["summary"] and "370" in bad.summary
    narr = hostile_wrong_numbers(narrative_request())["narrative"]
    assert "[1]" in narr and "370" in narr and "307" not in narr


def test_hostile_bad_ids_and_not_json_and_injection() -> None:
    n = len(SENTENCES)
    ids = [f["sentence_ids"] for f in hostile_bad_ids(extraction_request())["facts"]]
    assert ids[0] == [-1] and all(i[0] >= n for i in ids[1:]) and len(ids) > 1
    prose = hostile_not_json(extraction_request())
    assert prose.startswith("Sure! Here is the summary:")
    with pytest.raises(json.JSONDecodeError):
        json.loads(prose)
    inj = LLMExtraction.model_validate(hostile_injection(extraction_request()))
    assert inj.facts[0].text == "10,000 people died" and inj.facts[0].sentence_ids == [0]
    assert "10,000 people died" in inj.summary


def test_mixed_faults_cycles_deterministically() -> None:
    respond = mixed_faults(every=3)
    replies = [respond(extraction_request()) for _ in range(3 * len(MIXED_FAULT_NAMES))]
    good = well_behaved(extraction_request())
    assert all(replies[i] == good for i in range(len(replies)) if i % 3 != 2)
    faults = replies[2::3]
    assert faults[0] == Fault("status", status=429, retry_after=0.1)
    assert faults[1] == Fault("status", status=500) and faults[2] == Fault("status", status=503)
    assert faults[3] == Fault("reset")
    assert isinstance(faults[4], Fault) and faults[4].kind == "truncated"
    assert isinstance(faults[5], str)
    with pytest.raises(json.JSONDecodeError):
        json.loads(faults[5])
    with pytest.raises(ValueError):
        LLMExtraction.model_validate(faults[6])
    assert faults[7] == hostile_wrong_numbers(extraction_request())
    assert faults[8] == hostile_bad_ids(extraction_request())
    # seed shifts the cycle
    shifted = mixed_faults(every=1, seed=3)
    assert shifted(extraction_request()) == Fault("reset")


def test_mixed_faults_through_the_wire() -> None:
    with ScriptedEndpoint(mixed_faults(every=2)) as ep:
        c = client(ep)
        outcomes: list[str] = []
        for _ in range(8):
            try:
                r = c.chat.completions.create(**extraction_request())
                outcomes.append(r.choices[0].finish_reason)
            except openai.APIConnectionError:
                outcomes.append("conn")
            except openai.APIStatusError as exc:
                outcomes.append(str(exc.status_code))
    assert outcomes == ["stop", "429", "stop", "500", "stop", "503", "stop", "conn"]
