"""Benchmark claim verification on real model summaries that people annotated for factual errors.

Data: ``/work/shared/data/faithfulness`` (CLIFF and Goyal'21 via AggreFact; see its README). Each
summary sentence is fed to the verify stage as a fact, citing the 1-2 article sentences that share the
most content with it, plus the sentence stating a figure neither of them states (3 at most), as a careful
model would cite them. Printed side by side, in one run:

* **new**: today's :func:`summarizer.verify.check_fact`;
* **old**: the verifier as it was before issue 12, loaded from git (commit ``LEGACY_COMMIT``) into
  throw-away modules, so the comparison needs no copy of the old code in the tree;
* **digits**: a digit-substring check (every digit run of the claim occurs in the cited text).

Figures: *yield* = share of sentences from summaries judged correct that pass; *catch* = share of
sentences holding an annotated error span that are rejected; catch per error type. Then the
whole-summary flag rate of ``summarizer verify`` (:func:`summarizer.factcheck.verify_summary`) on the
correct summaries holding at least one number, new (all checks) vs ``--only numbers`` vs old.

    python benchmarks/bench_claims.py [--data DIR] [--examples N]
    python benchmarks/bench_claims.py --subset tests/data/claim_cases_subset.jsonl
    python benchmarks/bench_claims.py --write-subset   # (re)write the fixed 100-case test subset
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import random
import re
import subprocess
import sys
import types
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from summarizer.models import Article, Document  # noqa: E402
from summarizer.segment import segment, split_sentences  # noqa: E402
from summarizer.text import content_words  # noqa: E402
from summarizer.verify import MIN_WORD_SUPPORT  # noqa: E402

# ../shared/data/faithfulness next to the checkout (one level further up from a worktree under wt/).
_PLACES = (ROOT.parent / "shared/data/faithfulness", ROOT.parent.parent / "shared/data/faithfulness")
DATA = next((p for p in _PLACES if p.exists()), _PLACES[0])
SUBSET = ROOT / "tests" / "data" / "claim_cases_subset.jsonl"
LEGACY_COMMIT = "f5c7930fec48627fbb8f262306dc99f0a19f2df8"  # main before issue 12
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Case:
    """One summary sentence with the article sentences it cites and its label."""

    row: str
    sentence: str
    cited: list[int]
    correct: bool  # from a summary judged fully faithful
    error: bool  # holds an annotated error span
    types: list[str] = field(default_factory=list)
    origin: str = ""  # xsum or cnndm


@dataclass
class Row:
    key: str
    doc: str
    summary: str
    correct: bool
    spans: list[str]
    types: list[str]
    origin: str


def read_rows(data: Path) -> list[Row]:
    rows: list[Row] = []
    for name in ("CLIFF_error_types.csv", "Goyal21_error_types.csv"):
        with (data / name).open(encoding="utf-8", newline="") as fh:
            for i, r in enumerate(csv.DictReader(fh)):
                et = r["error_type"].strip()
                types = [] if et in ("", "correct") else [str(t) for t in ast.literal_eval(et)]
                spans: list[str] = []
                if r["annotated_span"].strip():
                    for item in ast.literal_eval(r["annotated_span"]):
                        spans += [str(s) for s in item] if isinstance(item, list) else [str(item)]
                key = f"{name.split('_')[0]}:{i}"
                rows.append(Row(key, r["doc"], r["summ"], et in ("", "correct"), spans, types, r["origin"]))
    return rows


def document(text: str, key: str = "a1") -> Document:
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return segment(Article(id=key, path=f"{key}.txt", title="", text=text, sha256=sha))


def _terms(text: str) -> frozenset[str]:
    # What a careful model matches on: content words and the figures it states (by value: "seven" is 7).
    from summarizer.quantities import cached_quantities

    return (
        content_words(text)
        | frozenset(_DIGITS.findall(text))
        | frozenset(f"{q.kind}={q.value:g}" for q in cached_quantities(text))
    )


def _states_figure(claim_q: Any, text: str, claim: str = "") -> bool:
    from summarizer.quantities import cached_quantities, relation
    from summarizer.quantities.report import match_minute

    if any(relation(claim_q, q) in ("same", "equivalent") for q in cached_quantities(text)):
        return True
    sheet = match_minute(claim_q, claim, [("s", text)]) if claim else None  # a scorer's minute, from the match sheet
    return bool(sheet and sheet.theirs)


def best_citations(claim: str, doc: Document) -> list[int]:
    """The sentences a careful model cites: the 1-2 sharing the most content words and figures with
    ``claim`` (the second only if it adds some), then, for a figure of the claim neither states, the
    best-overlapping sentence that states it (3 sentences at most)."""
    from summarizer.quantities import cached_quantities, scores

    words = _terms(claim)
    scored = sorted(((len(words & _terms(s.text)), -s.id) for s in doc.sentences), reverse=True)
    if not scored or scored[0][0] == 0:
        return [0] if doc.sentences else []
    first = -scored[0][1]
    cover = words & _terms(doc.sentences[first].text)
    best2 = max(
        (len((words & _terms(s.text)) - cover), -s.id) for s in doc.sentences if s.id != first
    ) if len(doc.sentences) > 1 else (0, 0)  # fmt: skip
    cited = [first, -best2[1]] if best2[0] > 0 else [first]
    for q in cached_quantities(claim):
        if len(cited) >= 3:
            break
        if any(_states_figure(q, doc.sentences[i].text, claim) for i in cited):
            continue
        stating = [(score, sid) for score, sid in scored if _states_figure(q, doc.sentences[-sid].text, claim)]
        if stating:
            cited.append(-stating[0][1])
    for pair in sorted(scores(claim)):  # and the sentence giving the score ("beat Stoke 2-1")
        if len(cited) < 3 and not any(pair in scores(doc.sentences[i].text) for i in cited):
            cited += [-sid for _, sid in scored if pair in scores(doc.sentences[-sid].text)][:1]
    return cited


def cases_of(row: Row, doc: Document) -> list[Case]:
    out: list[Case] = []
    for s, e in split_sentences(row.summary):
        sentence = row.summary[s:e]
        error = any(span and span in sentence for span in row.spans)
        if not row.correct and not error:
            continue  # a sentence of a flawed summary without an annotated span: no label
        cited = best_citations(sentence, doc)
        out.append(Case(row.key, sentence, cited, row.correct, error, row.types, row.origin))
    return out


def load_legacy() -> tuple[types.ModuleType, types.ModuleType]:
    """verify.py and factcheck.py (with their quantities.py) as of ``LEGACY_COMMIT``, as fresh modules."""
    mods: dict[str, types.ModuleType] = {}
    for name in ("quantities", "verify", "factcheck"):
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{LEGACY_COMMIT}:summarizer/{name}.py"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        src = src.replace("summarizer.quantities", "legacy_quantities")
        mod = types.ModuleType(f"legacy_{name}")
        sys.modules[mod.__name__] = mod
        exec(compile(src, f"<{LEGACY_COMMIT[:7]}:{name}.py>", "exec"), mod.__dict__)
        mods[name] = mod
    return mods["verify"], mods["factcheck"]


def digit_check(claim: str, cited: str) -> bool:
    return all(d in cited for d in _DIGITS.findall(claim))


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}% ({a}/{b})" if b else "   n/a"


def run(rows: Sequence[Row], limit_print: int = 0) -> dict[str, Any]:
    from summarizer import claims, factcheck, verify

    old_verify, old_factcheck = load_legacy()
    checkers: dict[str, Callable[[Case, Document], bool]] = {
        "new": lambda c, d: verify.check_fact(c.sentence, c.cited, d).ok,
        "old": lambda c, d: old_verify.check_fact(c.sentence, c.cited, d).ok,
        "digits": lambda c, d: digit_check(c.sentence, " ".join(d.sentences[i].text for i in c.cited)),
    }
    passed: dict[str, Counter[str]] = {k: Counter() for k in checkers}
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    whole: dict[str, Counter[str]] = {k: Counter() for k in ("new", "numbers", "old")}
    examples: list[str] = []
    sweep: list[tuple[bool, bool, bool, float]] = []  # (correct, error, other parts pass, content share)
    for row in rows:
        doc = document(row.doc)
        context = " ".join(s.text for s in doc.sentences if not verify.addresses_the_model(s.text))
        for case in cases_of(row, doc):
            groups = (["correct", f"correct:{case.origin}"] if case.correct else []) + (
                ["error", f"error:{case.origin}", *case.types] if case.error else []
            )
            totals.update(groups)
            problems = verify.check_fact(case.sentence, case.cited, doc).problems
            cited = " ".join(doc.sentences[i].text for i in case.cited)
            _, grounded = claims.entity_problems(case.sentence, cited, context)
            share, _ = verify.content_support(case.sentence, cited, grounded)
            sweep.append((case.correct, case.error, all(p.part == "content" for p in problems), share))
            if case.correct:
                # Beyond the article: a name or too many content words that no sentence of it holds. No check
                # bound to the source can keep such a sentence without keeping the same kind of error.
                names, whole_grounded = claims.entity_problems(case.sentence, context)
                whole_share, _ = verify.content_support(case.sentence, context, whole_grounded)
                beyond = bool(names) or whole_share < MIN_WORD_SUPPORT
                totals.update(["beyond", f"beyond:{case.origin}"] if beyond else [])
            for name, check in checkers.items():
                ok = check(case, doc)
                passed[name].update(g for g in groups if ok)
                if name == "new" and case.correct and not ok:
                    verdict = verify.check_fact(case.sentence, case.cited, doc)
                    reasons.update({r.split(":")[0] for r in verdict.reasons})
                    if len(examples) < limit_print:
                        examples.append(f"{case.sentence}\n   cites {case.cited}: {verdict.reasons}")
        if _DIGITS.search(row.summary):
            sources = [("article.txt", row.doc)]
            flags = {
                "new": not factcheck.verify_summary(row.summary, sources).ok,
                "numbers": not factcheck.verify_summary(row.summary, sources, only="numbers").ok,
                "old": not old_factcheck.verify_summary(row.summary, sources).ok,
            }
            pre = "" if row.correct else "wrong:"  # summaries people judged wrong: flagging them is the catch
            for k, flagged in flags.items():
                whole[k].update({f"{pre}n": 1, f"{pre}n:{row.origin}": 1, f"{pre}flagged": flagged,
                                 f"{pre}flagged:{row.origin}": flagged})  # fmt: skip
    return {"passed": passed, "totals": totals, "reasons": reasons, "whole": whole, "examples": examples,
            "sweep": sweep}  # fmt: skip


def report(res: dict[str, Any]) -> None:
    passed, totals = res["passed"], res["totals"]
    print(f"{'':28} {'new':>20} {'old (before #12)':>20} {'digit substring':>20}")
    print(f"{'yield (correct kept)':28}", *(f"{pct(passed[k]['correct'], totals['correct']):>20}" for k in passed))
    print(
        f"{'catch (error rejected)':28}",
        *(f"{pct(totals['error'] - passed[k]['error'], totals['error']):>20}" for k in passed),
    )
    for o in ("xsum", "cnndm"):
        print(
            f"{'  yield ' + o:28}", *(f"{pct(passed[k]['correct:' + o], totals['correct:' + o]):>20}" for k in passed)
        )
        print(
            f"{'  catch ' + o:28}",
            *(f"{pct(totals['error:' + o] - passed[k]['error:' + o], totals['error:' + o]):>20}" for k in passed),
        )
    for t in sorted(t for t in totals if ":" not in t and t not in ("correct", "error", "beyond")):
        print(f"{'  catch ' + t:28}", *(f"{pct(totals[t] - passed[k][t], totals[t]):>20}" for k in passed))
    print(f"{'  beyond the article':28}", f"{pct(totals['beyond'], totals['correct']):>20}",
          f"  correct sentences with a name or content no sentence of the article holds "
          f"(xsum {totals['beyond:xsum']}, cnndm {totals['beyond:cnndm']}): the most a source-bound check can "
          f"keep is {100 * (1 - totals['beyond'] / totals['correct']):.1f}%")  # fmt: skip
    w = res["whole"]
    n = w["new"]["n"]  # summaries
    print()
    print(f"summarizer verify on {n} correct summaries holding a number: flagged")
    print(f"{'':24} {'all':>18} {'xsum':>18} {'cnndm':>18}")
    for k, name in (("new", "all checks (new)"), ("numbers", "--only numbers (new)"), ("old", "before #12")):
        cells = [pct(w[k]["flagged" + o], w[k]["n" + o]) for o in ("", ":xsum", ":cnndm")]
        print(f"  {name:22}", *(f"{c:>18}" for c in cells))
    print(f"and on {w['new']['wrong:n']} summaries people judged wrong, holding a number (the whole-summary catch):")
    for k, name in (("new", "all checks (new)"), ("numbers", "--only numbers (new)"), ("old", "before #12")):
        cells = [pct(w[k]["wrong:flagged" + o], w[k]["wrong:n" + o]) for o in ("", ":xsum", ":cnndm")]
        print(f"  {name:22}", *(f"{c:>18}" for c in cells))
    print("\ncontent threshold (share of a claim's content lemmas in its cited sentences), new verifier:")
    n_ok = sum(c for c, _, _, _ in res["sweep"])
    n_err = sum(e for _, e, _, _ in res["sweep"])
    for t in (0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.705, 0.72, 0.74, 0.75, 0.8):
        kept = sum(c and o and sh >= t for c, _, o, sh in res["sweep"])
        caught = sum(e and not (o and sh >= t) for _, e, o, sh in res["sweep"])
        mark = "  <- MIN_WORD_SUPPORT" if abs(t - MIN_WORD_SUPPORT) < 1e-9 else ""
        print(f"  {t:.3f}: yield {pct(kept, n_ok)}  catch {pct(caught, n_err)}{mark}")
    if res["reasons"]:
        print("\nwhy correct sentences were rejected (new):", dict(res["reasons"].most_common(8)))
    for ex in res["examples"]:
        print(" -", ex)


def write_subset(rows: Sequence[Row], path: Path, n: int = 100) -> None:
    """A fixed sample of labelled cases (half correct, half error): the claim, its cited sentences, and the
    article sentences that share a capitalised word with it (where its names may be grounded)."""
    rng = random.Random(20250525)
    picked: list[dict[str, Any]] = []
    pool = list(rows)
    rng.shuffle(pool)
    want = {"correct": n // 2, "error": n - n // 2}
    for row in pool:
        doc = document(row.doc)
        for case in cases_of(row, doc):
            label = "correct" if case.correct else "error"
            if want[label] <= 0:
                continue
            want[label] -= 1
            caps = {w.lower() for w in re.findall(r"\b[A-Z][\w'-]+", case.sentence)}
            context = [s.text for s in doc.sentences if s.id not in case.cited
                       and caps & {w.lower() for w in re.findall(r"\b[A-Z][\w'-]+", s.text)}][:6]  # fmt: skip
            picked.append({"row": row.key, "origin": row.origin, "claim": case.sentence, "label": label,
                           "types": case.types, "evidence": [doc.sentences[i].text for i in case.cited],
                           "context": context})  # fmt: skip
        if not any(want.values()):
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in picked), encoding="utf-8")
    print(f"wrote {len(picked)} cases to {path}")


def evaluate_subset(cases: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Yield and catch of the verify stage on stored cases (cited sentences first, then the context)."""
    from summarizer import verify

    kept = caught = n_ok = n_err = 0
    for c in cases:
        doc = document("\n\n".join([*c["evidence"], *c["context"]]))
        ok = verify.check_fact(c["claim"], list(range(len(c["evidence"]))), doc).ok
        if c["label"] == "correct":
            n_ok += 1
            kept += ok
        else:
            n_err += 1
            caught += not ok
    return {"yield": kept / max(1, n_ok), "catch": caught / max(1, n_err), "correct": n_ok, "error": n_err}


def own_checks(rows: Sequence[Row]) -> None:
    """The premise of ``verify.is_verbatim`` on these articles: every sentence, as a fact citing itself,
    through the full claim checks (and the fact's length limit). Failures by part."""
    from summarizer import verify

    n, failed = 0, Counter[str]()
    for k, text in enumerate(dict.fromkeys(r.doc for r in rows)):
        doc = document(text, f"a{k}")
        context = " ".join(s.text for s in doc.sentences if not verify.addresses_the_model(s.text))
        for s in doc.sentences:
            if verify.addresses_the_model(s.text):
                continue
            n += 1
            parts = {p.part for p in verify.claim_problems(s.text, [("s", s.text)], context=context)}
            parts |= {"length"} if len(s.text) > verify.MAX_FACT_CHARS else set()
            failed.update(parts or {"none"})
    bad = {k: v for k, v in failed.items() if k != "none"}
    print(f"\neach of the articles' {n:,} sentences as a fact citing itself, full checks: "
          f"{n - failed['none']:,} fail {bad or ''} (a sentence over the {verify.MAX_FACT_CHARS}-character limit "
          f"of a fact is refused for that alone; any other part would break verify.is_verbatim's premise)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--examples", type=int, default=0, help="print this many rejected correct sentences")
    ap.add_argument("--write-subset", action="store_true")
    ap.add_argument("--subset", type=Path, help="evaluate the stored cases of this file only")
    args = ap.parse_args()
    rows = read_rows(args.data)
    if args.write_subset:
        write_subset(rows, SUBSET)
        return
    if args.subset:
        cases = [json.loads(line) for line in args.subset.read_text(encoding="utf-8").splitlines() if line]
        print(f"subset {args.subset}: {evaluate_subset(cases)}")
        return
    print(f"{len(rows)} summaries ({sum(r.correct for r in rows)} judged correct) from {args.data}")
    report(run(rows, args.examples))
    own_checks(rows)


if __name__ == "__main__":
    main()
