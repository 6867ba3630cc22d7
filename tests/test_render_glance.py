"""A brief a reader takes in at a glance (issue 14), on the seeds, through the CLI.

The SCRIPTED endpoint plays a model whose every answer fails (not JSON), as the embedded 270M model's
mostly do: both articles end extractive, their figure-bearing sentences quoted verbatim, and the
narrative is composed from the verified facts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import AP, BBC
from scripted_endpoint import ScriptedEndpoint, hostile_not_json, well_behaved
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.merge import check_narrative, cut_title, narrative_evidence
from summarizer.models import Brief
from summarizer.render.markdown import word_count

AGREED = ("307", "390", "1,000 prisoners", "14 ballistic missiles", "250 Shahed drones", "245")


def _run(out: Path, script: Any, *extra: str) -> tuple[dict[str, Any], str, str]:
    with ScriptedEndpoint(script) as ep:
        res = CliRunner().invoke(
            app,
            ["brief", str(AP), str(BBC), "--out", str(out), "--base-url", ep.base_url, "--model", "scripted",
             "--mode", "json", "--no-cache", "--quiet", "--max-reasks", "0", *extra],
            catch_exceptions=False,
        )  # fmt: skip
    assert res.exit_code == 0, res.output
    return (
        json.loads((out / "brief.json").read_text()),
        (out / "brief.md").read_text(),
        (out / "brief.html").read_text(),
    )


@pytest.fixture(scope="module")
def extractive(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, str]:
    return _run(tmp_path_factory.mktemp("glance"), hostile_not_json)


def _fact_lines(md: str) -> list[str]:
    facts = md.split("**Key facts**", 1)[1].split("**Sources differ**", 1)[0]
    return [line for line in facts.splitlines() if line.startswith("- ") and "more fact" not in line]


def test_seed_brief_fits_350_words_and_keeps_what_matters(extractive: tuple[dict[str, Any], str, str]) -> None:
    brief, md, _ = extractive
    assert all(r["status"] == "extractive" for r in brief["results"])
    assert word_count(md) <= 350, word_count(md)
    assert word_count("- A fact [1][2] — BBC only · 3 calls") == 7
    lines = _fact_lines(md)
    for figure in AGREED:
        hits = [line for line in lines if figure in line.split(" [1]")[0]]
        assert hits and all("[1][2]" in h for h in hits), (figure, hits)
    assert "**Injured**: 10 [1] (25 May) vs at least 15 [2] (24 May) — latest report: [1]" in md
    assert "1,000-kilometer [1] ≈ roughly 620-mile [2]" in md
    strike = next(line for line in lines if "14 ballistic missiles" in line)
    assert "BBC only: six missiles, 128 drones, 117 thwarted" in strike
    assert re.search(r"[Oo]nly BBC reports [^.]*788 Ukrainian drones \[2\]", md), md


def test_at_most_max_facts_shown_and_the_rest_counted(
    extractive: tuple[dict[str, Any], str, str], tmp_path: Path
) -> None:
    brief, md, html = extractive
    (story,) = brief["stories"]
    n = len(story["facts"])
    assert n > 6
    assert len(_fact_lines(md)) == 6
    assert f"_+{n - 6} more facts in brief.json/.html_" in md
    # The HTML keeps every fact, the ones past the budget folded away.
    assert html.count('<li id="s1-f') == n
    fold = html.split('<details class="more">', 1)[1].split("</details>", 1)[0]
    assert f"{n - 6} more facts</summary>" in fold and fold.count('<li id="s1-f') == n - 6
    _, md3, _ = _run(tmp_path / "three", hostile_not_json, "--max-facts", "3")
    assert len(_fact_lines(md3)) == 3 and f"_+{n - 3} more facts" in md3


def test_duplicates_merge_and_ranking_puts_corroborated_facts_first(
    extractive: tuple[dict[str, Any], str, str],
) -> None:
    brief, _, _ = extractive
    (story,) = brief["stories"]
    facts = story["facts"]
    given = sum(len(r["facts"]) for r in brief["results"])
    assert len(facts) < given  # the same statement from both sources (or twice from one) is one fact
    corr = [f["corroboration"] for f in facts]
    assert corr == sorted(corr, reverse=True)
    # The AP headline paragraph and its longer lead are one fact, not two.
    hundreds = [f for f in facts if "exchanged hundreds of prisoners Saturday" in f["text"]]
    assert len(hundreds) == 1
    # Trimmed quotes are still exact spans of the files.
    texts = {a["id"]: Path(a["path"]).read_text(encoding="utf-8") for a in brief["articles"]}
    for f in facts:
        assert f["text"] in [c["quote"] for c in f["citations"]]
        for c in f["citations"]:
            assert texts[c["article"]][c["start"] : c["end"]] == c["quote"]
    assert any(
        f["text"] == "Kyiv and Moscow agreed to swap 1,000 prisoners of war and civilian detainees each." for f in facts
    )


def test_json_figures_carry_their_own_sources(extractive: tuple[dict[str, Any], str, str]) -> None:
    brief, _, _ = extractive
    (story,) = brief["stories"]
    strike = next(f for f in story["facts"] if "14 ballistic missiles" in f["text"])
    figs = {g["text"]: g for g in strike["figures"]}
    assert figs["six missiles"]["sources"] == ["a2"]
    assert figs["14 ballistic missiles"]["sources"] == ["a1", "a2"]
    assert [c["article"] for c in figs["14 ballistic missiles"]["citations"]] == ["a1", "a2"]
    front = next(f for f in story["facts"] if f["agreement"])
    (agree,) = front["agreement"]
    assert agree["first"]["text"] == "1,000-kilometer" and agree["second"]["text"] == "roughly 620-mile"


def test_composed_narrative_says_who_reports_what_and_verifies(extractive: tuple[dict[str, Any], str, str]) -> None:
    brief, md, _ = extractive
    model = Brief.model_validate(brief)
    (story,) = model.stories
    assert story.summary_origin == "composed"
    from summarizer.segment import split_sentences

    sentences = split_sentences(story.summary)
    assert 2 <= len(sentences) <= 4
    assert check_narrative(story.summary, narrative_evidence(story.facts, story.outlets)) == []
    first, second = (story.summary[s:e] for s, e in sentences[:2])
    assert first.startswith("AP and BBC report 307 more soldiers, 390 combatants, 1,000 prisoners")
    assert second.startswith("Sources differ on the injured:")
    assert "BBC reported at least 15 injured" in second and "citing local officials" in second
    assert "AP reported 10 injured" in second and "quoting Kyiv Mayor Vitali Klitschko" in second
    assert "_(composed from the verified facts)_" in md


def test_title_is_the_shortest_lead_cut_at_a_word(extractive: tuple[dict[str, Any], str, str]) -> None:
    brief, md, _ = extractive
    (story,) = brief["stories"]
    assert (
        story["title"]
        == "Russia and Ukraine have swapped hundreds more prisoners, according to the Russian defence ministry."
    )
    assert f"## 1. {story['title']}" in md
    long = "Russia and Ukraine exchanged hundreds of prisoners Saturday even as deadly Russian drone strikes battered"
    assert cut_title(long, 40) == "Russia and Ukraine exchanged hundreds of…"  # 40 characters fit
    cut = cut_title(long, 39)  # the limit falls inside "of": the word goes, not half of it
    assert cut == "Russia and Ukraine exchanged hundreds…" and long.startswith(cut[:-1])
    assert cut_title("Short title", 40) == "Short title"


def test_verified_llm_headline_is_the_title_and_llm_facts_get_figure_sources(tmp_path: Path) -> None:
    brief, md, _ = _run(tmp_path, well_behaved, "--no-narrative")
    (story,) = brief["stories"]
    headlines = [r["headline"] for r in brief["results"] if r["headline"]]
    assert story["title"] in headlines
    strike = next(f for f in story["facts"] if "14 ballistic missiles" in f["text"] and "six missiles" in f["text"])
    six = next(g for g in strike["figures"] if g["text"] == "six missiles")
    assert six["sources"] == ["a2"] and strike["corroboration"] == 2
    assert "BBC only: six missiles" in md


def test_no_unverified_number_in_the_short_brief(extractive: tuple[dict[str, Any], str, str]) -> None:
    from summarizer.factcheck import verify_summary

    _, md, _ = extractive
    body = md.split("\n## 1.", 1)[1].split("\n## Sources", 1)[0]
    body = re.sub(r"\(\d{1,2} [A-Z][a-z]{2}\)", "", body)  # conflict dates come from the article headers
    count = re.compile(r"(?m)^- _\+\d+ more facts in brief\.json/\.html_$")
    assert len(count.findall(body)) == 1  # the only number that is the brief's own
    sources = [(p.name, p.read_text(encoding="utf-8")) for p in (AP, BBC)]
    report = verify_summary(count.sub("", body), sources, only="numbers")
    assert report.numbers_checked > 15
    assert report.ok, [i.finding.reason for i in report.issues]


def test_a_sentence_no_fact_quotes_still_corroborates(extractive: tuple[dict[str, Any], str, str]) -> None:
    # Both say debris fell on a shopping mall; BBC's sentence has no figure, so it is no fact of its own.
    brief, _, _ = extractive
    (story,) = brief["stories"]
    (debris,) = [f for f in story["facts"] if "shopping mall" in f["text"]]
    assert debris["sources"] == ["a1", "a2"] and debris["text"].startswith("Debris also fell")
    bbc = [c["quote"] for c in debris["citations"] if c["article"] == "a2"]
    assert bbc == [
        "As the attack continued, he said drone debris fell on a shopping mall and a residential building in "
        "Obolon district of Kyiv."
    ]
    # Its figure is AP's alone, and says so.
    assert [g["sources"] for g in debris["figures"]] == [["a1"]]


@pytest.mark.parametrize(
    ("path", "outlet"),
    [
        ("examples/ap_2025-05-25.txt", "AP"),
        ("bbc_2025-05-24.txt", "BBC"),
        ("feeds/reuters-kyiv-strike.txt", "Reuters"),
        ("the-guardian_2025.html", "Guardian"),
        ("article.txt", ""),
        ("12345_x.txt", ""),
    ],
)
def test_outlet_names_come_from_the_file_name(path: str, outlet: str) -> None:
    from summarizer.merge import story_outlets
    from summarizer.models import ArticleRef, outlet_name

    assert outlet_name(path) == outlet
    own = ArticleRef(id="a2", path="ap_x.txt", title="t", outlet="Kyiv Independent")  # its own name wins
    refs = [ArticleRef(id="a1", path=path, title="t"), own]
    assert story_outlets(refs) == ({"a1": outlet, "a2": "Kyiv Independent"} if outlet else {})


def test_html_narrative_shows_each_source_once_per_run(extractive: tuple[dict[str, Any], str, str]) -> None:
    # "… 14 ballistic missiles [1][2][3]." cites three facts of two sources: two markers, [1] and [2].
    _, _, html = extractive
    narrative = html.split('<p class="narrative">', 1)[1].split("</p>", 1)[0]
    first = narrative.split("Sources differ", 1)[0]
    assert re.findall(r'aria-describedby="tip-\d+">\[(\d)\]</a>', first) == ["1", "2"]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    from conftest import ROOT

    out = tmp_path_factory.mktemp("glance-replay")
    cassette = ROOT / "cassettes" / "seeds_gemma3_270m.yaml"
    CliRunner().invoke(
        app,
        ["brief", str(AP), str(BBC), "--replay", str(cassette), "--out", str(out), "--quiet"],
        catch_exceptions=False,
    )
    return json.loads((out / "brief.json").read_text()), (out / "brief.md").read_text()


def test_the_recorded_model_brief_at_a_glance(replayed: tuple[dict[str, Any], str]) -> None:
    """The same goals on the replayed recording of the embedded 270M model (whatever it got right)."""
    brief, md = replayed
    assert word_count(md) <= 350, word_count(md)
    lines = _fact_lines(md)
    assert len(lines) <= 6 and re.search(r"_\+\d+ more facts in brief\.json/\.html_", md)
    for figure in AGREED:
        hits = [line for line in lines if figure in line.split(" [1]")[0]]
        assert hits and all("[1][2]" in h for h in hits), (figure, lines)
    assert "**Injured**: 10 [1] (25 May) vs at least 15 [2] (24 May) — latest report: [1]" in md
    assert "1,000-kilometer [1] ≈ roughly 620-mile [2]" in md
    assert "BBC only: six missiles" in md
    assert re.search(r"[Oo]nly BBC reports [^.]*788 Ukrainian drones \[2\]", md)
    (story,) = brief["stories"]
    assert len(story["facts"]) > len(lines)  # brief.json keeps them all
