"""Replaying the recorded embedded-engine run (cassettes/) through the CLI: offline, no model needed.

The cassette was recorded from the real llama.cpp server with the bundled gemma3 270M on the seeds
(see README, "Re-recording"). Record mode is "none": an unmatched request fails instead of calling out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC, ROOT
from typer.testing import CliRunner

from summarizer.cli import app

CASSETTE = ROOT / "cassettes" / "seeds_gemma3_270m.yaml"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("replay")
    res = CliRunner().invoke(
        app,
        ["brief", str(AP), str(BBC), "--replay", str(CASSETTE), "--out", str(out), "--quiet"],
        catch_exceptions=False,
    )
    return res.exit_code, out


def test_replay_builds_the_brief_offline(replayed: tuple[int, Path]) -> None:
    code, out = replayed
    assert code == 0
    brief = json.loads((out / "brief.json").read_text())
    assert len(brief["articles"]) == 2 and len(brief["results"]) == 2
    assert brief["engine"]["name"].startswith("replay of")
    assert brief["usage"]["calls"] >= 2
    assert len(brief["stories"]) == 1


def test_a_local_engine_is_asked_once_per_article_by_default(tmp_path: Path) -> None:
    """The recording was made allowing a re-ask and asking for narratives (6 calls); by default a local engine
    (a replay counts as one) is asked only for the two extractions: on the seeds its re-asks and narratives
    changed no verified fact (README). Asking for them explicitly replays all six calls."""

    def run(out: Path, *extra: str) -> dict[str, Any]:
        res = CliRunner().invoke(
            app, ["brief", str(AP), str(BBC), "--replay", str(CASSETTE), "--out", str(out), "--quiet", *extra],
            catch_exceptions=False,
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        data: dict[str, Any] = json.loads((out / "brief.json").read_text())
        return data

    default = run(tmp_path / "default")
    assert default["usage"]["calls"] == 2
    full = run(tmp_path / "full", "--max-reasks", "1", "--narrative")
    assert full["usage"]["calls"] == 6
    facts = lambda b: sorted(f["text"] for r in b["results"] for f in r["facts"] if f["origin"] == "llm")  # noqa: E731
    assert facts(default) == facts(full)


def test_replayed_citations_match_the_files(replayed: tuple[int, Path]) -> None:
    _, out = replayed
    brief = json.loads((out / "brief.json").read_text())
    texts = {a["id"]: Path(a["path"]).read_text(encoding="utf-8") for a in brief["articles"]}
    n = 0
    for story in brief["stories"]:
        for f in story["facts"]:
            for c in f["citations"]:
                assert texts[c["article"]][c["start"] : c["end"]] == c["quote"]
                n += 1
    assert n > 0


def test_no_unverified_number_reaches_brief_md(replayed: tuple[int, Path]) -> None:
    from summarizer.factcheck import verify_summary

    _, out = replayed
    md = (out / "brief.md").read_text()
    body = md.split("\n## 1.", 1)[1].split("\n## Sources", 1)[0]
    body = re.sub(r"\(\d{1,2} [A-Z][a-z]{2}\)", "", body)  # conflict dates come from the article headers
    body = re.sub(r"(?m)^- _\+\d+ more facts? in brief\.json/\.html_$", "", body)  # a count of the brief's own facts
    sources = [(p.name, p.read_text(encoding="utf-8")) for p in (AP, BBC)]
    report = verify_summary(body, sources, only="numbers")
    assert report.numbers_checked > 5
    assert report.ok, [i.finding.reason for i in report.issues]


def test_cassette_is_scrubbed() -> None:
    text = CASSETTE.read_text()
    assert "interactions" in text
    assert re.search(r"(?i)authorization|api-key|Bearer ", text) is None


def test_replay_never_calls_out(tmp_path: Path) -> None:
    # An article the cassette has never seen: vcrpy refuses instead of reaching any server.
    other = tmp_path / "other.txt"
    other.write_text("A different article entirely. It says 12 ships sailed on Monday.\n")
    res = CliRunner().invoke(
        app, ["brief", str(other), "--replay", str(CASSETTE), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert res.exit_code == 1
    brief = json.loads((tmp_path / "o" / "brief.json").read_text())
    assert brief["results"][0]["status"] == "extractive"


def test_seeds_come_out_right_from_the_recorded_model(replayed: tuple[int, Path]) -> None:
    # Whatever the weak model proposed, the brief shows the agreement and the differences of the two reports.
    _, out = replayed
    brief = json.loads((out / "brief.json").read_text())
    (story,) = brief["stories"]
    facts = story["facts"]

    def fact_with(figure: str) -> dict:  # type: ignore[type-arg]
        found = [f for f in facts if figure in f["text"]]
        assert found, figure
        return found[0]

    for figure in ("307", "1,000 prisoners", "14 ballistic missiles"):
        f = fact_with(figure)
        assert f["corroboration"] == 2 and sorted(f["sources"]) == ["a1", "a2"], figure
    front = [
        f
        for f in facts
        if any(a["first"]["text"] == "1,000-kilometer" and "620-mile" in a["second"]["text"] for a in f["agreement"])
    ]
    assert front and front[0]["corroboration"] == 2
    (injured,) = [c for c in story["conflicts"] if c["label"] == "injured"]
    values = {v["article"]: v["value"] for v in injured["values"]}
    assert values == {"a1": "10", "a2": "at least 15"}
    assert injured["latest"] == "a1"  # AP's 25 May report is the later one
    assert fact_with("788 Ukrainian drones")["single_source"] is True
    md = (out / "brief.md").read_text()
    assert "**Injured**: 10 [1] (25 May) vs at least 15 [2] (24 May)" in md
    assert "1,000-kilometer [1] ≈ roughly 620-mile [2]" in md
