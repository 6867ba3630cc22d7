"""Cross-source reconciliation on the seeds: AP (a1, 25 May) and BBC (a2, 24 May) on one prisoner swap.

Facts are built by hand the way the extractor would state them, each citing a real sentence of
examples/*.txt at its real offsets (found with str.find).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from conftest import seed_article

from summarizer.models import Article, ArticleRef, ArticleResult, BriefFact, Citation, Conflict, Fact
from summarizer.reconcile import reconcile

ROOT = Path(__file__).resolve().parents[1]


def _synthetic(aid: str, text: str, date: dt.date) -> Article:
    return Article(
        id=aid,
        path=f"{aid}.txt",
        title=f"Report {aid}",
        body_start=0,
        date=date,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


class _Builder:
    """Facts citing sentences of one article by their exact text."""

    def __init__(self, art: Article) -> None:
        self.art = art
        self.facts: list[Fact] = []

    def cite(self, sentence: str) -> Citation:
        start = self.art.text.find(sentence)
        assert start >= 0, f"not in {self.art.id}: {sentence}"
        sid = len(re.findall(r"[.!?][”\"]?\s", self.art.text[:start]))
        return Citation(article=self.art.id, sentence=sid, start=start, end=start + len(sentence), quote=sentence)

    def fact(self, text: str, *sentences: str) -> Fact:
        f = Fact(id=f"{self.art.id}-{len(self.facts) + 1}", text=text, citations=[self.cite(s) for s in sentences])
        self.facts.append(f)
        return f

    def result(self) -> ArticleResult:
        a = self.art
        return ArticleResult(
            article=ArticleRef(id=a.id, path=a.path, title=a.title, date=a.date),
            status="verified",
            facts=self.facts,
        )


AP_307 = (
    "Ukrainian President Volodymyr Zelenskyy and Russia’s Defense Ministry confirmed that each side returned "
    "307 prisoners of war, following an earlier swap of 390 detainees on Friday."
)
AP_1000 = (
    "The agreement, brokered during peace talks in Istanbul earlier this month, calls for a total of 1,000 "
    "prisoners to be exchanged by both sides."
)
AP_FRONT = "Despite the breakthrough, intense fighting continued across Ukraine’s 1,000-kilometer front line."
AP_STRIKE = (
    "According to regional officials, Russia fired 14 ballistic missiles and deployed 250 Shahed drones, "
    "with Ukrainian forces managing to neutralise 245 of them."
)
AP_OBOLON = "In Kyiv’s Obolon district, a residential building was heavily damaged, injuring at least five people."
AP_INJ = "“There are already 10 injured,” Kyiv Mayor Vitali Klitschko said early Sunday, per AP."
AP_13 = "Elsewhere, Russian attacks killed 13 civilians in southern, eastern, and northern Ukraine."
AP_BORDER = (
    "The exchange took place at the Belarusian border, and the Russian prisoners were transported to Belarus "
    "for medical treatment, AP reported, quoting the Russian Defense Ministry."
)
AP_2022 = (
    "Hours before Saturday’s exchange, Russia launched one of the largest coordinated drone and missile "
    "assaults on Kyiv since the start of its full-scale invasion in 2022, as reported by AP."
)

BBC_307 = (
    "The ministry in Moscow said each side brought home 307 more soldiers, a day after each released a total "
    "of 390 combatants and civilians."
)
BBC_INJ = (
    "The announcement was made hours after Kyiv suffered a large-scale Russian drone and missile attack that "
    "left at least 15 people injured, according to local officials."
)
BBC_1000 = (
    "In talks held in Istanbul earlier this month that marked the first time the two sides met face-to-face "
    "for peace talks since Russia’s 2022 full-scale invasion, Kyiv and Moscow agreed to swap 1,000 prisoners "
    "of war and civilian detainees each."
)
BBC_STRIKE = (
    "Russia attacked Ukraine with 14 ballistic missiles and 250 Shahed drones overnight, officials said, "
    "adding that Ukrainian forces shot down six missiles and neutralised 245 drones – with 128 drones shot "
    "down and 117 thwarted using electronic warfare."
)
BBC_OBOLON = "There were at least five people injured in the area, the administration said."
BBC_FRONT = (
    "Battles continued along the roughly 620-mile front line, where tens of thousands of soldiers have been "
    "killed, and neither country has relented in its deep strikes."
)
BBC_788 = (
    "Russia’s defence ministry said it had shot down 788 Ukrainian drones away from the battlefield "
    "between May 20 and May 23."
)


@pytest.fixture(scope="module")
def seeds() -> tuple[list[ArticleResult], dict[str, Article]]:
    ap, bbc = seed_article("a1", "ap_2025-05-25.txt"), seed_article("a2", "bbc_2025-05-24.txt")
    a, b = _Builder(ap), _Builder(bbc)
    a.fact("Russia and Ukraine each returned 307 prisoners of war on Saturday.", AP_307)
    a.fact("An earlier swap of 390 detainees took place on Friday.", AP_307)
    a.fact("The agreement calls for a total of 1,000 prisoners to be exchanged by both sides.", AP_1000)
    a.fact("Fighting continued across Ukraine’s 1,000-kilometer front line.", AP_FRONT)
    a.fact(
        "Russia fired 14 ballistic missiles and deployed 250 Shahed drones; Ukrainian forces neutralised 245 of them.",
        AP_STRIKE,
    )
    a.fact(
        "A residential building in the Obolon district was heavily damaged, injuring at least five people.",
        AP_OBOLON,
    )
    a.fact("Kyiv Mayor Vitali Klitschko said there are already 10 injured.", AP_INJ)
    a.fact("Russian attacks killed 13 civilians in southern, eastern, and northern Ukraine.", AP_13)
    a.fact("The exchange took place at the Belarusian border.", AP_BORDER)
    a.fact("The assault was one of the largest on Kyiv since the full-scale invasion in 2022.", AP_2022)
    # BBC, in another order, with other words for the same figures.
    b.fact("Russia attacked Ukraine with 14 ballistic missiles and 250 Shahed drones overnight.", BBC_STRIKE)
    b.fact("The Russian defence ministry said each side brought home 307 more soldiers.", BBC_307)
    b.fact("A day earlier each side released a total of 390 combatants and civilians.", BBC_307)
    b.fact(
        "A Russian drone and missile attack on Kyiv left at least 15 people injured, according to local officials.",
        BBC_INJ,
    )
    b.fact("Kyiv and Moscow agreed to swap 1,000 prisoners of war and civilian detainees each.", BBC_1000)
    b.fact("Ukrainian forces shot down six missiles and neutralised 245 drones.", BBC_STRIKE)
    b.fact("There were at least five people injured in the area, the administration said.", BBC_OBOLON)
    b.fact("Battles continued along the roughly 620-mile front line.", BBC_FRONT)
    b.fact("Russia’s defence ministry said it shot down 788 Ukrainian drones between May 20 and May 23.", BBC_788)
    # BBC listed first on purpose: reconcile must not depend on input order.
    return [b.result(), a.result()], {"a1": ap, "a2": bbc}


@pytest.fixture(scope="module")
def out(seeds: tuple[list[ArticleResult], dict[str, Article]]) -> tuple[list[BriefFact], list[Conflict]]:
    results, arts = seeds
    return reconcile(results, arts)


def _with(facts: list[BriefFact], needle: str) -> BriefFact:
    hits = [f for f in facts if any(needle in c.quote for c in f.citations) and needle in f.text]
    assert len(hits) == 1, (needle, [f.text for f in hits])
    return hits[0]


def _merged(f: BriefFact) -> None:
    assert f.sources == ["a1", "a2"] and f.corroboration == 2 and not f.single_source
    assert {c.article for c in f.citations} == {"a1", "a2"}


def test_same_figures_merge_across_sources(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    facts, _ = out
    f307 = _with(facts, "307")
    _merged(f307)
    assert len(f307.citations) == 2
    assert f307.text == "Russia and Ukraine each returned 307 prisoners of war on Saturday."  # a1's wording
    for needle in ("390", "1,000 prisoners", "14 ballistic missiles", "250 Shahed drones"):
        _merged(_with(facts, needle))
    strike = _with(facts, "14 ballistic missiles")
    assert strike is _with(facts, "250 Shahed drones")
    assert "245" in strike.text  # AP's fact states every figure of BBC's, so AP's text is shown
    # 307 and 390 were separate facts in both articles: they stay separate.
    assert _with(facts, "307") is not _with(facts, "390")


def test_obolon_at_least_five_merges(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    facts, _ = out
    five = [f for f in facts if "at least five" in f.text]
    assert len(five) == 1
    _merged(five[0])


def test_injured_conflict(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    facts, conflicts = out
    assert len(conflicts) == 1
    c = conflicts[0]
    assert c.label == "injured"
    got = {(v.value, v.article, v.date) for v in c.values}
    assert got == {("10", "a1", dt.date(2025, 5, 25)), ("at least 15", "a2", dt.date(2025, 5, 24))}
    by_article = {v.article: v for v in c.values}
    assert by_article["a1"].citation.quote == AP_INJ
    assert by_article["a2"].citation.quote == BBC_INJ
    ids = {f.id: f for f in facts}
    assert "10 injured" in ids[str(by_article["a1"].fact)].text
    assert "at least 15" in ids[str(by_article["a2"].fact)].text
    assert by_article["a1"].fact != by_article["a2"].fact
    assert c.latest == "a1" and "[a1]" in c.note  # AP (25 May) is the later report


def test_front_line_units_agree(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    facts, conflicts = out
    front = _with(facts, "1,000-kilometer")
    _merged(front)
    assert any("620-mile" in c.quote for c in front.citations)
    assert len(front.agreement) == 1
    line = front.agreement[0]
    assert "1,000-kilometer [a1]" in line and "620-mile [a2]" in line and "≈" in line
    assert not [c for c in conflicts if "front" in c.label or "line" in c.label]


def test_single_source_facts(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    facts, _ = out
    for needle in ("788 Ukrainian drones", "13 civilians", "Belarusian border", "2022"):
        f = _with(facts, needle)
        assert f.single_source and f.corroboration == 1 and len(f.sources) == 1
    # "shot down six missiles" is not "fired 14 ballistic missiles": no conflict; and merging it into the
    # strike fact through the shared 245 would hide the six, so it stays a fact of its own.
    six = _with(facts, "six missiles")
    assert six.single_source and six.sources == ["a2"]
    assert six is not _with(facts, "14 ballistic missiles")


def test_ids_order_and_citations_kept(
    seeds: tuple[list[ArticleResult], dict[str, Article]], out: tuple[list[BriefFact], list[Conflict]]
) -> None:
    results, arts = seeds
    facts, _ = out
    assert [f.id for f in facts] == [f"f{i}" for i in range(1, len(facts) + 1)]
    # a1's facts come first (natural article order), in their own order.
    ap_texts = [f.text for f in next(r for r in results if r.article.id == "a1").facts]
    assert [f.text for f in facts[: len(ap_texts)]] == ap_texts
    all_in = {(c.article, c.start, c.end, c.quote) for r in results for f in r.facts for c in f.citations}
    all_out = [(c.article, c.start, c.end, c.quote) for f in facts for c in f.citations]
    assert set(all_out) == all_in  # every verified citation kept, unchanged
    for f in facts:
        assert len({(c.article, c.start, c.end) for c in f.citations}) == len(f.citations)
        for c in f.citations:
            assert arts[c.article].text[c.start : c.end] == c.quote
    # Same answer whatever the order of the results.
    again, _ = reconcile(list(reversed(results)), arts)
    assert [f.model_dump() for f in again] == [f.model_dump() for f in facts]


def _pair(text_a: str, text_b: str) -> tuple[list[BriefFact], list[Conflict]]:
    arts = {
        "a1": _synthetic("a1", text_a, dt.date(2025, 5, 24)),
        "a2": _synthetic("a2", text_b, dt.date(2025, 5, 25)),
    }
    results = []
    for art in arts.values():
        b = _Builder(art)
        b.fact(art.text, art.text)
        results.append(b.result())
    return reconcile(results, arts)


def test_bounds_decide_conflicts() -> None:
    base = "A drone attack on Kyiv left at least 15 people injured."
    facts, conflicts = _pair(base, "Officials said 18 people were injured in the drone attack on Kyiv.")
    assert conflicts == []  # 18 is at least 15
    assert len(facts) == 2  # compatible, not the same figure
    _, conflicts = _pair(base, "Officials said 12 people were injured in the drone attack on Kyiv.")
    assert len(conflicts) == 1 and conflicts[0].label == "injured"
    assert conflicts[0].latest == "a2"


def test_same_number_different_things_do_not_merge() -> None:
    facts, conflicts = _pair("Russia fired 14 ballistic missiles at Kyiv.", "The strikes on Kyiv killed 14 people.")
    assert len(facts) == 2 and all(f.single_source for f in facts)
    assert conflicts == []


def test_years_are_not_counted() -> None:
    facts, conflicts = _pair(
        "The full-scale invasion began in 2022, officials said.",
        "The full-scale invasion began in 2014, officials said.",
    )
    assert conflicts == []
    assert len(facts) == 2


def test_non_numeric_facts_merge_only_when_nearly_identical() -> None:
    facts, _ = _pair(
        "“A difficult night for all of us,” the administration said.",
        "“A difficult night for all of us,” the Kyiv administration said.",
    )
    assert len(facts) == 1 and facts[0].corroboration == 2
    facts, _ = _pair(
        "The exchange took place at the Belarusian border.",
        "Explosions were heard throughout Kyiv overnight.",
    )
    assert len(facts) == 2


def test_single_article_story() -> None:
    ap = seed_article("a1", "ap_2025-05-25.txt")
    b = _Builder(ap)
    b.fact("Each side returned 307 prisoners of war.", AP_307)
    b.fact("Each side returned 307 prisoners of war, after 390 on Friday.", AP_307)
    facts, conflicts = reconcile([b.result()], {"a1": ap})
    assert [f.id for f in facts] == ["f1", "f2"]  # same article: not merged with itself
    assert all(f.single_source for f in facts) and conflicts == []


def test_whole_sentences_exact_counts_stay_exact() -> None:
    """Facts that are whole sentences (as a weak model returns them): 250 and 245 both appear exactly in
    both; 250 must not be called "≈ 245" just because 250 could be a rounded figure."""
    ap, bbc = seed_article("a1", "ap_2025-05-25.txt"), seed_article("a2", "bbc_2025-05-24.txt")
    a, b = _Builder(ap), _Builder(bbc)
    a.fact(AP_STRIKE, AP_STRIKE)
    b.fact(BBC_STRIKE, BBC_STRIKE)
    facts, conflicts = reconcile([a.result(), b.result()], {"a1": ap, "a2": bbc})
    assert len(facts) == 1 and facts[0].corroboration == 2
    assert facts[0].text == BBC_STRIKE  # it states every figure of AP's sentence, and more
    assert facts[0].agreement == [] and conflicts == []


def test_two_figures_of_one_noun_in_both_facts_are_no_conflict() -> None:
    text = "Each side returned 307 prisoners of war, following an earlier swap of 390 detainees on Friday."
    facts, conflicts = _pair(text, text)
    assert conflicts == []  # 307 vs 390 "prisoners" inside the same statement is not a dispute
    assert len(facts) == 1 and facts[0].corroboration == 2
