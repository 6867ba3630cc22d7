"""verify: decide what LLM output may enter the brief.

- Every cited sentence id exists.
- Every number in a fact is supported by its cited sentences; every number in the headline and
  summary by the article (the quantity check lives in ``quantities``).
- Words are grounded too: a fact must mostly use words of its cited sentences, and names in it must
  appear there, so a swapped name or an invented claim without figures is caught as well.
Failures become ``Rejection`` records with reasons (the audit), and the same reasons drive the re-ask.
An article left with no verified fact gets its lead sentences as extractive evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from summarizer.models import (
    ArticleRef,
    ArticleResult,
    Citation,
    Document,
    Fact,
    LLMExtraction,
    Rejection,
    Usage,
)

MAX_FACT_CHARS = 400
MIN_WORD_SUPPORT = 0.7
LEAD_SENTENCES = 3

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_STOP = frozenset(
    """a an and are as at be been but by for from had has have he her his in into is it its of on or our
    said says she that the their them there they this to was were which while who will with would not no
    also after before than then over under about more most some such up out one two three all any each
    other per via new""".split()
)


def _stem(word: str) -> str:
    # A crude prefix stem: "injured"/"injuring", "prisoner"/"prisoners" meet; good enough for grounding.
    w = word.lower().strip("'’-")
    return w[:6] if len(w) > 6 else w.rstrip("s")


def content_stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in _STOP}


def _names(text: str) -> set[str]:
    """Capitalised words not at a sentence start: the names a fact must not invent."""
    names: set[str] = set()
    for m in _WORD.finditer(text):
        w = m.group(0)
        if not w[0].isupper() or w.lower() in _STOP:
            continue
        before = text[: m.start()].rstrip()
        if not before or before[-1] in ".!?:\"“":
            continue
        names.add(w.lower().rstrip("'’s").rstrip("’"))
    return names


def grounding_problems(claim: str, evidence: str) -> list[str]:
    """Word-level support of ``claim`` by ``evidence``: empty list means grounded."""
    problems: list[str] = []
    claim_stems = content_stems(claim)
    if claim_stems:
        ev_stems = content_stems(evidence)
        missing = sorted(claim_stems - ev_stems)
        share = 1 - len(missing) / len(claim_stems)
        if share < MIN_WORD_SUPPORT:
            problems.append(
                f"only {share:.0%} of its words are in the cited text (not found: {', '.join(missing[:6])})"
            )
    ev_lower = evidence.lower()
    invented = sorted(n for n in _names(claim) if n not in ev_lower)
    if invented:
        problems.append("names not in the cited text: " + ", ".join(invented[:5]))
    return problems


def number_problems(claim: str, evidence: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(problems, labels of evidence that supported a number). Evidence is (label, text) pairs."""
    from summarizer.quantities import Evidence, check_support

    report = check_support(claim, [Evidence(label=label, text=text) for label, text in evidence])
    problems = [f.reason or f"{f.quantity.text!r} is not supported" for f in report.unsupported]
    used = [c.evidence for f in report.findings if f.supported for c in f.matched]
    return problems, used


@dataclass
class FactVerdict:
    ok: bool
    reasons: list[str] = field(default_factory=list)


def check_fact(text: str, sentence_ids: Sequence[int], doc: Document) -> FactVerdict:
    n = len(doc.sentences)
    reasons: list[str] = []
    if not text.strip():
        return FactVerdict(False, ["empty fact"])
    if len(text) > MAX_FACT_CHARS:
        reasons.append(f"fact is {len(text)} characters; keep it under {MAX_FACT_CHARS}")
    if not sentence_ids:
        return FactVerdict(False, [*reasons, "cites no sentence"])
    bad = [i for i in sentence_ids if not 0 <= i < n]
    if bad:
        return FactVerdict(False, [*reasons, f"cites sentence {bad[0]}, but the article has sentences 0 to {n - 1}"])
    cited = [doc.sentences[i] for i in dict.fromkeys(sentence_ids)]
    problems, _ = number_problems(text, [(f"sentence {s.id}", s.text) for s in cited])
    reasons += problems
    reasons += grounding_problems(text, " ".join(s.text for s in cited))
    return FactVerdict(not reasons, reasons)


def check_article_text(text: str, doc: Document) -> tuple[list[str], list[int]]:
    """Headline/summary against the whole article: (problems, ids of sentences backing its numbers)."""
    if not text.strip():
        return ["empty"], []
    evidence = [(f"sentence {s.id}", s.text) for s in doc.sentences]
    problems, used = number_problems(text, evidence)
    problems += grounding_problems(text, doc.article.text)
    ids = sorted({int(label.split()[-1]) for label in used})
    return problems, ids


def feedback(extraction: LLMExtraction, doc: Document) -> list[str]:
    """Every problem in one extraction, phrased for the model's re-ask."""
    issues: list[str] = []
    problems, _ = check_article_text(extraction.headline, doc)
    issues += [f"headline: {p}" for p in problems]
    problems, _ = check_article_text(extraction.summary, doc)
    issues += [f"summary: {p}" for p in problems]
    if not extraction.facts:
        issues.append("facts: give at least one fact citing its sentence ids")
    for i, fact in enumerate(extraction.facts):
        verdict = check_fact(fact.text, fact.sentence_ids, doc)
        issues += [f"facts[{i}]: {r}" for r in verdict.reasons]
    return issues


def ref(doc: Document) -> ArticleRef:
    a = doc.article
    return ArticleRef(id=a.id, path=a.path, title=a.title, date=a.date)


def extractive_facts(doc: Document, n: int = LEAD_SENTENCES) -> list[Fact]:
    """The lead sentences, verbatim: evidence that needs no model."""
    picked = [s for s in doc.sentences if len(s.text) >= 40 and len(_WORD.findall(s.text)) >= 6][:n]
    if not picked:
        picked = doc.sentences[:n]
    return [
        Fact(id=f"{doc.article.id}-x{s.id}", text=s.text, citations=[doc.quote(s.id)], origin="extractive")
        for s in picked
    ]


def verify_extraction(
    extraction: LLMExtraction | None,
    doc: Document,
    *,
    attempt: int = 0,
    rejected: Sequence[Rejection] = (),
    usage: Usage | None = None,
    events: Sequence[str] = (),
) -> ArticleResult:
    """Keep only what passes; everything else goes to ``rejected`` with reasons."""
    aid = doc.article.id
    audit: list[Rejection] = list(rejected)
    facts: list[Fact] = []
    headline: str | None = None
    summary: str | None = None
    summary_citations: list[Citation] = []
    n_llm_facts = 0
    if extraction is not None:
        problems, _ = check_article_text(extraction.headline, doc)
        if problems:
            audit.append(Rejection(article=aid, field="headline", content=extraction.headline, reasons=problems,
                                   attempt=attempt))
        else:
            headline = extraction.headline.strip()
        problems, ids = check_article_text(extraction.summary, doc)
        if problems:
            audit.append(Rejection(article=aid, field="summary", content=extraction.summary, reasons=problems,
                                   attempt=attempt))
        else:
            summary = extraction.summary.strip()
            summary_citations = [doc.quote(i) for i in ids]
        seen: set[str] = set()
        for fact in extraction.facts:
            n_llm_facts += 1
            verdict = check_fact(fact.text, fact.sentence_ids, doc)
            key = " ".join(fact.text.lower().split())
            if verdict.ok and key in seen:
                continue
            if not verdict.ok:
                audit.append(Rejection(article=aid, field="fact",
                                       content=f"{fact.text} (sentences {fact.sentence_ids})",
                                       reasons=verdict.reasons, attempt=attempt))
                continue
            seen.add(key)
            cites = [doc.quote(i) for i in dict.fromkeys(fact.sentence_ids)]
            facts.append(Fact(id=f"{aid}-f{len(facts) + 1}", text=fact.text.strip(), citations=cites))
    status: str
    if not facts:
        facts = extractive_facts(doc)
        status = "extractive"
    elif len(facts) < n_llm_facts or headline is None or summary is None:
        status = "partial"
    else:
        status = "verified"
    return ArticleResult(
        article=ref(doc),
        status=status,  # type: ignore[arg-type]
        headline=headline,
        summary=summary,
        summary_citations=summary_citations,
        facts=facts,
        rejected=audit,
        events=list(events),
        attempts=attempt,
        usage=usage or Usage(),
    )
