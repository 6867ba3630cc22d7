"""The client path (summarizer/llm.py) against a SCRIPTED endpoint: what is sent is exactly what we built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted_endpoint import ScriptedEndpoint, parse_sentences, well_behaved

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
