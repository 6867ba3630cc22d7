"""Check any summary (ours, a person's, another tool's) against its sources, claim by claim.

Every figure in the summary must be stated by some sentence of some source (see the support rules in
:mod:`summarizer.quantities`). The other parts of each sentence are checked the way verify checks a
headline (:func:`summarizer.verify.check_text`): names and content words against the sources, negation,
modality and speaker against the source sentences it is closest to. ``only="numbers"`` checks figures
alone, as ``summarizer verify`` did before. What is ignored in the summary, because it is markup rather
than a claim:

* markdown citation markers (``[1]``, ``[2, 3]``, ``[^1]``), link targets (``[text](url)`` keeps ``text``),
  bare URLs, emphasis and code markers, table bars, block-quote markers;
* list numbering and bullets at the start of a line (``1.``, ``2)``, ``-``, ``*``);
* years, dates and times in headings (a brief's heading usually carries its own date); other numbers in
  headings are checked like any sentence; a heading's words are not ("Key facts" claims nothing).

Spans in a reported finding index :attr:`SummaryIssue.sentence`, the cleaned sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

from summarizer.quantities import Evidence, Finding, check_support
from summarizer.text import MARKER
from summarizer.verify import CLAIM_CHECKS, Part, Problem, check_text, counted_mismatch, name_stated

_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+")
_LIST_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_QUOTE_RE = re.compile(r"^\s*>\s?")
_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL_RE = re.compile(r"<?https?://\S+>?")
_EMPH_RE = re.compile(r"(\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*]))")
_SENT_RE = re.compile(r"[^.!?]+(?:[.!?]+[\"'”’)\]]*|$)")
_NOT_IN_HEADINGS = ("year", "date", "time")


class SummaryIssue(BaseModel):
    sentence: str
    finding: Finding


class SentenceReport(BaseModel):
    """One sentence of the summary: the source sentences it was aligned with and which checks failed."""

    sentence: str
    heading: bool = False
    evidence: list[str] = Field(default_factory=list, description="labels of the closest source sentences")
    failed: list[Part] = Field(default_factory=list, description="the checks that failed, e.g. number, entity")
    problems: list[Problem] = Field(default_factory=list)


class VerifyReport(BaseModel):
    sources: list[str]
    checks: list[Part] = Field(default_factory=lambda: list(CLAIM_CHECKS))
    numbers_checked: int
    supported: int
    issues: list[SummaryIssue]
    sentences: list[SentenceReport] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues and not any(s.failed for s in self.sentences)


def _default_splitter() -> Callable[[str], list[tuple[int, int]]]:
    try:
        from summarizer.segment import split_sentences

        split_sentences("Probe. Text.")
        return split_sentences
    except Exception:  # syntok missing: fall back to a plain regex splitter
        return _regex_split


def _regex_split(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENT_RE.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
    return spans


def _clean_line(line: str) -> str:
    line = _QUOTE_RE.sub("", line)
    line = _LIST_RE.sub("", line)
    line = _LINK_RE.sub(r"\1", line)
    line = _URL_RE.sub(" ", line)
    line = MARKER.sub("", line)
    line = _EMPH_RE.sub("", line)
    line = line.replace("|", " ")
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", line)).strip()


def summary_blocks(summary: str) -> list[tuple[str, bool]]:
    """The summary as cleaned text blocks (paragraphs, list items, headings): (text, is_heading)."""
    blocks: list[tuple[str, bool]] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            blocks.append((" ".join(para), False))
            para.clear()

    for raw in summary.splitlines():
        if _FENCE_RE.match(raw):
            in_fence = not in_fence
            flush()
            continue
        if in_fence or re.fullmatch(r"\s*([-*_=]\s*){3,}", raw):
            continue  # code blocks and rules are not prose
        h = _HEADING_RE.match(raw)
        if h:
            flush()
            text = _clean_line(raw[h.end() :].rstrip("# "))
            if text:
                blocks.append((text, True))
            continue
        if not raw.strip():
            flush()
            continue
        if _LIST_RE.match(raw):
            flush()
        text = _clean_line(raw)
        if text:
            para.append(text)
    flush()
    return blocks


def source_evidence(
    sources: Sequence[tuple[str, str]], split: Callable[[str], list[tuple[int, int]]] | None = None
) -> list[Evidence]:
    """Every sentence of every source, labelled like ``bbc.txt sentence 12`` (1-based)."""
    split = split or _default_splitter()
    evidence: list[Evidence] = []
    for name, text in sources:
        for i, (s, e) in enumerate(split(text), start=1):
            evidence.append(Evidence(label=f"{name} sentence {i}", text=text[s:e]))
    return evidence


def verify_summary(
    summary: str,
    sources: Sequence[tuple[str, str]],
    *,
    split_sentences: Callable[[str], list[tuple[int, int]]] | None = None,
    only: str | None = None,
) -> VerifyReport:
    """Check every sentence of ``summary`` against every sentence of ``sources`` ((name, text) pairs).

    ``only="numbers"`` checks figures alone (the behaviour before claims were checked part by part).
    """
    if only not in (None, "numbers"):
        raise ValueError(f"only: unknown check {only!r}; use 'numbers'")
    split = split_sentences or _default_splitter()
    evidence = source_evidence(sources, split)
    pairs = [(ev.label, ev.text) for ev in evidence]
    checks: list[Part] = ["number"] if only == "numbers" else list(CLAIM_CHECKS)
    others = [c for c in checks if c != "number"]
    checked = supported = 0
    issues: list[SummaryIssue] = []
    sentences: list[SentenceReport] = []
    texts = [ev.text for ev in evidence]
    by_label = dict(pairs)
    for block, heading in summary_blocks(summary):
        for s, e in split(block):
            sentence = block[s:e]
            report = check_support(sentence, evidence)
            row = SentenceReport(sentence=sentence, heading=heading)
            for f in report.findings:
                if heading and f.quantity.kind in _NOT_IN_HEADINGS:
                    continue
                checked += 1
                # As the verify stage reads figures: a count counts what the source's does ("13 injured" is not
                # "13 killed"), and a number that is part of a name ("Bali 9") is the name's.
                other = counted_mismatch(sentence, f, by_label) if f.supported else None
                if other:
                    f = f.model_copy(update={"supported": False, "how": "unsupported", "reason": other,
                                             "candidates": f.matched, "matched": []})  # fmt: skip
                if f.supported or name_stated(sentence, f.quantity.start, f.quantity.end, texts):
                    supported += 1
                else:
                    issues.append(SummaryIssue(sentence=sentence, finding=f))
                    row.problems.append(Problem(part="number", detail=f.reason))
            if others and not heading:
                (one,) = check_text(sentence, pairs, checks=others, split=lambda t: [(0, len(t))])
                row.evidence, row.problems = one.evidence, [*row.problems, *one.problems]
            row.failed = list(dict.fromkeys(p.part for p in row.problems))
            sentences.append(row)
    return VerifyReport(sources=[name for name, _ in sources], checks=checks, numbers_checked=checked,
                        supported=supported, issues=issues, sentences=sentences)  # fmt: skip


def format_report(report: VerifyReport) -> str:
    """Human-readable: each unsupported number, its sentence, and the closest source figures."""
    n_bad = len(report.issues)
    lines = [
        f"Checked {report.numbers_checked} number(s) against {len(report.sources)} source(s) "
        f"({', '.join(report.sources)}): {report.supported} supported, {n_bad} unsupported."
    ]
    for issue in report.issues:
        q = issue.finding.quantity
        lines.append("")
        lines.append(f"✗ {q.text!r} ({q.kind}) is not supported")
        lines.append(f"  in: {issue.sentence}")
        lines.append(f"  {issue.finding.reason}")
        if issue.finding.candidates:
            lines.append("  closest source figures:")
            for c in issue.finding.candidates:
                lines.append(f"    - {c.quantity.text!r} in {c.evidence}")
        else:
            lines.append("  no source states a figure of this kind")
    failing = [s for s in report.sentences if any(p.part != "number" for p in s.problems)]
    for row in failing:
        lines.append("")
        lines.append(f"✗ {', '.join(p for p in row.failed if p != 'number')}: {row.sentence}")
        lines += [f"  {p}" for p in row.problems if p.part != "number"]
        if row.evidence:
            lines.append(f"  closest source sentences: {'; '.join(row.evidence)}")
    if not n_bad and not failing:
        lines.append("All numbers are supported by the sources." if report.checks == ["number"] else
                     "Every sentence is supported by the sources.")  # fmt: skip
    return "\n".join(lines)
