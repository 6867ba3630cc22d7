"""The number normaliser and the support check, on real sentences (the AP/BBC seeds and ABC news texts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from summarizer.quantities import Evidence, Quantity, check_support, extract_quantities, relation, scores

ROOT = Path(__file__).resolve().parents[1]
AP = (ROOT / "examples" / "ap_2025-05-25.txt").read_text(encoding="utf-8")
BBC = (ROOT / "examples" / "bbc_2025-05-24.txt").read_text(encoding="utf-8")


def sentence_with(text: str, needle: str) -> str:
    """The seed sentence (or line) that contains ``needle``: tests quote the seeds, not retyped text."""
    for line in text.splitlines():
        if needle in line:
            for part in line.replace("? ", ". ").split(". "):
                if needle in part:
                    return part
    raise AssertionError(f"{needle!r} not in the seed")


def only(text: str, **want: object) -> Quantity:
    qs = extract_quantities(text)
    assert len(qs) == 1, [q.text for q in qs]
    q = qs[0]
    for k, v in want.items():
        assert getattr(q, k) == v, (k, getattr(q, k), v)
    assert text[q.start : q.end] == q.text
    return q


def first(text: str, **want: object) -> Quantity:
    q = extract_quantities(text)[0]
    for k, v in want.items():
        assert getattr(q, k) == v, (k, getattr(q, k), v)
    return q


def figures(text: str) -> list[tuple[str, str, float]]:
    return [(q.text, q.kind, q.value) for q in extract_quantities(text)]


# ----------------------------------------------------------------------------- extraction by kind


def test_counts_in_seed_sentences() -> None:
    s = sentence_with(AP, "returned 307 prisoners")
    assert [(t, k) for t, k, _ in figures(s)] == [("307", "count"), ("390", "count")]
    q = only(sentence_with(AP, "a total of 1,000"), value=1000.0, kind="count", sig_digits=1)
    assert q.qualifier == "exact"
    s = sentence_with(BBC, "14 ballistic missiles")
    assert [v for _, _, v in figures(s)] == [14, 250, 6, 245, 128, 117]


def test_spans_index_the_original_text_after_number_words() -> None:
    s = "Two hundred and thirty canoes left Yarrawonga last Thursday, with just over 200 paddling across."
    qs = extract_quantities(s)
    assert [(q.text, q.value, q.qualifier) for q in qs] == [
        ("Two hundred and thirty", 230.0, "exact"),
        ("just over 200", 200.0, "more_than"),
    ]
    for q in qs:
        assert s[q.start : q.end] == q.text


@pytest.mark.parametrize(
    ("text", "value", "sig"),
    [
        ("three people died", 3, 1),
        ("twenty-five people", 25, 2),
        ("two thousand five hundred homes", 2500, 2),
        ("more than two dozen militants", 24, 2),
        ("blazes in a dozen areas", 12, 2),
    ],
)
def test_number_words(text: str, value: float, sig: int) -> None:
    q = only(text, value=float(value), sig_digits=sig)
    assert q.kind == "count"


def test_ordinals_are_their_own_kind() -> None:
    assert figures("this week's third Test against Australia") == [("third", "ordinal", 3.0)]
    q = only(sentence_with(BBC, "127th Separate Brigade"), kind="ordinal", value=127.0)
    assert q.text == "127th"
    # "first" is no figure to check, and "a third of" is no ordinal: it is a share (test_fractions_are_shares).
    assert figures("the first step toward a peaceful settlement") == []
    assert [k for _, k, _ in figures("a third of the city")] == ["percent"]


def test_magnitudes_keep_their_scale() -> None:
    q = only("a budget of $534 million", kind="money", unit="USD", value=534e6, scale=1e6)
    assert q.sig_digits == 3
    q = only("about 1.2m people", value=1.2e6, scale=1e6, qualifier="approx")
    assert q.kind == "count"
    q = only("It would cost $3bn.", value=3e9, scale=1e9)
    assert q.text == "$3bn"
    only("the 140 million people of Pakistan", value=140e6, kind="count")


def test_currencies() -> None:
    assert only("a fine of £1.8bn", kind="money", unit="GBP").value == 1.8e9
    assert only("worth US$400 million", kind="money", unit="USD").text == "US$400 million"
    assert only("checks of $US1,000 per person", kind="money", unit="USD").value == 1000
    # quantulum3 reads this as metres: it is money.
    q = only("The fine was 1.5m euros.", kind="money", unit="EUR", value=1.5e6)
    assert q.text == "1.5m euros"


def test_percentages_and_points() -> None:
    s = "emissions will be reduced by at least 40 per cent by 2010."
    qs = extract_quantities(s)
    assert [(q.text, q.kind, q.qualifier) for q in qs] == [
        ("at least 40 per cent", "percent", "at_least"),
        ("2010", "year", "exact"),
    ]
    assert only("a 12.5% rise", kind="percent", value=12.5, unit="%").sig_digits == 3
    only("half a percentage point lower, or 2 percentage points", kind="points", value=2.0)
    assert only("up 3 percent", kind="percent").value == 3.0


def test_units_convert_through_pint() -> None:
    km = first(sentence_with(AP, "1,000-kilometer front line"), kind="measure", unit="kilometer")
    assert km.value == pytest.approx(1e6) and km.text == "1,000-kilometer"
    mi = first(sentence_with(BBC, "620-mile front line"), kind="measure", unit="mile", qualifier="approx")
    assert mi.value == pytest.approx(620 * 1609.344)
    q = only("reduced the speed limit to 80 kilometres an hour", kind="measure", unit="kilometer / hour")
    assert q.value == pytest.approx(80_000 / 3600)  # a speed, in metres per second
    assert only("above 600 km per hour", unit="kilometer / hour").value == pytest.approx(600_000 / 3600)
    assert only("a seven-hour air raid alert", kind="measure", unit="hour").value == 7 * 3600
    assert only("carrying 3 tonnes of cargo", kind="measure").value == 3000  # kilograms


@pytest.mark.parametrize(
    ("text", "qualifier", "low", "high"),
    [
        ("at least 15 people injured", "at_least", 15, float("inf")),
        ("As more than 100 blazes burn", "more_than", 100, float("inf")),
        ("for nearly 24 hours", "approx", 21.6 * 3600, 24 * 3600),
        ("about 60 fire units", "approx", 54, 66),
        ("checks of up to 1,000 pesos", "at_most", 0, 1000),
        ("fewer than 20 people", "less_than", 0, 20),
        ("at least 50 to 60 detainees", "range", 50, 60),
        ("40,000 to 50,000 fans", "range", 40_000, 50_000),
        ("20-30 people", "range", 20, 30),
        ("Hundreds of people have been forced to vacate", "vague", 200, 999),
        ("dozens injured", "vague", 24, 143),
        ("tens of thousands of homes", "vague", 20_000, 99_999),
    ],
)
def test_bounds_ranges_and_vague_amounts(text: str, qualifier: str, low: float, high: float) -> None:
    q = only(text, qualifier=qualifier)
    assert (q.low, q.high) == (pytest.approx(low), pytest.approx(high))


def test_years_dates_times_are_not_counts() -> None:
    s = sentence_with(BBC, "between May 20 and May 23")
    assert [(t, k, v) for t, k, v in figures(s) if k != "count"] == [
        ("May 20", "date", 520.0),
        ("May 23", "date", 523.0),
    ]
    assert figures("since the start of its full-scale invasion in 2022") == [("2022", "year", 2022.0)]
    assert figures("since Russia's 2022 full-scale invasion") == [("2022", "year", 2022.0)]
    assert figures("At about 4:00pm AEDT, a marked deterioration") == [("4:00pm", "time", 960.0)]
    assert figures("it killed 2000 people") == [("2000", "count", 2000.0)]


@pytest.mark.parametrize(
    "text",
    [
        "both won their singles encounters to give the US an unbeatable 2-0 lead",
        "Seles won 6-3 in 62 minutes",  # only the minutes
        "COVID-19 cases",
        "F-16 jets",
        "an Airbus A320",
        "the G7 summit",
        "B-52 bombers",
        "5G networks",
    ],
)
def test_scores_and_identifiers_are_not_quantities(text: str) -> None:
    assert [q for q in extract_quantities(text) if q.kind != "measure"] == []


def test_seven_in_10_does_not_swallow_the_text() -> None:
    # recognizers-text returns nothing for a whole text with "seven in 10"; we keep every figure.
    s = "Seven in 10 Australians support the plan, and 307 prisoners were freed."
    assert [v for _, _, v in figures(s)] == [7, 10, 307]


def test_no_substring_matches() -> None:
    # instructor's GroundCheck finds "5" inside "2025": whole tokens only.
    report = check_support("5 people were hurt.", [Evidence(label="s1", text="It happened in May 2025.")])
    assert not report.ok


# ----------------------------------------------------------------------------- relation


def test_relation_front_line_is_equivalent() -> None:
    km = extract_quantities(sentence_with(AP, "1,000-kilometer front line"))[0]
    mi = extract_quantities(sentence_with(BBC, "620-mile front line"))[0]
    assert relation(km, mi) == "equivalent"
    assert relation(mi, km) == "equivalent"


def test_relation_injured() -> None:
    ten = extract_quantities(sentence_with(AP, "already 10 injured"))[0]
    fifteen = extract_quantities(sentence_with(BBC, "at least 15 people injured"))[0]
    eighteen = extract_quantities("18 people were injured")[0]
    assert relation(ten, fifteen) == "different"
    assert relation(fifteen, eighteen) == "compatible"
    assert relation(fifteen, fifteen) == "same"
    assert relation(ten, extract_quantities("in 2022")[0]) == "incomparable"
    assert relation(extract_quantities("307 soldiers")[0], extract_quantities("370 soldiers")[0]) == "different"


# ----------------------------------------------------------------------------- support


def ev(*texts: str) -> list[Evidence]:
    return [Evidence(label=f"sentence {i}", text=t) for i, t in enumerate(texts, start=1)]


BBC_SWAP = sentence_with(BBC, "307 more soldiers")
BBC_INJURED = sentence_with(BBC, "at least 15 people injured")
BBC_MISSILES = sentence_with(BBC, "14 ballistic missiles")


def test_wrong_figure_names_the_source_figure() -> None:
    report = check_support("Each side freed 370 soldiers.", ev(BBC_INJURED, BBC_MISSILES, BBC_SWAP))
    assert not report.ok
    (f,) = report.unsupported
    assert (f.quantity.text, f.how) == ("370", "unsupported")
    assert f.candidates[0].quantity.text == "307"
    assert f.reason.startswith("you wrote 370; sentence 3 says 307")
    assert "307" in report.message()


def test_exact_claim_is_not_supported_by_a_bound() -> None:
    assert not check_support("15 people were injured.", ev(BBC_INJURED)).ok
    assert check_support("At least 15 people were injured.", ev(BBC_INJURED)).findings[0].how == "exact"
    assert not check_support("More than 10 were injured.", ev("10 people were hurt.")).ok
    assert check_support("More than 10 were injured.", ev("15 people were injured.")).findings[0].how == "bound"
    # a bound from a bound must keep the figure: "more than 13" is not what "more than 100" says.
    assert not check_support("more than 13 blazes", ev("As more than 100 blazes burn")).ok


def test_rounding_rules() -> None:
    assert check_support("some 300 soldiers", ev(BBC_SWAP)).findings[0].how == "rounded"
    assert check_support("300 soldiers", ev(BBC_SWAP)).findings[0].how == "rounded"  # fewer digits
    assert not check_support("10 missiles", ev(BBC_MISSILES)).ok  # 14 is not "rounded" to 10
    assert not check_support("308 soldiers", ev(BBC_SWAP)).ok
    assert not check_support("about 61 fire units", ev("about 60 fire units")).ok


def test_unit_conversion_supports_the_front_line() -> None:
    f = check_support("The front line is about 1,000 km long.", ev(sentence_with(BBC, "620-mile"))).findings[0]
    assert (f.supported, f.how) == (True, "converted")
    f = check_support("a 620-mile front line", ev(sentence_with(AP, "1,000-kilometer"))).findings[0]
    assert (f.supported, f.how) == (True, "converted")
    assert not check_support("a 900-mile front line", ev(sentence_with(AP, "1,000-kilometer"))).ok


def test_faithful_forms() -> None:
    e = ev("The ministry said 2,500,000 people and 12.5 per cent of them were affected across 1,000 km.")
    assert check_support("2.5 million people", e).ok
    assert check_support("12.5% of them", e).ok
    assert check_support("1000 km", e).ok
    assert check_support("two million five hundred thousand people", e).ok


def test_million_billion_slip_is_flagged_with_scale() -> None:
    report = check_support("It cost $534 billion.", ev("a budget of $534 million"))
    (f,) = report.unsupported
    assert "million, not billion" in f.reason


def test_derived_figure() -> None:
    report = check_support("Eight missiles got through.", ev(BBC_MISSILES))
    (f,) = report.findings
    assert (f.supported, f.how) == (True, "derived")
    assert sorted(c.quantity.value for c in f.matched) == [6, 14]
    assert not check_support("Eight missiles got through.", ev(BBC_MISSILES), allow_derived=False).ok
    # The two terms of a ratio are no sum: "one in five" is not 1 + 4 of "one in four" (it passed so).
    assert not supported("one in five children is poor", "one in four children is poor")
    assert not supported("nine out of 10 agreed", "eight out of 10 agreed")
    assert supported("one in four children is poor", "one in four children is poor")
    assert supported("13 people died", "10 soldiers and 3 civilians died")  # a sum still derives


def test_fractions_are_shares() -> None:
    # "half of the staff left" passed against "a third of the staff left": a fraction was no figure.
    assert only("half of the staff left", kind="percent").value == 50
    assert only("two-thirds of voters", kind="percent").value == pytest.approx(66.67, abs=0.01)
    assert not supported("half of the staff left", "a third of the staff left")
    assert not supported("two-thirds of voters backed it", "three-quarters of voters backed it")
    assert supported("half of the staff left", "50% of the staff left")
    assert supported("a third of voters backed it", "33% of voters backed it")
    assert supported("2-thirds of the area", "two-thirds of the area")
    # No share: a match's half, a third goal, one and a half, half an hour, the third of May.
    for text in ("in the second half of the season", "scored a third goal", "half an hour", "the third of May"):
        assert not [q for q in extract_quantities(text) if q.kind == "percent"], text


def test_mixed_numbers() -> None:
    # "two and a half years" read as 2 (so it passed against "two years"), "one and a half million" as 1.
    assert only("jailed for two and a half years", kind="measure").value == only("jailed for 2.5 years").value
    assert only("one and a half million people fled", kind="count").value == 1_500_000
    assert not supported("He was jailed for two and a half years.", "He was jailed for two years.")
    assert supported("one and a half million people fled", "1.5 million people fled")
    assert supported("a million and a half people fled", "1.5 million people fled")
    assert supported("He ran 3½ miles", "He ran three-and-a-half miles")
    assert supported("It took 2 1/2 hours", "It took two and a half hours")
    assert supported("It took 2 1/4 hours", "It took 2.25 hours")
    assert not supported("It took 2 3/4 hours", "It took 2.5 hours")
    assert only("a 3 1/2-year-old", kind="measure").text == "3 1/2-year-old"  # no age 2 inside it
    # A fraction of something stays a share, and "24/7" no figure.
    assert only("one and a half of the", kind="count").value == 1.5
    assert figures("open 24/7") == []


def test_a_conversion_in_brackets_is_as_hedged_as_its_figure() -> None:
    # "25cm of snow fell" passed against "up to 10 inches (25cm) of snow": the bracketed 25cm read as exact.
    snow = "Up to 10 inches (25cm) of snow fell."
    assert not supported("25cm of snow fell.", snow)
    assert supported("Up to 25cm of snow fell.", snow) and supported("Up to 10in of snow fell.", snow)
    assert [q.qualifier for q in extract_quantities("at least 16,000 hectares (40,000 acres)")] == ["at_least"] * 2
    assert [q.qualifier for q in extract_quantities("more than $3m (£2.4m) was spent")] == ["more_than"] * 2
    # Only a conversion: another dimension in brackets keeps its own reading, and so does an exact figure's.
    assert [q.qualifier for q in extract_quantities("about 5 miles (10 minutes) away")] == ["approx", "exact"]
    assert supported("8 km away", "5 miles (8 km) away")


def test_seasons_and_formations() -> None:
    # A season with a slash reads as the same season with a dash: two years ("2014/15" was no figure at all).
    assert (
        figures("the 2014/15 season") == figures("the 2014-15 season") == [("2014", "year", 2014), ("15", "year", 2015)]
    )
    assert supported("in the 2014/15 season", "in the 2014-15 season")
    assert not supported("in the 2013/14 season", "in the 2014/15 season")
    assert figures("on 2014/05/20") == figures("2013/15") == []  # no date nor a two-year span
    # A formation is no count ("4-3-3" read as a 3): the identifier check reads it whole.
    assert figures("a 4-3-3 formation and 300 fans") == [("300", "count", 300)]
    assert scores("switched to a 4-4-2") == frozenset() and scores("won 3-1") == {(1, 3)}


def test_years_must_match_and_never_match_counts() -> None:
    e = ev(sentence_with(BBC, "Russia’s 2022 full-scale invasion"))
    assert check_support("The invasion began in 2022.", e).ok
    report = check_support("The invasion began in 2023.", e)
    assert not report.ok and "2022" in report.message()
    # a count of 2,022 is not the year 2022, and the reverse.
    assert not check_support("2,022 soldiers", e).ok


def test_dates_times_ordinals() -> None:
    e = ev(sentence_with(BBC, "between May 20 and May 23"), "At about 4:00pm AEDT, the wind changed.")
    assert check_support("from 20 May to 23 May", e).ok
    assert not check_support("by May 24", e).ok
    assert check_support("at 4pm", e).ok
    assert not check_support("at 5pm", e).ok
    brigade = ev(sentence_with(BBC, "127th Separate Brigade"))
    assert check_support("the 127th brigade", brigade).ok
    assert not check_support("127 soldiers", brigade).ok


def test_no_numbers_is_ok() -> None:
    report = check_support("Russia and Ukraine swapped prisoners.", ev(BBC_SWAP))
    assert report.findings == [] and report.ok and report.message() == ""


# ----------------------------------------------------------------------------- benchmark subset


def test_benchmark_subset_meets_the_goals() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_numbers import evaluate

    path = ROOT / "tests" / "data" / "number_cases_subset.jsonl"
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(cases) == 200
    res = evaluate(cases)
    assert res["changed"] == 100 and res["faithful"] == 100
    assert res["recall"] >= 0.995, res
    assert res["false_flag_rate"] <= 0.01, res


# ----------------------------------------------------------------------------- issue 12: forms from real summaries


def supported(claim: str, evidence: str) -> bool:
    return check_support(claim, [Evidence(label="s1", text=evidence)]).ok


def test_forms_that_real_summaries_use() -> None:
    assert supported("more than £2m in benefit", "more than £2.1m in benefit")
    assert not supported("more than £3m in benefit", "more than £2.1m in benefit")
    assert supported("dug a 46 m well", "dug a 46m well") and supported("a 46m deal", "a deal of 46 million")
    assert supported("walked 4 kms carrying 10 kgs for 3 hrs", "walked 4 km carrying 10 kg for 3 hours")
    # Grams, milligrams and ounces, attached or spaced: "300g" was no figure at all, so "400g" passed unchecked.
    assert supported("made with 300 g of cheddar", "made with 300g of cheddar")
    assert supported("a 0.3 kg block", "a 300g block") and supported("a 250 mg dose", "a 250mg dose")
    assert supported("a 12oz steak", "a 12 oz steak")
    assert not supported("made with 400g of cheddar", "made with 300g of cheddar")
    assert not supported("a 500mg dose", "a 250mg dose")
    # A magnitude word against its figure (the Daily Mail's "£10million") and a currency against its figure
    # ("$AUD1.1 billion", "GBP3,028") were no figures either: a wrong one passed unchecked.
    assert supported("a £7.5 million deal", "a £7.5million deal") and supported("a £7.5m deal", "a £7.5million deal")
    assert not supported("a £9.5million deal", "a £7.5million deal")
    assert supported("1.9 million views", "1.9million views") and not supported("2.9million views", "1.9million views")
    assert supported("AUD 1.102 billion", "$AUD1.102 billion") and supported("a £3,028 fine", "a GBP3,028 fine")
    assert not supported("a GBP3,208 fine", "a GBP3,028 fine")
    assert figures("ABC7 news at 10") == figures("news at 10")  # a name's digits are no figure
    assert figures("the world number one won") == []
    assert only("died aged fifty-eight", unit="age").value == 58
    assert supported("The 22-year-old", "Pippa, 22, said") and supported("Pippa, 22,", "the 22 - year - old")
    # An age is never a sum: 21 is not "one" + 20.
    assert not supported("his 21-year-old son", "One man said his 20-year-old son was there.")


def test_counts_derived_by_enumeration() -> None:
    def how(claim: str, evidence: str) -> str:
        return check_support(claim, [Evidence(label="s1", text=evidence)]).findings[0].how

    assert how("They reached the final seven times.", "Finals in 1990, 1992, 1995, 1999, 2001, 2004 and 2010.") == (
        "derived"
    )
    assert how("He has three sons.", "He has sons Tom, Dick and Harry.") == "derived"
    assert how("McManus scored two goals.", "McManus scored the first goal and his second goal.") == "derived"
    # A list elsewhere in the sentence is no count of the noun.
    assert how("The closure of 3 stores.", "The closure of 12 stores in South Australia, Victoria and Tasmania.") == (
        "unsupported"
    )
