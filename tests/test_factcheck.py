"""`summarizer verify`'s engine: every number of a summary against every sentence of its sources."""

from __future__ import annotations

import re
from pathlib import Path

from summarizer.factcheck import format_report, summary_blocks, verify_summary

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.txt"))]

FAITHFUL = """# Prisoner swap, 2025-05-25

## Key facts

1. Russia and Ukraine each returned 307 prisoners of war on Saturday [1], after 390 on Friday [2].
2. **At least 15** people were injured in Kyiv by 14 ballistic missiles and 250 drones [^3].
- Ukrainian forces shot down six missiles, so eight got through.
- Fighting went on along the roughly 1,000-kilometre front line ([report](https://www.bbc.co.uk/news/x)).
- The talks in Istanbul agreed to swap 1,000 prisoners, the first since Russia's full-scale invasion in 2022.
"""


def test_faithful_summary_passes() -> None:
    report = verify_summary(FAITHFUL, SOURCES)
    assert report.ok, format_report(report)
    assert report.sources == [name for name, _ in SOURCES]
    # 307, 390, at least 15, 14, 250, six, eight, 1,000-km, 1,000, 2022; list numbers, heading date ignored
    assert report.numbers_checked == report.supported == 10


def test_wrong_numbers_are_reported_with_their_sentence_and_source() -> None:
    summary = FAITHFUL.replace("307 prisoners", "370 prisoners").replace("in 2022", "in 2023")
    summary = summary.replace("**At least 15**", "15")
    report = verify_summary(summary, SOURCES)
    assert not report.ok
    bad = {i.finding.quantity.text: i for i in report.issues}
    assert set(bad) == {"370", "15", "2023"}
    assert "370 prisoners" in bad["370"].sentence
    assert bad["370"].finding.candidates[0].quantity.text == "307"
    assert re.fullmatch(r"(ap|bbc)_2025-05-2[45]\.txt sentence \d+", bad["370"].finding.candidates[0].evidence)
    assert bad["2023"].finding.candidates[0].quantity.text == "2022"
    text = format_report(report)
    assert "3 unsupported" in text
    assert "'370'" in text and "307" in text and "bbc_2025-05-24.txt sentence" in text


def test_markup_is_not_checked() -> None:
    blocks = summary_blocks(FAITHFUL)
    assert blocks[0] == ("Prisoner swap, 2025-05-25", True)
    body = " ".join(text for text, _ in blocks)
    assert "[1]" not in body and "[^3]" not in body and "https://" not in body and "**" not in body
    assert not any(text.startswith(("1.", "2.", "-")) for text, _ in blocks)


def test_a_heading_figure_is_still_checked() -> None:
    report = verify_summary("## 3,000 prisoners freed\n\nEach side returned 307 prisoners.", SOURCES)
    assert [i.finding.quantity.text for i in report.issues] == ["3,000"]


def test_json_says_per_sentence_which_check_failed() -> None:
    summary = FAITHFUL + "- The Pentagon said Ukraine did not return 307 prisoners.\n"
    report = verify_summary(summary, SOURCES)
    assert not report.ok
    failed = {r.sentence: r.failed for r in report.sentences if r.failed}
    (sentence,) = failed
    assert sentence.startswith("The Pentagon said")
    assert set(failed[sentence]) >= {"entity", "negation"}
    problems = {p.part: p.detail for r in report.sentences for p in r.problems}
    assert "pentagon" in problems["entity"]
    data = report.model_dump(mode="json")
    assert data["sentences"][0]["failed"] == [] and data["checks"][0] == "number"
    assert "entity" in format_report(report) and "The Pentagon said" in format_report(report)


def test_only_numbers_is_the_number_check_alone() -> None:
    summary = "The Pentagon said 307 prisoners were returned."
    assert verify_summary(summary, SOURCES, only="numbers").ok
    full = verify_summary(summary, SOURCES)
    assert not full.ok and full.sentences[0].failed[0] == "entity"


def test_a_summary_that_swaps_who_did_what_fails_its_role_check() -> None:
    sources = [("a.txt", "Ukraine freed 307 Russian prisoners on Saturday. The exchange took place on the border.")]
    assert verify_summary("Ukraine freed 307 Russian prisoners on Saturday.", sources).ok
    report = verify_summary("Russia freed 307 Ukrainian prisoners on Saturday.", sources)
    assert not report.ok and report.sentences[0].failed == ["role"]
    assert "role" in report.model_dump(mode="json")["checks"]


def test_a_number_in_a_name_is_read_as_the_verify_stage_reads_it() -> None:
    """Real CNN text: "Bali 9 pair" where the article says "Bali Nine pair" was flagged by `summarizer verify`
    ("you wrote 9; sentence 11 says six") though the verify stage accepts it."""
    sources = [("a.txt", "The firing squad executed the Bali Nine pair and six other drug traffickers. Six were shot.")]
    for only in (None, "numbers"):
        report = verify_summary("The firing squad executed the Bali 9 pair.", sources, only=only)
        assert report.ok and report.numbers_checked == report.supported == 1, format_report(report)
        assert not verify_summary("The firing squad executed the Bali 8 pair.", sources, only=only).ok


def test_a_scorers_minute_is_checked_against_the_match_sheet() -> None:
    """Real Daily Mail match report: the minutes are only in the sheet, which the segmenter splits at its
    semicolons. `summarizer verify` flagged "in the 78th minute" ("sentence 63 says 83rd")."""
    article = (
        "Charlie Austin added a third goal for the visitors. Benteke then completed his hat-trick. "
        "Goals: Phillips 7; Hill 55; Austin 78 . Booked: Sandro, Kranjcar, Austin ."
    )
    sources = [("a.txt", article)]
    for only in (None, "numbers"):
        report = verify_summary("Charlie Austin added a third goal for the visitors in the 78th minute.", sources,
                                only=only)  # fmt: skip
        assert report.ok and report.supported == 1, format_report(report)
        wrong = verify_summary("Charlie Austin added a third goal for the visitors in the 55th minute.", sources,
                               only=only)  # fmt: skip
        assert not wrong.ok and wrong.issues[0].finding.reason.endswith("Austin 78"), format_report(wrong)


def test_a_count_must_count_what_the_source_counts_as_in_the_verify_stage() -> None:
    """`summarizer verify` once checked a figure's value alone, so "injured 13 others" passed against "killed 13
    civilians" there while the verify stage rejected it: one rule for both now."""
    sources = [("a.txt", "The strike killed 13 civilians on Sunday. Rescue teams worked through the night.")]
    assert verify_summary("The strike killed 13 civilians on Sunday.", sources).ok
    for only in (None, "numbers"):
        report = verify_summary("The strike injured 13 soldiers on Sunday.", sources, only=only)
        assert not report.ok and report.supported == 0 and report.numbers_checked == 1, format_report(report)
        (issue,) = report.issues
        assert issue.finding.reason.startswith("you wrote 13 soldiers, but a.txt sentence 1 says")
        assert "13 soldiers" in format_report(report) and report.sentences[0].failed[0] == "number"


def test_a_marker_or_a_dash_ends_what_a_figure_counts() -> None:
    """The brief's own conflict lines ("at least 15 [2] (24 May) — latest report: [1]") were read as counting
    "latest report" once `summarizer verify` checked what counts count."""
    sources = [("a.txt", "Ten people were injured, the mayor said. At least 15 people were injured, the BBC said.")]
    line = "Injured: 10 [1] vs at least 15 [2] — latest report: [1]"
    assert verify_summary(line, sources, only="numbers").ok
    assert not verify_summary("Injured: 10 [1] vs at least 15 soldiers [2]", sources, only="numbers").ok
