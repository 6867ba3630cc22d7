"""The brief pipeline end to end against a SCRIPTED endpoint (it plays a strong or a hostile model)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC
from scripted_endpoint import (
    ScriptedEndpoint,
    hostile_bad_ids,
    hostile_not_json,
    hostile_wrong_numbers,
    well_behaved,
)
from typer.testing import CliRunner

from summarizer.cli import app


def run_cli(tmp_path: Path, ep: ScriptedEndpoint, *extra: str, inputs: list[str] | None = None) -> Any:
    out = tmp_path / "out"
    args = [
        "brief",
        *(inputs or [str(AP), str(BBC)]),
        "--out",
        str(out),
        "--base-url",
        ep.base_url,
        "--model",
        "scripted",
        "--mode",
        "json",
        "--no-cache",
        "--quiet",
        *extra,
    ]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def load(tmp_path: Path) -> tuple[dict[str, Any], str, str]:
    out = tmp_path / "out"
    return (
        json.loads((out / "brief.json").read_text()),
        (out / "brief.md").read_text(),
        (out / "brief.html").read_text(),
    )


def all_citations(brief: dict[str, Any]) -> list[dict[str, Any]]:
    cites = []
    for story in brief["stories"]:
        for fact in story["facts"]:
            cites += fact["citations"]
    for r in brief["results"]:
        for fact in r["facts"]:
            cites += fact["citations"]
        cites += r["summary_citations"]
    return cites


def test_well_behaved_model_gives_a_verified_brief(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        res = run_cli(tmp_path, ep)
    assert res.exit_code == 0, res.output
    brief, md, html = load(tmp_path)
    assert [r["status"] for r in brief["results"]] == ["verified", "verified"]
    assert brief["rejected"] == []
    assert len(brief["stories"]) == 1  # AP and BBC report the same event
    story = brief["stories"][0]
    assert story["summary_origin"] == "llm"
    texts = " ".join(f["text"] for f in story["facts"])
    for figure in ("307", "390", "1,000", "14", "250"):
        assert figure in texts
    assert "307" in md and "Sources differ" in md
    assert "[1]" in md and "[2]" in md
    # Usage is counted from the API's usage figures: 2 extractions + 1 narrative.
    assert brief["usage"]["calls"] == 3
    assert brief["usage"]["prompt_tokens"] > 0
    assert "<html" in html.lower()


def test_every_citation_span_equals_its_quote(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        assert run_cli(tmp_path, ep).exit_code == 0
    brief, _, _ = load(tmp_path)
    texts = {a["id"]: Path(a["path"]).read_text(encoding="utf-8") for a in brief["articles"]}
    cites = all_citations(brief)
    assert len(cites) >= 10
    for c in cites:
        assert texts[c["article"]][c["start"] : c["end"]] == c["quote"]


@pytest.mark.parametrize("hostile", [hostile_wrong_numbers, hostile_not_json])
def test_hostile_model_never_reaches_the_brief(tmp_path: Path, hostile: Any) -> None:
    with ScriptedEndpoint(hostile) as ep:
        res = run_cli(tmp_path, ep)
        requests = len(ep.requests)
    assert res.exit_code == 0, res.output
    brief, md, _ = load(tmp_path)
    # Re-asks are bounded: 2 articles x (1 + 2 re-asks) + narrative (1 + 1 re-ask).
    assert requests <= 2 * 3 + 2
    assert all(r["status"] == "extractive" for r in brief["results"])
    assert brief["rejected"], "the audit must say what was rejected"
    for rej in brief["rejected"]:
        assert rej["reasons"]
    # Every fact shown is a verbatim source sentence (merged facts carry every source's), marked extractive.
    for story in brief["stories"]:
        for f in story["facts"]:
            assert f["origin"] == "extractive"
            assert f["text"] in [c["quote"] for c in f["citations"]]
    assert "extractive evidence" in md
    if hostile is hostile_wrong_numbers:
        assert re.search(r"\b370\b", md) is None and "1,063" not in md
        reasons = " ".join(r for rej in brief["rejected"] for r in rej["reasons"])
        assert "307" in reasons  # the re-ask names what the sentence really says


def test_ids_past_the_end_are_rejected_or_re_anchored(tmp_path: Path) -> None:
    # The scripted model copies sentences verbatim but cites -1 and ids past the end. The copies are
    # re-anchored to the sentence that states them (and verified there); the bad ids never reach the brief.
    with ScriptedEndpoint(hostile_bad_ids) as ep:
        assert run_cli(tmp_path, ep).exit_code == 0
    brief, _, _ = load(tmp_path)
    n_sentences = {}
    from summarizer.load import load_inputs
    from summarizer.segment import segment

    for a in load_inputs([str(AP), str(BBC)]).articles:
        n_sentences[a.id] = len(segment(a).sentences)
    for c in all_citations(brief):
        assert 0 <= c["sentence"] < n_sentences[c["article"]]
    events = " ".join(e for r in brief["results"] for e in r["events"])
    assert "re-anchored" in events
    for r in brief["results"]:
        for f in r["facts"]:
            assert f["text"].rstrip(".") in f["citations"][0]["quote"]
    # The narrative cited [n+99]: rejected with its reason, the composed narrative stands in.
    assert brief["stories"][0]["summary_origin"] == "composed"
    assert any("does not exist" in " ".join(rej["reasons"]) for rej in brief["rejected"])


def test_reask_message_names_the_source_figure(tmp_path: Path) -> None:
    with ScriptedEndpoint(hostile_wrong_numbers) as ep:
        run_cli(tmp_path, ep, "--no-narrative", "--concurrency", "1", inputs=[str(AP)])
        requests = list(ep.requests)
    assert len(requests) == 3  # first try + 2 re-asks
    feedback = json.dumps(requests[1]["messages"][-1])
    assert "you wrote 370" in feedback and "307" in feedback
    # instructor's re-ask must not have grown a shared list: the first request has the original 2 messages.
    assert len(requests[0]["messages"]) == 2
    assert len(requests[1]["messages"]) == 4


def test_request_shapes_per_mode(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        run_cli(tmp_path, ep, "--mode", "llama_json", "--no-narrative", inputs=[str(AP)])
        llama = ep.requests[0]
    assert llama["response_format"]["type"] == "json_object"
    assert llama["response_format"]["schema"]["title"] == "LLMExtraction"
    with ScriptedEndpoint(well_behaved) as ep:
        run_cli(tmp_path, ep, "--mode", "tools", "--no-narrative", inputs=[str(AP)])
        tools = ep.requests[0]
    assert tools["tools"][0]["function"]["name"] == "LLMExtraction"
    assert "response_format" not in tools


def test_article_text_is_delimited_as_data(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        run_cli(tmp_path, ep, "--no-narrative", inputs=[str(AP)])
        user = ep.requests[0]["messages"][-1]["content"]
    assert "<article>" in user and "</article>" in user
    assert "[0] Russia and Ukraine exchanged hundreds of prisoners" in user


def test_calls_are_logged_for_inspection(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        run_cli(tmp_path, ep, "--no-narrative")
    lines = (tmp_path / "out" / "calls.jsonl").read_text().splitlines()
    assert len(lines) == 2
    rec = json.loads(lines[0])
    assert rec["request"]["messages"] and rec["response"] and rec["prompt_tokens"] > 0


def test_missing_input_exit_code_and_rest_goes_on(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        res = run_cli(tmp_path, ep, inputs=[str(AP), str(tmp_path / "nope.txt")])
    assert res.exit_code == 1
    assert "nope.txt" in res.output
    brief, _, _ = load(tmp_path)
    assert len(brief["articles"]) == 1 and brief["errors"][0]["path"].endswith("nope.txt")


def test_usage_error_exit_code(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["brief", str(AP), "--format", "pdf"])
    assert res.exit_code == 2
    res = CliRunner().invoke(app, ["brief", str(AP), "--concurrency", "0"])
    assert res.exit_code == 2


def _two_stories(tmp_path: Path) -> list[str]:
    other = tmp_path / "markets.txt"
    other.write_text(
        "Shares in Qantas rose sharply on Monday.\n\nQantas shares rose 4 per cent to $3.20 after the airline "
        "reported a profit of $420 million for the half year. The airline said it would hire 200 new pilots.\n",
        encoding="utf-8",
    )
    return [str(AP), str(BBC), str(other)]


def test_digest_is_written_by_the_llm_and_verified(tmp_path: Path) -> None:
    with ScriptedEndpoint(well_behaved) as ep:
        res = run_cli(tmp_path, ep, inputs=_two_stories(tmp_path))
    assert res.exit_code == 0, res.output
    brief, md, html = load(tmp_path)
    assert len(brief["stories"]) == 2
    assert brief["digest_origin"] == "llm"
    assert "[1]" in brief["digest"] and "[2]" in brief["digest"]
    assert "(§1)" in md and "(§2)" in md
    assert 'href="#s1">[1]</a>' in html


def test_unverified_digest_falls_back_to_composition(tmp_path: Path) -> None:
    with ScriptedEndpoint(hostile_wrong_numbers) as ep:
        run_cli(tmp_path, ep, inputs=_two_stories(tmp_path))
    brief, md, _ = load(tmp_path)
    assert brief["digest_origin"] == "composed"
    assert brief["digest"].startswith("Today in 2 stories")
    digest_rejections = [r for r in brief["rejected"] if r["stage"] == "digest"]
    assert digest_rejections and "4,321" in digest_rejections[0]["content"]
    assert "4,321" not in md


def test_long_article_is_cut_for_the_llm_and_says_so(tmp_path: Path) -> None:
    from conftest import lee_corpus

    long = tmp_path / "long.txt"
    long.write_text("A long day of news.\n\n" + "\n\n".join(lee_corpus()[:40]) + "\n", encoding="utf-8")
    with ScriptedEndpoint(well_behaved) as ep:
        res = run_cli(tmp_path, ep, "--no-narrative", inputs=[str(long)])
        prompt = ep.requests[0]["messages"][-1]["content"]
    assert res.exit_code == 0, res.output
    assert "(The article continues; only its first" in prompt
    assert len(prompt) < 16_000  # the prompt budget holds, whatever the article's size
    brief, _, _ = load(tmp_path)
    (result,) = brief["results"]
    assert any(e.startswith("long article: the LLM saw sentences 0-") for e in result["events"])
