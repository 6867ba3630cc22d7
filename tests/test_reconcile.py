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
from summarizer.reconcile import ReconcileStats, reconcile, thinly_backed, trim_quote

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
    assert c.latest == "a1" and c.latest_reports == ["a1"]  # AP (25 May) is the later report
    assert c.newest == dt.date(2025, 5, 25)


def test_front_line_units_agree(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    facts, conflicts = out
    front = _with(facts, "620-mile")  # the shorter of two statements that cover each other is shown
    _merged(front)
    assert any("1,000-kilometer" in c.quote for c in front.citations)
    assert len(front.agreement) == 1
    agree = front.agreement[0]
    assert (agree.first.text, agree.first.article) == ("1,000-kilometer", "a1")
    assert (agree.second.text, agree.second.article) == ("roughly 620-mile", "a2")
    assert agree.second.citation.quote == BBC_FRONT
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


def test_ids_follow_rank_and_citations_kept(
    seeds: tuple[list[ArticleResult], dict[str, Article]], out: tuple[list[BriefFact], list[Conflict]]
) -> None:
    results, arts = seeds
    facts, conflicts = out
    assert [f.id for f in facts] == [f"f{i}" for i in range(1, len(facts) + 1)]
    # Ranked: every corroborated fact before any single-source one; conflict facts lead the single-source ones.
    corr = [f.corroboration for f in facts]
    assert corr == sorted(corr, reverse=True)
    single = [f for f in facts if f.single_source]
    assert [f.in_conflict for f in single] == sorted((f.in_conflict for f in single), reverse=True)
    assert {v.fact for c in conflicts for v in c.values} == {f.id for f in facts if f.in_conflict}
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


def test_one_source_repeating_itself_is_one_fact() -> None:
    ap = seed_article("a1", "ap_2025-05-25.txt")
    b = _Builder(ap)
    b.fact("Each side returned 307 prisoners of war.", AP_307)
    b.fact("Each side returned 307 prisoners of war, after 390 on Friday.", AP_307)
    b.fact("The exchange took place at the Belarusian border.", AP_BORDER)
    facts, conflicts = reconcile([b.result()], {"a1": ap})
    assert [f.text for f in facts] == [
        "Each side returned 307 prisoners of war, after 390 on Friday.",  # it states all the other one does
        "The exchange took place at the Belarusian border.",
    ]
    assert all(f.single_source and f.sources == ["a1"] for f in facts) and conflicts == []


def test_ap_title_line_and_lead_merge() -> None:
    """The AP file repeats its headline as a first paragraph, then the lead says it again at length."""
    ap = seed_article("a1", "ap_2025-05-25.txt")
    short = (
        "Russia and Ukraine exchanged hundreds of prisoners Saturday even as deadly Russian drone and missile "
        "strikes battered Kyiv and other regions."
    )
    lead = ap.text[ap.text.index("Russia and Ukraine exchanged hundreds of prisoners Saturday in") :].split("\n")[0]
    b = _Builder(ap)
    b.fact(short, short)
    b.fact(lead, lead)
    facts, _ = reconcile([b.result()], {"a1": ap})
    assert len(facts) == 1 and facts[0].text == lead and len(facts[0].citations) == 2


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


def test_each_figure_carries_its_own_sources() -> None:
    """BBC's strike sentence covers AP's, so they merge; but only BBC reports six missiles and 128/117."""
    ap, bbc = seed_article("a1", "ap_2025-05-25.txt"), seed_article("a2", "bbc_2025-05-24.txt")
    a, b = _Builder(ap), _Builder(bbc)
    a.fact(AP_STRIKE, AP_STRIKE)
    b.fact(BBC_STRIKE, BBC_STRIKE)
    (fact,), _ = reconcile([a.result(), b.result()], {"a1": ap, "a2": bbc})
    assert fact.sources == ["a1", "a2"]
    by_text = {g.text: g for g in fact.figures}
    assert set(by_text) == {
        "14 ballistic missiles",
        "250 Shahed drones",
        "six missiles",
        "245 drones",
        "128 drones",
        "117 thwarted",
    }
    for both in ("14 ballistic missiles", "250 Shahed drones", "245 drones"):
        assert by_text[both].sources == ["a1", "a2"], both
        assert [c.quote for c in by_text[both].citations] == [AP_STRIKE, BBC_STRIKE]
    for bbc_only in ("six missiles", "128 drones", "117 thwarted"):
        assert by_text[bbc_only].sources == ["a2"], bbc_only
    assert {g.text for g in thinly_backed(fact)} == {"six missiles", "128 drones", "117 thwarted"}
    for g in fact.figures:
        assert fact.text[g.start : g.end] in g.text


def test_figure_sources_come_from_the_whole_story(out: tuple[list[BriefFact], list[Conflict]]) -> None:
    # AP's strike fact states 245; BBC says 245 in a fact of its own (with the six missiles): both back it.
    facts, _ = out
    strike = _with(facts, "14 ballistic missiles")
    (g245,) = [g for g in strike.figures if g.value == 245]
    assert g245.sources == ["a1", "a2"]
    six = _with(facts, "six missiles")
    assert [g.sources for g in six.figures if g.value == 6] == [["a2"]]


def test_same_event_without_figures_corroborates() -> None:
    facts, _ = _pair(
        "Debris also fell on a shopping mall and residential buildings in Kyiv.",
        "Drone debris fell on a shopping mall and a residential building in Obolon district of Kyiv.",
    )
    assert len(facts) == 1 and facts[0].corroboration == 2 and facts[0].sources == ["a1", "a2"]
    # Other names, other event: no merge even with words in common.
    facts, _ = _pair(
        "Debris fell on a shopping mall and residential buildings in Kharkiv.",
        "Drone debris fell on a shopping mall and a residential building in Obolon district of Kyiv.",
    )
    assert len(facts) == 2


def test_near_duplicates_with_different_figures_stay_apart_as_a_conflict() -> None:
    facts, conflicts = _pair(
        "A Russian drone attack on Kyiv overnight left 10 people injured, officials said.",
        "A Russian drone attack on Kyiv overnight left 12 people injured, officials said.",
    )
    assert len(facts) == 2 and len(conflicts) == 1
    assert {v.value for v in conflicts[0].values} == {"10", "12"}
    assert all(f.in_conflict for f in facts)


def _code(k: int) -> str:
    return "".join("bcdfghjklm"[int(d)] for d in str(k)).capitalize() + "ville"


def _report_story(n: int) -> tuple[list[ArticleResult], dict[str, Article]]:
    """``n`` reports of one event: the same two figures in varied words, injured counts that disagree
    (10 or 12), and a detail of their own (a founding year) that nothing else states."""
    results, arts = [], {}
    for k in range(1, n + 1):
        aid = f"a{k}"
        injured = 10 if k % 2 else 12
        town = _code(k)
        sentences = [
            f"Officials in {town} said each side returned 307 prisoners of war on Saturday.",
            f"A drone attack on Kyiv left {injured} people injured, according to the {town} Herald.",
            f"Russia fired 14 ballistic missiles at Kyiv overnight, the {town} Herald reported.",
            f"The {town} Herald, founded in {1800 + k}, sent reporters to Kyiv for the first time.",
        ]
        text = " ".join(sentences)
        art = _synthetic(aid, text, dt.date(2025, 5, 1) + dt.timedelta(days=k % 28))
        arts[aid] = art
        b = _Builder(art)
        for sent in sentences:
            b.fact(sent, sent)
        results.append(b.result())
    return results, arts


def test_a_200_report_story_is_reconciled_in_near_linear_work() -> None:
    work = {}
    for n in (50, 100, 200):
        results, arts = _report_story(n)
        stats = ReconcileStats()
        facts, conflicts = reconcile(results, arts, stats=stats)
        work[n] = stats.comparisons
        n_facts = 4 * n
        # Bounded work per fact (an all-pairs comparison would be n_facts**2 / 2 = 320,000 at 200 reports).
        assert stats.comparisons <= 60 * n_facts, (n, stats)
        # The shared figures merged into one fact each, with every source; the disagreement is found.
        f307 = _with(facts, "307 prisoners")
        assert f307.corroboration == n
        assert _with(facts, "14 ballistic missiles").corroboration == n
        (injured,) = conflicts
        assert {v.value for v in injured.values} == {"10", "12"}
        assert {v.article for v in injured.values} == set(arts)
        # The composed narrative leads with what all agree on, then the disagreement, each value once.
        from summarizer.merge import compose_narrative

        first, second = compose_narrative(facts, conflicts).split(". ")[:2]
        assert first.startswith(f"{n} sources report 307 prisoners") and "injured" not in first
        assert second.startswith(f"Sources differ on the injured: {n // 2} sources report 10 injured")
    # Doubling the story at most doubles the work (plus slack): near-linear, not quadratic.
    assert work[200] <= 2.3 * work[100] and work[100] <= 2.3 * work[50], work


def test_trim_quote_keeps_the_clause_with_the_figures() -> None:
    from summarizer.segment import segment

    bbc = seed_article("a2", "bbc_2025-05-24.txt")
    doc = segment(bbc)

    def quoted(sentence: str) -> Fact:
        (s,) = [s for s in doc.sentences if s.text == sentence]
        return Fact(id=f"x{s.id}", text=sentence, citations=[doc.quote(s.id)], origin="extractive")

    f = quoted(BBC_1000)
    t = trim_quote(f, doc)
    assert t.text == "Kyiv and Moscow agreed to swap 1,000 prisoners of war and civilian detainees each."
    (c,) = t.citations
    assert bbc.text[c.start : c.end] == c.quote == t.text and c.sentence == f.citations[0].sentence
    assert trim_quote(quoted(BBC_FRONT), doc).text == (
        "Battles continued along the roughly 620-mile front line, where tens of thousands of soldiers have been killed"
    )
    # Attribution is never cut off ("according to local officials"); LLM facts are left as written.
    inj = quoted(BBC_INJ)
    assert trim_quote(inj, doc) == inj
    llm = f.model_copy(update={"origin": "llm"})
    assert trim_quote(llm, doc) == llm


def test_support_sentences_corroborate_but_never_become_facts() -> None:
    a1 = _synthetic(
        "a1", "Debris also fell on a shopping mall and residential buildings in the capital.", dt.date(2025, 5, 24)
    )
    text2 = (
        "Drone debris fell on a shopping mall and a residential building in Obolon district of Kyiv. "
        "The council will meet on Monday to discuss the budget for the coming year."
    )
    a2 = _synthetic("a2", text2, dt.date(2025, 5, 25))
    b1, b2 = _Builder(a1), _Builder(a2)
    b1.fact(a1.text, a1.text)
    sentences = text2.split(". ")
    support = {"a2": [b2.fact(sentences[0] + ".", sentences[0] + "."), b2.fact(sentences[1], sentences[1])]}
    b2.facts.clear()  # a2 has no fact of its own: its sentences only support
    facts, conflicts = reconcile([b1.result(), b2.result()], {"a1": a1, "a2": a2}, support=support)
    (fact,) = facts  # the council sentence supports nothing and is not a fact
    assert fact.text == a1.text and fact.sources == ["a1", "a2"] and conflicts == []
    assert [c.quote for c in fact.citations] == [a1.text, sentences[0] + "."]


def test_event_terms_are_the_plain_word_loops() -> None:
    """event_terms' fast form (a regex for words of 3+ letters, a stem cache per word) equals the loop it replaced."""
    from conftest import AP, BBC, lee_corpus

    from summarizer.reconcile import _STOP_OR_GENERIC, EventTerms, _stem, event_terms
    from summarizer.text import WORD

    def reference(text: str) -> EventTerms:
        sequence: list[str] = []
        names: set[str] = set()
        for m in WORD.finditer(text):
            w = m.group()
            if len(w) <= 2 or w.lower() in _STOP_OR_GENERIC:
                continue
            s = _stem(w)
            sequence.append(s)
            if m.start() > 0 and w[0].isupper():
                names.add(s)
        return EventTerms(frozenset(sequence), frozenset(names), tuple(sequence))

    texts = [AP.read_text(encoding="utf-8"), BBC.read_text(encoding="utf-8"), *lee_corpus()]
    texts += [t[k:] for t in texts[:40] for k in (1, 2, 3, 5)]  # starting inside or right before a word
    texts += ["Ab cd", "Abc", "The Kyiv", "x-Ray's Kyiv", "ab'-cd Kyiv’s", "   Kyiv", "1Kyiv", ""]
    for text in texts:
        assert event_terms(text) == reference(text), text[:80]
