"""Benchmark the number check on real news text no one here wrote.

Cases come from real sentences (the two seed reports and gensim's 300 ABC news texts): a figure in a
sentence is restated faithfully (digits <-> words, ``1,000`` <-> ``1000``, ``2.5 million`` <-> ``2,500,000``,
``per cent`` <-> ``%``, km <-> miles, a hedge added, rounded to fewer digits) or changed (+1, x10, swapped
digits, million -> billion, a figure from another article, a year +1). The claim is the edited sentence;
the evidence is the original sentence with its neighbours (as separate items, like cited sentences).

    python benchmarks/bench_numbers.py            # run on benchmarks/cases/number_cases.jsonl
    python benchmarks/bench_numbers.py --build    # (re)generate the cases (deterministic, seed 20250525)

Changes that the documented rules accept as a legitimate rounding (``99`` + 1 = ``100`` has fewer
significant digits) are not generated as "changed"; a bare 4-digit number 1900-2100 reads as a year,
so commas are not removed from such counts.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from summarizer.quantities import (  # noqa: E402
    Evidence,
    Quantity,
    check_support,
    extract_quantities,
    sig_digits,
)

CASES = ROOT / "benchmarks" / "cases" / "number_cases.jsonl"
SUBSET = ROOT / "tests" / "data" / "number_cases_subset.jsonl"
SEED = 20250525

_DIGITS_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_SENT_RE = re.compile(r"[^.!?]+(?:[.!?]+[\"'”’)]*|$)")


def words(n: int) -> str:
    """English words for a whole number (test-data generation only; parsing is text2num's job)."""
    from num2words import num2words

    return str(num2words(n))


def lee_corpus() -> Path:
    import gensim

    return Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"


def documents() -> list[tuple[str, str]]:
    docs = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.txt"))]
    for i, line in enumerate(lee_corpus().read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.strip():
            docs.append((f"abc{i:03d}", line.strip()))
    return docs


def sentences(text: str) -> list[str]:
    out = []
    for m in _SENT_RE.finditer(text):
        s = m.group().strip()
        if len(s) > 20:
            out.append(s)
    return out


def fmt(v: float, commas: bool, decimals: int = 0) -> str:
    s = f"{v:,.{decimals}f}" if commas else f"{v:.{decimals}f}"
    return s


def _decimals(digits: str) -> int:
    return len(digits.split(".")[1]) if "." in digits else 0


def _legit_rounding(old: float, old_digits: str, new: float, new_digits: str) -> bool:
    """Whether the rules would accept ``new`` as ``old`` rounded (so it is no "changed value")."""
    sig_new, sig_old = sig_digits(new_digits), sig_digits(old_digits)
    if sig_new >= sig_old or new == 0:
        return False
    step = 10.0 ** (math.floor(math.log10(abs(new))) - sig_new + 1)
    return abs(new - old) <= step / 2 and abs(new - old) <= 0.05 * abs(new)


def _swap(digits: str, rng: random.Random) -> str | None:
    plain = [i for i, c in enumerate(digits) if c.isdigit()]
    pairs = [
        (plain[k], plain[k + 1])
        for k in range(len(plain) - 1)
        if digits[plain[k]] != digits[plain[k + 1]] and not (k == 0 and digits[plain[k + 1]] == "0")
    ]
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    c = list(digits)
    c[i], c[j] = c[j], c[i]
    return "".join(c)


def _case(
    doc: str,
    k: int,
    ctx: list[str],
    claim: str,
    label: str,
    transform: str,
    old: str,
    new: str,
    edit: tuple[int, int],
) -> dict[str, Any]:
    return {
        "id": f"{doc}:{k}:{transform}:{edit[0]}",
        "doc": doc,
        "evidence": ctx,
        "claim": claim,
        "label": label,
        "transform": transform,
        "old": old,
        "new": new,
        "edit": list(edit),
    }


def build_cases() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    docs = documents()
    pool: dict[str, list[tuple[str, Quantity]]] = {}  # kind -> (doc, quantity) for "other article"
    per_doc: list[tuple[str, list[str]]] = []
    for name, text in docs:
        sents = sentences(text)
        per_doc.append((name, sents))
        for s in sents:
            for q in extract_quantities(s):
                if q.qualifier == "exact" and _DIGITS_RE.fullmatch(q.text.replace("$", "").replace("%", "") or "x"):
                    pool.setdefault(q.kind, []).append((name, q))
    cases: list[dict[str, Any]] = []
    for name, sents in per_doc:
        for k, sent in enumerate(sents):
            ctx = sents[max(0, k - 1) : k + 2]
            for q in extract_quantities(sent):
                cases.extend(_cases_for(name, k, sent, ctx, q, pool, rng))
    return cases


def _stated_values(ctx: list[str]) -> set[float]:
    """Every value the context states, with sums and differences of two exact figures of one sentence."""
    vals: set[float] = set()
    for sent in ctx:
        qs = [q for q in extract_quantities(sent) if q.qualifier == "exact"]
        vals.update(round(q.value, 6) for q in extract_quantities(sent))
        for a in qs:
            for b in qs:
                if a is not b and a.kind == b.kind:
                    vals.update((round(a.value + b.value, 6), round(abs(a.value - b.value), 6)))
    return vals


def _edit(sent: str, s: int, e: int, new: str) -> str:
    return sent[:s] + new + sent[e:]


def _cases_for(
    name: str,
    k: int,
    sent: str,
    ctx: list[str],
    q: Quantity,
    pool: dict[str, list[tuple[str, Quantity]]],
    rng: random.Random,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stated = _stated_values(ctx)

    def add(label: str, transform: str, s: int, e: int, new: str) -> None:
        if label == "changed" and transform != "million<->billion":
            nv = float(new.replace(",", "")) * (q.scale if q.kind != "year" else 1)
            if round(nv, 6) in stated:
                return  # the evidence states (or derives) this value: not a change anyone could catch
        claim = _edit(sent, s, e, new)
        out.append(_case(name, k, ctx, claim, label, transform, sent[s:e], new, (s, s + len(new))))

    if q.qualifier == "range" or q.qualifier == "vague":
        return out
    dm = list(_DIGITS_RE.finditer(q.text))
    if q.kind in ("date", "time", "ordinal"):
        return out
    if q.kind == "year":
        if len(q.text) == 4:
            add("changed", "year+1", q.start, q.end, str(int(q.value) + 1))
        return out
    if len(dm) != 1:
        # Number words: restate in digits.
        if not dm and q.qualifier == "exact" and q.kind == "count" and q.value == int(q.value) and q.value >= 2:
            m = re.search(r"(?i)[a-z][a-z -]*[a-z]", q.text)
            if m:
                add("faithful", "words->digits", q.start + m.start(), q.start + m.end(), f"{int(q.value):,}")
        return out
    d = dm[0]
    s, e = q.start + d.start(), q.start + d.end()
    digits = d.group()
    num = float(digits.replace(",", ""))
    commas = "," in digits
    dec = _decimals(digits)
    after = sent[e:]

    # ---- faithful restatements
    if dec == 0 and 2 <= num < 100 and q.kind == "count" and q.scale == 1 and not re.match(r"[-\w]", after):
        add("faithful", "digits->words", s, e, words(int(num)))
    if commas and not (1900 <= num <= 2100) and q.scale == 1:
        add("faithful", "drop-commas", s, e, digits.replace(",", ""))
    if not commas and dec == 0 and num >= 10000 and q.scale == 1:
        add("faithful", "add-commas", s, e, f"{int(num):,}")
    mag = re.match(r"(?:\s*(million|billion|m|bn))\b", after)
    if mag and q.scale in (1e6, 1e9) and not sent[s - 1 : s].isalpha():
        full = num * q.scale
        add("faithful", "expand-magnitude", s, e + mag.end(), f"{full:,.0f}")
    if q.kind == "percent":
        pm = re.match(r"\s*(%|per cent|percent)", after)
        if pm:
            alt = " per cent" if pm.group(1) == "%" else "%"
            add("faithful", "percent-form", e, e + pm.end(), alt)
    if q.kind == "measure" and q.unit in ("kilometer", "mile") and q.scale == 1 and dec == 0:
        um = re.match(r"(\s*-?\s*)(kilometres?|kilometers?|km|miles?)\b", after)
        if um:
            to_miles = q.unit == "kilometer"
            v = num * (0.621371 if to_miles else 1.609344)
            sig = max(2, sig_digits(digits))
            rv = round(v, -math.floor(math.log10(v)) + sig - 1) if v > 0 else v
            new_num = fmt(rv, rv >= 1000, 0 if rv >= 10 else 1)
            unit = ("miles" if rv != 1 else "mile") if to_miles else "kilometres"
            if "-" in um.group(1):
                unit = "mile" if to_miles else "kilometre"
            add("faithful", "convert-unit", s, e + um.end(), new_num + um.group(1) + unit)
    if q.qualifier == "exact" and q.start == s - (1 if q.kind == "money" and sent[s - 1 : s] in "$£€" else 0):
        add("faithful", "add-hedge", q.start, q.start, "about ")
    if dec == 0 and sig_digits(digits) >= 3 and q.qualifier == "exact" and (commas or num < 1000):
        p = math.floor(math.log10(num)) - 1
        rv = round(num, -p)
        if rv != num:
            add("faithful", "round", s, e, fmt(rv, commas))

    # ---- changed values
    for delta in (1, -1):
        nv = num + delta * (10**-dec)
        if nv <= 0:
            continue
        nd = fmt(nv, commas, dec)
        if not _legit_rounding(num, digits, nv, nd):
            add("changed", "+1" if delta == 1 else "-1", s, e, nd)
            break
    nv = num * 10
    add("changed", "x10", s, e, fmt(nv, commas or nv >= 10000, dec))
    sw = _swap(digits, rng)
    if sw is not None and not _legit_rounding(num, digits, float(sw.replace(",", "")), sw):
        add("changed", "swap-digits", s, e, sw)
    if mag:
        word = mag.group(1)
        repl = {"million": "billion", "billion": "million", "m": "bn", "bn": "m"}[word]
        ms = e + mag.start(1)
        add("changed", "million<->billion", ms, ms + len(word), repl)
    others = [oq for od, oq in pool.get(q.kind, []) if od != name]
    if others:
        for _ in range(20):
            oq = rng.choice(others)
            om = _DIGITS_RE.search(oq.text)
            if om is None:
                continue
            ov = float(om.group().replace(",", ""))
            if (
                ov != num
                and not _legit_rounding(num, digits, ov, om.group())
                and not (num > 0 and abs(ov - num) / num < 0.1)
            ):
                add("changed", "other-article", s, e, om.group())
                break
    return out


def flagged(case: dict[str, Any]) -> tuple[bool, bool]:
    """(any figure unsupported, the edited figure unsupported)."""
    ev = [Evidence(label=f"sentence {i + 1}", text=t) for i, t in enumerate(case["evidence"])]
    report = check_support(case["claim"], ev)
    es, ee = case["edit"]
    any_bad = not report.ok
    edit_bad = any(f.quantity.start < max(ee, es + 1) and f.quantity.end > es for f in report.unsupported)
    return any_bad, edit_bad


def evaluate(cases: list[dict[str, Any]], verbose: int = 0) -> dict[str, Any]:
    changed = [c for c in cases if c["label"] == "changed"]
    faithful = [c for c in cases if c["label"] == "faithful"]
    missed = [c for c in changed if not flagged(c)[1]]
    false_flags = [c for c in faithful if flagged(c)[0]]
    by_t: dict[str, list[int]] = {}
    for c in changed:
        by_t.setdefault(c["transform"], [0, 0])[1] += 1
    for c in missed:
        by_t[c["transform"]][0] += 1
    for c in faithful:
        by_t.setdefault(c["transform"], [0, 0])[1] += 1
    for c in false_flags:
        by_t[c["transform"]][0] += 1
    if verbose:
        for c in (missed + false_flags)[:verbose]:
            print(f"  {c['label']:8} {c['transform']:18} {c['old']!r} -> {c['new']!r}: {c['claim'][:160]}")
    return {
        "cases": len(cases),
        "changed": len(changed),
        "faithful": len(faithful),
        "recall": 1 - len(missed) / max(1, len(changed)),
        "false_flag_rate": len(false_flags) / max(1, len(faithful)),
        "by_transform": by_t,
    }


def throughput(q: Any = None) -> dict[str, float]:
    """MB/s of extraction and of the support check; ``q`` is a quantities module (default: this tree's)."""
    if q is None:
        import summarizer.quantities as q
    text = lee_corpus().read_text(encoding="utf-8", errors="replace")
    mb = len(text.encode("utf-8")) / 1e6
    q.extract_quantities("warm up: 1,000 km, 3 per cent, three")  # pint and text2num loaded once
    t = time.perf_counter()
    for line in text.splitlines():
        q.extract_quantities(line)
    t_extract = time.perf_counter() - t
    # check_support: each article as the claim, its own sentences as the evidence (cold caches).
    q.cached_quantities.cache_clear()
    t = time.perf_counter()
    for line in text.splitlines():
        ev = [q.Evidence(label=f"sentence {i + 1}", text=s) for i, s in enumerate(sentences(line))]
        q.check_support(line, ev)
    t_check = time.perf_counter() - t
    return {"mb": mb, "extract_mb_s": mb / t_extract, "check_mb_s": mb / t_check}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="store_true", help="regenerate the case files")
    ap.add_argument("--show", type=int, default=0, help="print this many misses and false flags")
    ap.add_argument("--compare-legacy", action="store_true", help="throughput of the pre-issue-12 code too")
    args = ap.parse_args()
    if args.build or not CASES.exists():
        cases = build_cases()
        CASES.parent.mkdir(parents=True, exist_ok=True)
        CASES.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        rng = random.Random(SEED)
        changed = [c for c in cases if c["label"] == "changed"]
        faithful = [c for c in cases if c["label"] == "faithful"]
        subset = rng.sample(changed, 100) + rng.sample(faithful, 100)
        SUBSET.parent.mkdir(parents=True, exist_ok=True)
        SUBSET.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in subset), encoding="utf-8")
        print(f"wrote {len(cases)} cases to {CASES.relative_to(ROOT)} and 200 to {SUBSET.relative_to(ROOT)}")
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    res = evaluate(cases, args.show)
    print(f"cases: {res['cases']} ({res['changed']} changed, {res['faithful']} faithful)")
    print(f"recall on changed values: {res['recall']:.2%}  (goal >= 99.5%)")
    print(f"false-flag rate on faithful restatements: {res['false_flag_rate']:.2%}  (goal <= 1%)")
    for t, (bad, n) in sorted(res["by_transform"].items()):
        print(f"  {t:18} {bad:5} wrong of {n}")
    tp = throughput()
    print(
        f"throughput over the ABC corpus ({tp['mb']:.2f} MB): "
        f"extract_quantities {tp['extract_mb_s']:.2f} MB/s, "
        f"check_support {tp['check_mb_s']:.2f} MB/s  (goal >= 1 MB/s)"
    )
    if args.compare_legacy:
        from bench_claims import LEGACY_COMMIT, load_legacy

        load_legacy()
        # Interleaved, best of three each: the machine's load is then the same for both.
        runs = [(throughput(sys.modules["legacy_quantities"]), throughput()) for _ in range(3)]
        old = {k: max(r[0][k] for r in runs) for k in runs[0][0]}
        new = {k: max(r[1][k] for r in runs) for k in runs[0][1]}
        print(
            f"side by side with quantities.py at {LEGACY_COMMIT[:7]}: extract {new['extract_mb_s']:.2f} vs "
            f"{old['extract_mb_s']:.2f} MB/s (ratio {new['extract_mb_s'] / old['extract_mb_s']:.2f}), "
            f"check_support {new['check_mb_s']:.2f} vs {old['check_mb_s']:.2f} MB/s "
            f"(ratio {new['check_mb_s'] / old['check_mb_s']:.2f})"
        )


if __name__ == "__main__":
    main()
