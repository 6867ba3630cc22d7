"""Replaying the recorded embedded-engine run (cassettes/) through the CLI: offline, no model needed.

The cassette was recorded from the real llama.cpp server with the bundled gemma3 270M on the seeds
(see README, "Re-recording"). Record mode is "none": an unmatched request fails instead of calling out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    sources = [(p.name, p.read_text(encoding="utf-8")) for p in (AP, BBC)]
    report = verify_summary(body, sources)
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
