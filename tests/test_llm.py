"""The client path (summarizer/llm.py) against a SCRIPTED endpoint: what is sent is exactly what we built."""

from __future__ import annotations

import json
from pathlib import Path

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
