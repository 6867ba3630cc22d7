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


def _ask_three(base_url: str, form: str) -> None:
    import asyncio

    from summarizer.extract import CheckedExtraction, build_prompt
    from summarizer.llm import LLM, Endpoint
    from summarizer.models import Article
    from summarizer.segment import segment
    from summarizer.templates import Prompts

    text = "Rain fell.\n\nThe council said 307 homes were flooded on Monday. Repairs will take 3 weeks.\n"
    doc = segment(Article(id="a", path="a.txt", title="Rain", text=text, sha256="0" * 64, body_start=text.index("The")))
    system, user = build_prompt(doc, Prompts())

    async def go() -> None:
        llm = LLM(Endpoint(base_url=base_url, model="scripted", forms=(form,)))  # type: ignore[arg-type]
        for _ in range(3):
            got = await llm.structured(label="a", system=system, user=user, response_model=CheckedExtraction)
            assert got.value is not None and isinstance(got.value, CheckedExtraction)
        await llm.close()

    asyncio.run(go())


def test_the_instructor_model_is_built_once_and_sends_what_instructor_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """instructor would build a pydantic class and a JSON schema per call; ours are built once, same bytes sent."""
    import instructor.v2.core.function_calls as function_calls

    import summarizer.llm as llm_module

    for form in ("json", "json_schema", "tools", "json_object_schema"):
        with ScriptedEndpoint(well_behaved) as ep:
            _ask_three(ep.base_url, form)
            ours = list(ep.requests)
        with monkeypatch.context() as m, ScriptedEndpoint(well_behaved) as ep:
            m.setattr(llm_module, "_instructor_model", lambda model: model)  # instructor's own per-call path
            _ask_three(ep.base_url, form)
            theirs = list(ep.requests)
        assert ours == theirs, form
    # No per-call class build is left: instructor's wrapper is never called again.
    wraps: list[object] = []
    real = function_calls.response_schema
    monkeypatch.setattr(function_calls, "response_schema", lambda cls: wraps.append(cls) or real(cls))
    for form in ("json", "json_schema", "tools", "json_object_schema"):
        with ScriptedEndpoint(well_behaved) as ep:
            _ask_three(ep.base_url, form)
    assert wraps == []
