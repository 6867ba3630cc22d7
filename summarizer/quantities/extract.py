"""Find the figures in news prose: :func:`extract_quantities` runs an ordered list of passes (``PASSES``).

Each pass reads one kind of figure and masks what it consumed, so later passes do not read it again.
Adding a pattern (fractions such as "two-thirds") is one function and one entry in ``PASSES``."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from summarizer.quantities.lexicon import (
    ABBR_UNITS,
    ATTACHED_OK_RE,
    AU_STYLE_CUR_RE,
    COUNT_NOUN_RE,
    CUR_PREFIX,
    CUR_PREFIX_RE,
    CUR_WORD_RE,
    CUR_WORDS,
    DATE_DM_RE,
    DATE_MD_RE,
    DATE_TAIL_RE,
    DOLLAR_NATION,
    DOZEN_RE,
    FEW_RE,
    FRACTION_BEFORE_RE,
    HEDGE_RE,
    HEDGES,
    IDENT_PREFIX_OK,
    INF,
    ISO_DATE_RE,
    MAG_RE,
    MAG_SCALE,
    MAGNITUDE_ONLY_BEFORE_RE,
    MAGNITUDE_WORDS,
    MONTHS,
    NAME_BEFORE_RE,
    NUM_RE,
    ONE_AFTER_RE,
    ONE_BEFORE_RE,
    PCT_RE,
    POSTFIX_RE,
    POUND_WEIGHT_RE,
    RANGE_CUR_RE,
    RANGE_RE,
    SCORE_CONTEXT_RE,
    SLASH_DATE_RE,
    TIME24_RE,
    TIME_RE,
    UNIT_RE,
    VAGUE_BASE,
    VAGUE_MULT,
    VAGUE_RE,
    WORD_RUN_RE,
    WORD_TOKEN_RE,
    WORD_UNITS,
    YEAR_CUE_RE,
    Qualifier,
    QuantityKind,
    to_base,
    unit_info,
)


class Quantity(BaseModel):
    text: str
    start: int
    end: int
    value: float
    low: float
    high: float
    kind: QuantityKind
    unit: str | None = None
    qualifier: Qualifier = "exact"
    sig_digits: int
    scale: float = 1.0


# ----------------------------------------------------------------------------- extraction


class _Atom:
    """A bare number found in the text, before its context (currency, unit, hedge) is read."""

    __slots__ = ("end", "is_digits", "ordinal", "scale", "sig", "start", "value", "year_like")

    def __init__(self, start: int, end: int, value: float, sig: int, *, is_digits: bool,
                 ordinal: bool = False, scale: float = 1.0, year_like: bool = False) -> None:  # fmt: skip
        self.start, self.end, self.value, self.sig = start, end, value, sig
        self.is_digits, self.ordinal, self.scale, self.year_like = is_digits, ordinal, scale, year_like


class _Tok:
    """A token for text2num's ``find_numbers``."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def text(self) -> str:
        return self.s

    def nt_separated(self, previous: Any) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


def sig_digits(digits: str) -> int:
    s = digits.replace(",", "")
    if "." in s:
        s = s.replace(".", "").lstrip("0")
        return max(1, len(s))
    s = s.lstrip("0").rstrip("0")
    return max(1, len(s))


def _sig_of_value(v: float) -> int:
    if v == int(v):
        return sig_digits(str(int(v)))
    return sig_digits(repr(v))


def _mk(text: str, s: int, e: int, value: float, low: float, high: float, kind: Any, unit: str | None,
        qualifier: Any, sig: int, scale: float = 1.0) -> Quantity:  # fmt: skip
    return Quantity(text=text[s:e], start=s, end=e, value=value, low=low, high=high, kind=kind, unit=unit,
                    qualifier=qualifier, sig_digits=sig, scale=scale)  # fmt: skip


def _digit_atoms(text: str, mask: bytearray) -> list[_Atom]:
    atoms: list[_Atom] = []
    n = len(text)
    for m in NUM_RE.finditer(text):
        s, e = m.span()
        if mask[s]:
            continue
        prev = text[s - 1] if s else " "
        if (prev.isalnum() or prev == "_") and not AU_STYLE_CUR_RE.search(text, max(0, s - 4), s):
            continue  # A320, G7, MH17 (but "$US1,000" is money)
        if prev in ".,/:" and s >= 2 and text[s - 2].isdigit():
            continue  # versions, fractions, ratios
        if prev in "-‑" and s >= 2 and text[s - 2].isalpha():
            j = s - 2
            while j > 0 and text[j - 1].isalpha():
                j -= 1
            if text[j : s - 1].lower() not in IDENT_PREFIX_OK:
                continue  # COVID-19, F-16, B-52
        if e < n:
            nxt = text[e]
            if nxt.isalpha() or nxt in "²°":
                if not ATTACHED_OK_RE.match(text, e):
                    continue  # 5G, 3D, 4x4
            elif nxt in "/:" and e + 1 < n and text[e + 1].isdigit():
                continue  # 24/7, 2:1
        digits = m.group()
        value = float(digits.replace(",", ""))
        year_like = len(digits) == 4 and digits.isdigit() and 1900 <= value <= 2100
        atoms.append(_Atom(s, e, value, sig_digits(digits), is_digits=True, year_like=year_like))
    return atoms


def _word_atoms(text: str, mask: bytearray) -> list[_Atom]:
    from text_to_num import find_numbers

    atoms: list[_Atom] = []
    for m in WORD_RUN_RE.finditer(text):
        base = m.start()
        toks = [(t.start(), t.end(), t.group()) for t in WORD_TOKEN_RE.finditer(m.group())]
        occs = find_numbers([_Tok(t[2]) for t in toks], "en", 0.0)
        for o in occs:
            if o.start >= len(toks):
                continue
            s = base + toks[o.start][0]
            e = base + toks[o.end - 1][1]
            if mask[s] or mask[e - 1]:
                continue
            words = [t[2].lower() for t in toks[o.start : o.end] if t[2] != "-"]
            if all(w in MAGNITUDE_WORDS or w == "and" for w in words) and not MAGNITUDE_ONLY_BEFORE_RE.search(
                text, max(0, s - 6), s
            ):
                continue  # "2.5 million", "the hundred fires": the digits' context handles it
            value = float(o.value)
            if o.is_ordinal:
                if value <= 2 or FRACTION_BEFORE_RE.search(text, max(0, s - 8), s):
                    continue  # "first", "second", "a third of": not figures to check
            elif words == ["one"] and (ONE_BEFORE_RE.search(text, max(0, s - 8), s) or ONE_AFTER_RE.match(text, e)):
                continue  # "one of the largest", "no one"
            if text[s].isupper() and s > 1 and NAME_BEFORE_RE.search(text, max(0, s - 30), s):
                prev_end = text[:s].rstrip()
                if prev_end and prev_end[-1] not in '.!?:;"“':
                    continue  # "Channel Nine", "Formula One"
            scale = 1.0
            for w in reversed(words):
                if w in MAGNITUDE_WORDS and value >= MAGNITUDE_WORDS[w]:
                    scale = MAGNITUDE_WORDS[w] if w != "hundred" else 1.0
                    break
            atoms.append(_Atom(s, e, value, _sig_of_value(value), is_digits=False, ordinal=bool(o.is_ordinal),
                               scale=scale))  # fmt: skip
    return atoms


def _dozen_atoms(text: str, mask: bytearray) -> list[_Atom]:
    from text_to_num import text2num

    atoms: list[_Atom] = []
    for m in DOZEN_RE.finditer(text):
        s, e = m.span()
        if mask[s]:
            continue
        half, mult = m.group(1), m.group(2)
        if half or (mult is None):
            value = 6.0
        elif mult.isdigit():
            value = 12.0 * int(mult)
        elif mult.lower() == "a":
            value = 12.0
        else:
            value = 12.0 * text2num(mult.lower(), "en")
        atoms.append(_Atom(s, e, value, _sig_of_value(value), is_digits=False))
        mask[s:e] = b"\x01" * (e - s)
    return atoms


def _suffix(text: str, pos: int) -> tuple[int, float, str | None, str | None, str | None]:
    """Read magnitude, currency word, percent or unit after a number: (end, scale, kind, unit, mag)."""
    scale, mag = 1.0, None
    m = MAG_RE.match(text, pos)
    if m:
        mag = m.group(1) or m.group(2) or m.group(3)
        # A lone " m" spaced from the number is a metre, not a million.
        scale = MAG_SCALE[mag.lower()]
        pos = m.end()
    m = CUR_WORD_RE.match(text, pos)
    if m:
        word = m.group(2)
        key = word.lower().rstrip("s") if word.upper() != word else word
        if key.startswith("pound"):
            key = "pound"
        unit = CUR_WORDS.get(key, word.upper() if word.isupper() else None)
        if unit is None:
            unit = word.upper()
        if m.group(1) and key == "dollar":
            unit = DOLLAR_NATION.get(re.sub(r"\s+", " ", m.group(1).lower()), "USD")
        return m.end(), scale, "money", unit, mag
    m = PCT_RE.match(text, pos)
    if m:
        if m.group(1) or m.group(2):
            return m.end(), scale, "percent", "%", mag
        if m.group(3) or (m.group(5) == "pp"):
            return m.end(), scale, "points", "pp", mag
        return m.end(), scale, "points", "bp", mag
    m = POUND_WEIGHT_RE.match(text, pos)
    if m:
        return m.end(), scale, "measure", "pound", mag
    m = UNIT_RE.match(text, pos)
    if m:
        if m.group(1):
            word = re.sub(r"\s+", " ", m.group(1).lower())
            expr = WORD_UNITS.get(word) or WORD_UNITS.get(word[:-1]) or WORD_UNITS.get(word[:-2])
        else:
            expr = ABBR_UNITS.get(re.sub(r"\s+", " ", m.group(2)))
        if expr is not None:
            return m.end(), scale, "measure", expr, mag
    return pos, scale, None, None, mag


def _parse_atom_at(atoms: list[_Atom], idx: int, pos: int) -> int:
    """Index of the atom starting exactly at ``pos`` (the next one after ``idx``), else -1."""
    j = idx + 1
    if j < len(atoms) and atoms[j].start == pos:
        return j
    return -1


def extract_quantities(text: str) -> list[Quantity]:
    """Every figure in ``text`` with its value, kind, qualifier and span (indexes ``text``)."""
    n = len(text)
    mask = bytearray(n + 1)
    out: list[Quantity] = []

    def consume(s: int, e: int) -> None:
        mask[s:e] = b"\x01" * (e - s)

    for m in TIME_RE.finditer(text):
        h, mi = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= h <= 12 or mi > 59:
            continue
        h = h % 12 + (12 if m.group(3).lower() == "p" else 0)
        s, e = m.span()
        out.append(_mk(text, s, e, h * 60 + mi, h * 60 + mi, h * 60 + mi, "time", None, "exact", 1))
        consume(s, e)
    for m in TIME24_RE.finditer(text) if ":" in text else ():
        s, e = m.span()
        if mask[s]:
            continue
        v = int(m.group(1)) * 60 + int(m.group(2))
        out.append(_mk(text, s, e, v, v, v, "time", None, "exact", 1))
        consume(s, e)
    for m in ISO_DATE_RE.finditer(text):
        mo, d = int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            v = mo * 100 + d
            out.append(_mk(text, m.start(), m.end(), v, v, v, "date", None, "exact", 1))
            y = int(m.group(1))
            out.append(_mk(text, m.start(1), m.end(1), y, y, y, "year", None, "exact", 4))
            consume(m.start(), m.end())
    for m in SLASH_DATE_RE.finditer(text) if "/" in text else ():
        consume(m.start(), m.end())  # day/month order is ambiguous: not checked
    for rx, mgroup, dgroup in ((DATE_MD_RE, 1, 2), (DATE_DM_RE, 2, 1)):
        for m in rx.finditer(text):
            s, e = m.span()
            if mask[s] or mask[e - 1]:
                continue
            mo, d = MONTHS[m.group(mgroup)[:3].lower()], int(m.group(dgroup))
            if not 1 <= d <= 31:
                continue
            v = mo * 100 + d
            out.append(_mk(text, s, e, v, v, v, "date", None, "exact", 1))
            consume(s, e)
            t = DATE_TAIL_RE.match(text, e) if dgroup == 2 else None
            if t and 1 <= int(t.group(1)) <= 31:  # "May 20-23"
                v2 = mo * 100 + int(t.group(1))
                out.append(_mk(text, t.start(1), t.end(1), v2, v2, v2, "date", None, "exact", 1))
                consume(t.start(1), t.end(1))
    low_text = text.lower()
    few = "several" in low_text or "few" in low_text or "couple" in low_text
    for m in FEW_RE.finditer(text) if few else ():
        s, e = m.span()
        mult = 12 if m.group(2).lower() == "dozen" else MAGNITUDE_WORDS[m.group(2).lower()]
        out.append(_mk(text, s, e, 2 * mult, 2 * mult, 10 * mult - 1, "count", None, "vague", 1))
        consume(s, e)
    vague = any(w in low_text for w in ("tens", "dozens", "hundreds", "thousands", "millions", "billions"))
    for m in VAGUE_RE.finditer(text) if vague else ():
        s, e = m.span()
        if mask[s]:
            continue
        lo, hi = VAGUE_BASE[m.group(1).lower()]
        mult = VAGUE_MULT[m.group(2).lower()] if m.group(2) else 1.0
        low, high = lo * mult, (hi + 1) * mult - 1
        out.append(_mk(text, s, e, low, low, high, "count", None, "vague", 1))
        consume(s, e)

    atoms = (
        (_dozen_atoms(text, mask) if "dozen" in low_text else []) + _digit_atoms(text, mask) + _word_atoms(text, mask)
    )
    atoms.sort(key=lambda a: a.start)
    i = 0
    while i < len(atoms):
        i = _read_quantity(text, atoms, i, out)
    out.sort(key=lambda q: q.start)
    return out


def _read_quantity(text: str, atoms: list[_Atom], i: int, out: list[Quantity]) -> int:
    """Turn atom ``i`` (and a range partner) into quantities; return the next atom index."""
    a = atoms[i]
    s, e = a.start, a.end
    if a.ordinal or (a.is_digits and re.match(r"(?:st|nd|rd|th)\b", text[e : e + 3])):
        end = e if a.ordinal else e + 2
        out.append(_mk(text, s, end, a.value, a.value, a.value, "ordinal", None, "exact", a.sig))
        return i + 1
    if a.year_like and text.startswith("s", e) and not text[e + 1 : e + 2].isalpha():  # the 1990s
        out.append(_mk(text, s, e + 1, a.value, a.value, a.value + 9, "year", None, "range", 3))
        return i + 1

    end, scale, kind, unit, mag = _suffix(text, e)
    pre = s
    cm = CUR_PREFIX_RE.search(text, max(0, s - 6), s)
    if cm and kind != "percent":
        code = CUR_PREFIX.get(cm.group(1)) if cm.group(1) else cm.group(2)
        if code == "RMB":
            code = "CNY"
        if kind != "money":
            kind, unit = "money", code
        pre = cm.start()
    hm = HEDGE_RE.search(text, max(0, pre - 16), pre)
    hedge = hm.group(1).lower() if hm else None
    if hedge is not None:
        hedge = re.sub(r"\s+", " ", hedge)
    qualifier, lo_f, hi_f = HEDGES[hedge] if hedge else ("exact", 1.0, 1.0)
    start = hm.start() if hm and hedge not in ("between", "from") else pre

    # Years: a bare 4-digit number with no unit or hedge, unless it clearly counts something.
    cue = a.year_like and YEAR_CUE_RE.search(text, max(0, s - 12), s)
    if (a.year_like and kind is None and mag is None and qualifier in ("exact", "range")
            and (cue or not COUNT_NOUN_RE.match(text, e))):  # fmt: skip
        out.append(_mk(text, s, e, a.value, a.value, a.value, "year", None, "exact", 4))
        j = -1
        r = RANGE_RE.match(text, e)
        if r:
            j = _parse_atom_at(atoms, i, r.end())
        if j >= 0 and atoms[j].is_digits:  # 2022-23, 2019 to 2020
            b = atoms[j]
            digits = text[b.start : b.end]
            if len(digits) == 2 and digits.isdigit():
                y2 = a.value // 100 * 100 + b.value
                out.append(_mk(text, b.start, b.end, y2, y2, y2, "year", None, "exact", 4))
                return j + 1
        return i + 1

    # Range: "20-30", "40,000 to 50,000", "between 20 and 30", "$3-4bn".
    r = RANGE_RE.match(text, e if mag is None and kind is None else end)
    if r and (r.group(2) is None or r.group(2).lower() == "to" or hedge == "between"):
        nxt = r.end()
        pm = RANGE_CUR_RE.match(text, nxt)  # "$3bn to $4bn"
        if pm:
            nxt = pm.end()
        j = _parse_atom_at(atoms, i, nxt)
        if j >= 0 and not atoms[j].ordinal:
            b = atoms[j]
            end2, scale2, kind2, unit2, mag2 = _suffix(text, b.end)
            # Shared magnitude and unit: "$3-4bn", "40 to 50 km".
            if mag is None and mag2 is not None and a.scale == 1:
                scale = scale2
            elif mag2 is None and mag is not None and b.scale == 1:
                scale2 = scale
            if kind is None:
                kind, unit = kind2, unit2
            elif kind2 is None:
                kind2, unit2 = kind, unit
            lo_v = a.value * (scale if a.scale == 1 else 1)
            hi_v = b.value * (scale2 if b.scale == 1 else 1)
            dash = r.group(1) is not None
            from_to = hedge == "from"
            score = (
                dash
                and kind is None
                and a.is_digits
                and b.is_digits
                and (lo_v >= hi_v or SCORE_CONTEXT_RE.search(text, _sentence_start(text, s), end2 + 20))
            )
            if score:
                return j + 1  # a score such as 2-1 or 1-1: not a quantity
            if kind == kind2 and unit == unit2 and lo_v < hi_v and not from_to:
                return _emit_range(text, out, a, b, start, end2, lo_v, hi_v, kind, unit, scale, j)

    if qualifier == "range" or hedge == "from":
        qualifier, lo_f, hi_f = "exact", 1.0, 1.0
        if hedge == "between":
            start = pre
    pf = POSTFIX_RE.match(text, end)
    if pf and qualifier == "exact":
        word = (pf.group(1) or pf.group(2) or pf.group(3) or "").lower()
        if word in ("more", "+", "plus"):
            qualifier, lo_f, hi_f = "at_least", 1.0, INF
        elif word == "so":
            qualifier, lo_f, hi_f = "approx", 0.9, 1.1
        else:
            qualifier, lo_f, hi_f = "at_most", 0.0, 1.0
        end = pf.end()
    value = a.value * (scale if a.scale == 1 else 1)
    q_scale = scale if a.scale == 1 else a.scale
    sig = a.sig
    kind_s = kind or "count"
    if kind_s == "measure" and unit is not None:
        name = unit_info(unit)[0]
        unit = name
        v_base = to_base(value, name)
        low = to_base(value * lo_f, name) if lo_f not in (0.0, INF) else (0.0 if lo_f == 0 else INF)
        high = to_base(value * hi_f, name) if hi_f not in (0.0, INF) else (0.0 if hi_f == 0 else INF)
        value = v_base
    else:
        low = value * lo_f if lo_f != INF else INF
        high = value * hi_f if hi_f != INF else INF
    out.append(_mk(text, start, end, value, low, high, kind_s, unit, qualifier, sig, q_scale))
    return i + 1


def _sentence_start(text: str, pos: int) -> int:
    lo = max(0, pos - 60)
    k = max(text.rfind(". ", lo, pos), text.rfind("\n", lo, pos))
    return k + 1 if k >= 0 else lo


def _emit_range(text: str, out: list[Quantity], a: _Atom, b: _Atom, start: int, end: int, lo_v: float,
                hi_v: float, kind: str | None, unit: str | None, scale: float, j: int) -> int:  # fmt: skip
    kind_s = kind or "count"
    if kind_s == "measure" and unit is not None:
        unit = unit_info(unit)[0]
        lo_v, hi_v = to_base(lo_v, unit), to_base(hi_v, unit)
    sig = min(a.sig, b.sig)
    out.append(_mk(text, start, end, (lo_v + hi_v) / 2, lo_v, hi_v, kind_s, unit, "range", sig, scale))
    return j + 1


@lru_cache(maxsize=16384)
def cached_quantities(text: str) -> tuple[Quantity, ...]:
    """:func:`extract_quantities`, memoised: a sentence is read for every claim that cites it.

    The Quantity objects are shared between callers: treat them as read-only.
    """
    return tuple(extract_quantities(text))
