"""Check a claim's figures against cited evidence: :func:`check_support` gives one :class:`Finding` per
figure, supported (exact, rounded, converted, bound, derived) or not, with the closest candidates."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field

from summarizer.quantities.compare import close, comparable, support
from summarizer.quantities.extract import Quantity, cached_quantities, readings
from summarizer.quantities.lexicon import EXACTISH, TOKEN_KINDS


class Evidence(BaseModel):
    label: str
    text: str


class Candidate(BaseModel):
    evidence: str
    quantity: Quantity


class Finding(BaseModel):
    quantity: Quantity
    supported: bool
    how: Literal["exact", "rounded", "converted", "bound", "derived", "unsupported"]
    # default_factory: pydantic deep-copies a literal [] default for every Finding (~20 µs each, profiled)
    matched: list[Candidate] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    reason: str = ""


class SupportReport(BaseModel):
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return all(f.supported for f in self.findings)

    @property
    def unsupported(self) -> list[Finding]:
        return [f for f in self.findings if not f.supported]

    def message(self) -> str:
        return "\n".join(f.reason for f in self.unsupported)


_SCALE_WORDS = {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}
_HOW_RANK = {"exact": 0, "converted": 1, "rounded": 2, "bound": 3}


def _distance(claim: Quantity, ev: Quantity) -> float:
    x, y = abs(claim.value), abs(ev.value)
    d = abs(math.log((x + 1e-9) / (y + 1e-9))) if x > 0 and y > 0 else abs(x - y)
    a, b = claim.text, ev.text
    digits_a, digits_b = sorted(c for c in a if c.isdigit()), sorted(c for c in b if c.isdigit())
    if digits_a and digits_a == digits_b:
        d *= 0.2  # a swapped-digit slip is the likeliest explanation
    if not comparable(claim, ev):
        d += 10.0  # other currency or dimension: only after every comparable figure
    return d


def _reason(q: Quantity, cands: list[Candidate]) -> str:
    if not cands:
        return f"you wrote {q.text}; no cited sentence gives this figure"
    c = cands[0]
    msg = f"you wrote {q.text}; {c.evidence} says {c.quantity.text}"
    cq = c.quantity
    if q.qualifier in EXACTISH and cq.qualifier not in EXACTISH and comparable(q, cq):
        msg += " (a bound or estimate, not an exact figure)"
    elif q.scale != cq.scale and q.scale in _SCALE_WORDS and cq.scale in _SCALE_WORDS:
        msg += f" ({_SCALE_WORDS[cq.scale]}, not {_SCALE_WORDS[q.scale]})"
    if len(cands) > 1:
        msg += " (also: " + "; ".join(f"{o.evidence} says {o.quantity.text}" for o in cands[1:]) + ")"
    return msg


def check_support(claim: str, evidence: Sequence[Evidence], *, allow_derived: bool = True) -> SupportReport:
    """Check every figure of ``claim`` against the figures of the cited ``evidence``."""
    return check_support_texts(claim, [(ev.label, ev.text) for ev in evidence], allow_derived=allow_derived)


def check_support_texts(
    claim: str, evidence: Sequence[tuple[str, str]], *, allow_derived: bool = True
) -> SupportReport:
    """:func:`check_support` with evidence as (label, text) pairs (no model objects to build per call)."""
    claim_q = cached_quantities(claim)
    if not claim_q:
        return SupportReport(findings=[])  # nothing to check: the evidence need not be read
    ev_q: list[tuple[str, int, Quantity]] = []
    for k, (label, text) in enumerate(evidence):
        for q in cached_quantities(text):
            ev_q += [(label, k, r) for r in readings(q)]
    by_value: dict[tuple[str, float], list[tuple[str, int, Quantity]]] = {}
    for item in ev_q:
        by_value.setdefault((item[2].kind, round(item[2].value, 6)), []).append(item)

    findings: list[Finding] = []
    for q in claim_q:
        best: tuple[int, Any, str, Quantity] | None = None
        for r in readings(q):
            # Fast path: an evidence figure with the very same value.
            for label, _k, e in by_value.get((r.kind, round(r.value, 6)), ()):
                how = support(r, e)
                if how and (best is None or _HOW_RANK[how] < _HOW_RANK[best[1]]):
                    best = (_HOW_RANK[how], how, label, e)
            if best is None or best[0] > 0:
                for label, _k, e in ev_q:
                    if e.kind != r.kind:
                        continue
                    how = support(r, e)
                    if how and (best is None or _HOW_RANK[how] < _HOW_RANK[best[1]]):
                        best = (_HOW_RANK[how], how, label, e)
        if best is not None:
            findings.append(Finding(quantity=q, supported=True, how=best[1],
                                    matched=[Candidate(evidence=best[2], quantity=best[3])]))  # fmt: skip
            continue
        if allow_derived:
            derived = _derive(q, ev_q, evidence)
            if derived:
                findings.append(Finding(quantity=q, supported=True, how="derived", matched=derived,
                                        reason=f"{q.text} = {_derived_text(q, derived)}"))  # fmt: skip
                continue
            listed = enumerated(q, claim, evidence)
            if listed:
                label, items = listed
                findings.append(Finding(quantity=q, supported=True, how="derived",
                                        reason=f"{q.text} = counted in {label}: {', '.join(items)}"))  # fmt: skip
                continue
        sheet = match_minute(q, claim, evidence)
        listed_at = f"the goals list of {sheet.label}: {sheet.scorer} {', '.join(sheet.minutes)}" if sheet else ""
        if sheet and sheet.theirs:
            at = [Candidate(evidence=lbl, quantity=e) for lbl, _k, e in ev_q
                  if lbl == sheet.label and e.kind == "count" and str(round(e.value)) == sheet.minute][:1]  # fmt: skip
            findings.append(Finding(quantity=q, supported=True, how="derived", matched=at,
                                    reason=f"{q.text} = {listed_at}"))  # fmt: skip
            continue
        same_kind = [(lbl, e) for lbl, _k, e in ev_q if e.kind == q.kind]
        pool = same_kind or [(lbl, e) for lbl, _k, e in ev_q if e.kind not in TOKEN_KINDS or e.kind == q.kind]
        pool.sort(key=lambda t: _distance(q, t[1]))
        cands: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        for lbl, e in pool:
            if (lbl, e.text) in seen:
                continue
            seen.add((lbl, e.text))
            cands.append(Candidate(evidence=lbl, quantity=e))
            if len(cands) == 3:
                break
        # The scorer is listed at other minutes: say so, not the nearest other figure.
        reason = f"you wrote {q.text}; {listed_at}" if sheet else _reason(q, cands)
        findings.append(Finding(quantity=q, supported=False, how="unsupported", candidates=cands,
                                reason=reason))  # fmt: skip
    return SupportReport(findings=findings)


# Between the two figures of a ratio: "one in four", "nine out of 10". They are no sum ("one in five" is no 1 + 4).
_RATIO_GAP = re.compile(r"[ \t]+(?:in|out[ \t]+of)[ \t]+")


def _derive(q: Quantity, ev_q: list[tuple[str, int, Quantity]], evidence: Sequence[tuple[str, str]]) -> list[Candidate]:
    """Two exact figures of one evidence item whose sum or difference is ``q`` (same kind and unit), not the
    two terms of a ratio."""
    if q.kind not in ("count", "money", "measure") or q.qualifier != "exact" or q.unit == "age":
        return []  # nobody's age is a sum
    groups: dict[int, list[tuple[str, Quantity]]] = {}
    for label, k, e in ev_q:
        if e.qualifier == "exact" and comparable(q, e) and e.value != 0 and e.unit != "age":
            groups.setdefault(k, []).append((label, e))
    for k, items in groups.items():
        for x in range(len(items)):
            for y in range(len(items)):
                if x == y:
                    continue
                a, b = items[x][1], items[y][1]
                if not ((x < y and close(a.value + b.value, q.value)) or close(a.value - b.value, q.value)):
                    continue
                first, second = (a, b) if a.start < b.start else (b, a)
                if not _RATIO_GAP.fullmatch(evidence[k][1], first.end, second.start):
                    return [
                        Candidate(evidence=items[x][0], quantity=a),
                        Candidate(evidence=items[y][0], quantity=b),
                    ]
    return []


def _derived_text(q: Quantity, ops: list[Candidate]) -> str:
    a, b = ops[0].quantity, ops[1].quantity
    op = "+" if close(a.value + b.value, q.value) else "-"
    return f"{a.text} {op} {b.text} ({ops[0].evidence})"


_NAME = r"[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)*"
_LIST_RE = re.compile(
    rf"[ \t]*(?::|,|\bincluding|\bnamed|\bwere|\bare)?[ \t]*({_NAME})((?:,[ \t]+{_NAME})*),?[ \t]+and[ \t]+({_NAME})"
)
_ORDINAL_BEFORE_RE = re.compile(
    r"(?i)\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))[ \t]+$"
)
MAX_ENUMERATED = 12


def enumerated(q: Quantity, claim: str, evidence: Sequence[tuple[str, str]]) -> tuple[str, list[str]] | None:
    """A small exact count the evidence supports by listing the things: (evidence label, the items).

    Three ways to list: "seven times" from seven distinct years; "two goals" from "the first goal … the
    second goal" (distinct ordinals before the noun); "three sons: Tom, Dick and Harry" (names listed right
    after the noun). Marked as derived, like sums.
    """
    if q.kind != "count" or q.qualifier != "exact" or q.unit is not None or not 2 <= q.value <= MAX_ENUMERATED:
        return None
    from summarizer.text import is_content, lemma, words

    after = words(claim[q.end : q.end + 40])[:1]
    if not after or not is_content(after[0]):
        return None
    noun, n = lemma(after[0]), int(q.value)
    for label, text in evidence:
        if noun == "time":
            years = sorted({e.text for e in cached_quantities(text) if e.kind == "year"})
            if len(years) == n:
                return label, years
        ordinals: set[str] = set()
        for m in re.finditer(r"[A-Za-z][A-Za-z'’-]*", text):
            if lemma(m.group(0)) != noun:
                continue
            o = _ORDINAL_BEFORE_RE.search(text, max(0, m.start() - 20), m.start())
            if o:
                ordinals.add(o.group(1).lower())
            listed = _LIST_RE.match(text, m.end())
            if listed:
                items = [
                    listed.group(1),
                    *(p.strip() for p in listed.group(2).split(",") if p.strip()),
                    listed.group(3),
                ]
                if len(set(items)) == n:
                    return label, items
        if len(ordinals) == n:
            return label, sorted(ordinals)
    return None


# A match sheet's goals ("Goals: Wells 12, Vaughan 30", "Goals: Benteke 10, 33, 83 (pen)"): each scorer's minutes.
_GOALS_RE = re.compile(r"\bGoals?[ \t]*:[ \t]*")
_GOALS_END = re.compile(r"\.(?:\s|$)|\b[A-Z][a-z]+(?:[ \t][a-z]+)?[ \t]*:")
_MINUTES = r"\d{1,3}(?:[ \t]*\+[ \t]*\d{1,2})?(?:[ \t]*\(?(?:pen|og|p)\)?)?"
_SCORER_RE = re.compile(rf"([A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)*)[ \t]+({_MINUTES}(?:[ \t]*,[ \t]*{_MINUTES})*)")
_MINUTE_AFTER_RE = re.compile(r"[ \t]*-?[ \t]*minutes?\b")
_AFTER_BEFORE_RE = re.compile(r"(?i)\b(?:after|in)[ \t]+(?:just[ \t]+|only[ \t]+)?$")


def goals_listed(text: str) -> dict[str, list[str]]:
    """Scorer (the name as the list writes it) -> the minutes the goals list of ``text`` gives ({} for none)."""
    out: dict[str, list[str]] = {}
    for g in _GOALS_RE.finditer(text):
        end = _GOALS_END.search(text, g.end())
        region = text[g.end() : end.start() if end else g.end() + 300]
        for m in _SCORER_RE.finditer(region):
            minutes = [re.match(r"\d+", p.strip()).group(0) for p in m.group(2).split(",")]  # type: ignore[union-attr]
            out.setdefault(m.group(1), []).extend(minutes)
    return out


class MatchSheet(NamedTuple):
    label: str  # the evidence item holding the goals list
    scorer: str
    theirs: bool  # whether the claim's minute is one of the scorer's
    minutes: list[str]
    minute: str  # the claim's


def match_minute(q: Quantity, claim: str, evidence: Sequence[tuple[str, str]]) -> MatchSheet | None:
    """A match minute ("in the 30th minute", "after 12 minutes") checked against a goals list of the evidence
    that names the claim's scorer; None when no goals list names one."""
    if q.kind == "ordinal" and _MINUTE_AFTER_RE.match(claim, q.end):
        minute = str(int(q.value))
    elif q.kind == "measure" and q.unit == "minute" and _AFTER_BEFORE_RE.search(claim[max(0, q.start - 12) : q.start]):
        minute = str(round(q.value / 60))  # a measure's value is in seconds
    else:
        return None
    named = {w.lower() for w in re.findall(r"[A-Z][\w'’-]+", claim)}
    runs: list[tuple[str, str]] = []  # a list the segmenter split at its semicolons, joined back
    for label, text in evidence:
        if runs and runs[-1][1].rstrip().endswith(";"):
            runs[-1] = (runs[-1][0], f"{runs[-1][1]} {text}")
        else:
            runs.append((label, text))
    found = None
    for label, text in runs:
        if "oal" not in text:
            continue  # no goals list: the regex need not run
        for scorer, minutes in goals_listed(text).items():
            if named.isdisjoint(scorer.lower().split()):
                continue
            if minute in minutes:
                return MatchSheet(label, scorer, True, minutes, minute)
            found = found or MatchSheet(label, scorer, False, minutes, minute)
    return found
