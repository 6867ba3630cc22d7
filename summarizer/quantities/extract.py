"""Find the figures in news prose: :func:`extract_quantities` runs an ordered list of passes (``PASSES``).

Each pass reads one kind of figure and masks what it consumed, so later passes do not read it again.
Adding a pattern (fractions, "two-thirds of voters", were the last) is one function and one entry in ``PASSES``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from summarizer.quantities.lexicon import (
    ABBR_UNITS,
    AGE_APPOSITION_RE,
    AGE_RE,
    AMBIGUOUS_MONTHS,
    ATTACHED_OK_RE,
    AU_STYLE_CUR_RE,
    COUNT_NOUN_RE,
    CUR_PREFIX,
    CUR_PREFIX_RE,
    CUR_WORD_RE,
    CUR_WORDS,
    DATE_DM_ANY_RE,
    DATE_DM_RE,
    DATE_MD_ANY_RE,
    DATE_MD_RE,
    DATE_TAIL_RE,
    DOLLAR_NATION,
    DOZEN_RE,
    DURATION_AFTER_RE,
    FEW_RE,
    FRACTION_BEFORE_RE,
    HEDGE_RE,
    HEDGES,
    IDENT_PREFIX_OK,
    INF,
    ISO_DATE_RE,
    LOWER_MONTH_RE,
    MAG_RE,
    MAG_SCALE,
    MAGNITUDE_ONLY_BEFORE_RE,
    MAGNITUDE_WORDS,
    MATCH_MINUTE_RE,
    MINUTE_AFTER_RE,
    MONTHS,
    MOVED_UP_TO_RE,
    NAME_BEFORE_RE,
    NUM_RE,
    ONE_AFTER_RE,
    ONE_BEFORE_RE,
    PCT_RE,
    POSTFIX_RE,
    POUND_WEIGHT_RE,
    RANGE_CUR_RE,
    RANGE_RE,
    RANK_BEFORE_RE,
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
        if (prev.isalnum() or prev == "_") and not AU_STYLE_CUR_RE.search(text, max(0, s - 5), s):
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
                fraction = FRACTION_BEFORE_RE.search(text, max(0, s - 8), s) and not MINUTE_AFTER_RE.match(text, e)
                if value <= 2 or fraction:
                    continue  # "first", "second", "a third of": not figures to check
            elif words == ["one"] and (ONE_BEFORE_RE.search(text, max(0, s - 8), s) or ONE_AFTER_RE.match(text, e)):
                continue  # "one of the largest", "no one"
            if RANK_BEFORE_RE.search(text, max(0, s - 8), s):
                continue  # "world number one"
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


class Scan:
    """One extraction's state: the text, what passes have consumed (``mask``) and the figures found."""

    __slots__ = ("low", "mask", "out", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = text.lower()
        self.mask = bytearray(len(text) + 1)
        self.out: list[Quantity] = []

    def consume(self, s: int, e: int) -> None:
        self.mask[s:e] = b"\x01" * (e - s)

    def free(self, s: int, e: int) -> bool:
        return not (self.mask[s] or self.mask[e - 1])

    def emit(self, s: int, e: int, value: float, kind: Any, qualifier: Any = "exact", *, low: float | None = None,
             high: float | None = None, sig: int = 1, consume: bool = True) -> None:  # fmt: skip
        lo = value if low is None else low
        hi = value if high is None else high
        self.out.append(_mk(self.text, s, e, value, lo, hi, kind, None, qualifier, sig))
        if consume:
            self.consume(s, e)


def _times(scan: Scan) -> None:
    """4pm, 4:30 a.m."""
    for m in TIME_RE.finditer(scan.text):
        h, mi = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= h <= 12 or mi > 59:
            continue
        h = h % 12 + (12 if m.group(3).lower() == "p" else 0)
        scan.emit(m.start(), m.end(), h * 60 + mi, "time")


def _times24(scan: Scan) -> None:
    """16:30"""
    for m in TIME24_RE.finditer(scan.text) if ":" in scan.text else ():
        if scan.free(m.start(), m.end()):
            scan.emit(m.start(), m.end(), int(m.group(1)) * 60 + int(m.group(2)), "time")


def _iso_dates(scan: Scan) -> None:
    """2025-05-24: a date and a year."""
    for m in ISO_DATE_RE.finditer(scan.text):
        mo, d = int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            scan.emit(m.start(), m.end(), mo * 100 + d, "date")
            scan.emit(m.start(1), m.end(1), int(m.group(1)), "year", sig=4)


def _slash_dates(scan: Scan) -> None:
    """5/6/2025: day/month order is ambiguous, so it is consumed and not checked."""
    for m in SLASH_DATE_RE.finditer(scan.text) if "/" in scan.text else ():
        scan.consume(m.start(), m.end())


def _month_dates(scan: Scan) -> None:
    """May 20, 20 May, 20th of May, May 20-23; lower-case months too (\"july 11\") except the words
    "may" and "march" in text that has capitals. Every form has one value (month * 100 + day)."""
    text = scan.text
    lower_ok = scan.low == text  # no capitals at all (lower-cased text such as XSum's)
    lower = LOWER_MONTH_RE.search(text) is not None
    md, dm = (DATE_MD_ANY_RE, DATE_DM_ANY_RE) if lower else (DATE_MD_RE, DATE_DM_RE)
    for rx, mgroup, dgroup in ((md, 1, 2), (dm, 2, 1)):
        for m in rx.finditer(text):
            s, e = m.span()
            month = m.group(mgroup)
            if not scan.free(s, e) or (month.islower() and month in AMBIGUOUS_MONTHS and not lower_ok):
                continue
            mo, d = MONTHS[month[:3].lower()], int(m.group(dgroup))
            if not 1 <= d <= 31:
                continue
            scan.emit(s, e, mo * 100 + d, "date")
            t = DATE_TAIL_RE.match(text, e) if dgroup == 2 else None
            if t and 1 <= int(t.group(1)) <= 31:  # "May 20-23"
                scan.emit(t.start(1), t.end(1), mo * 100 + int(t.group(1)), "date")


def _few(scan: Scan) -> None:
    """several hundred, a few thousand, a couple of dozen: vague ranges."""
    if not ("several" in scan.low or "few" in scan.low or "couple" in scan.low):
        return
    for m in FEW_RE.finditer(scan.text):
        mult = 12 if m.group(2).lower() == "dozen" else MAGNITUDE_WORDS[m.group(2).lower()]
        scan.emit(m.start(), m.end(), 2 * mult, "count", "vague", high=10 * mult - 1)


def _vague(scan: Scan) -> None:
    """hundreds, tens of thousands: vague ranges."""
    if not any(w in scan.low for w in ("tens", "dozens", "hundreds", "thousands", "millions", "billions")):
        return
    for m in VAGUE_RE.finditer(scan.text):
        if scan.mask[m.start()]:
            continue
        lo, hi = VAGUE_BASE[m.group(1).lower()]
        mult = VAGUE_MULT[m.group(2).lower()] if m.group(2) else 1.0
        scan.emit(m.start(), m.end(), lo * mult, "count", "vague", high=(hi + 1) * mult - 1)


def _ages(scan: Scan) -> None:
    """ "Pippa, 31," and "the 31-year-old" state one age: a count with unit "age", so they match each other
    and a bare 31, and what it counts is not asked (an age counts years, not the noun after it)."""
    low = scan.low
    passes = ([AGE_RE] if ("old" in low and "year" in low) or "aged" in low else []) + (
        [AGE_APPOSITION_RE] if ", " in scan.text else []
    )
    for rx in passes:
        for m in rx.finditer(scan.text):
            g = m.lastindex or 1
            s, e = m.span(g)
            if not scan.free(s, e) or (s >= 2 and scan.text[s - 1] == "/" and scan.text[s - 2].isdigit()):
                continue  # read, or the fraction of a mixed number ("a 3 1/2-year-old")
            value = word_value(m.group(g))
            if value is None or not 0 < value < 130:
                continue
            end = m.end() if rx is AGE_RE else e
            sig = sig_digits(str(int(value)))
            scan.out.append(_mk(scan.text, s, end, value, value, value, "count", "age", "exact", sig))
            scan.consume(s, end)


# A share said as a fraction: "half of the staff", "half its", "two-thirds of voters", "a quarter of homes".
# Only before "of" (or, for half, a determiner), never "the second half of" nor "one and a half".
_FRACTION_RE = re.compile(
    r"(?i)\b(?:(a|one|two|three|four|nine|[1-9])[ \t]*[- \t][ \t]*)(thirds?|quarters?|fifths?|tenths?)[ \t]+of\b"
    r"|\b(half)[ \t]+(?:of[ \t]+)?(?=(?:the|its|their|his|her|our|all|those|these|them|us)\b)"
)
_FRACTION_PARTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "nine": 9, "half": 2, "third": 3,
                   "quarter": 4, "fifth": 5, "tenth": 10}  # fmt: skip
_NOT_A_SHARE_AFTER = {"first", "second", "third", "fourth", "final", "latter", "former", "other", "opening",
                      "closing", "the", "and", "a"}  # fmt: skip


def _fractions(scan: Scan) -> None:
    """A fraction of something is a share, read as an approximate percent: "a third" matches 33 % and 35 %,
    not "half" (50 %)."""
    if not any(w in scan.low for w in ("half", "third", "quarter", "fifth", "tenth")):
        return
    for m in _FRACTION_RE.finditer(scan.text):
        s, e = m.start(), m.end()
        if not scan.free(s, e):
            continue
        if m.group(3):  # half
            before = scan.low[max(0, s - 12) : s].split()
            if before and before[-1] in _NOT_A_SHARE_AFTER:
                continue
            num, den, e = 1, 2, m.end(3)
        else:
            n = m.group(1).lower()
            num, den = int(n) if n.isdigit() else _FRACTION_PARTS[n], _FRACTION_PARTS[m.group(2).lower().rstrip("s")]
            e = m.end(2)
            if num >= den:
                continue
        value = 100 * num / den
        scan.out.append(_mk(scan.text, s, e, value, value * 0.9, value * 1.1, "percent", "%", "approx", 1))
        scan.consume(s, e)


# A team's formation ("4-3-3", "4-2-3-1"): no quantity (the verify stage's identifier check reads it whole).
FORMATION_RE = re.compile(r"(?<![\w.,/-])\d(?:-\d){2,3}(?![\w/-]|[.,]\d)")
# A season or financial year written with a slash ("2014/15", "2014/2015"), read as "2014-15" is: two years.
_SEASON_RE = re.compile(r"(?<![\w.,/-])((?:19|20)\d\d)/((?:19|20)?\d\d)(?![\w/-]|[.,]\d)")


def _formations(scan: Scan) -> None:
    if "-" in scan.text:
        for m in FORMATION_RE.finditer(scan.text):
            scan.consume(*m.span())


def _seasons(scan: Scan) -> None:
    if "/" not in scan.text:
        return
    for m in _SEASON_RE.finditer(scan.text):
        first, second = int(m.group(1)), int(m.group(2))
        second += first // 100 * 100 if second < 100 else 0
        if second != first + 1 or not scan.free(*m.span()):
            continue
        scan.emit(m.start(1), m.end(1), float(first), "year", sig=4)
        scan.emit(m.start(2), m.end(2), float(second), "year", sig=4)
        scan.consume(*m.span())


# A whole number and a fraction: "one and a half", "two-and-a-half", "a million and a half", "2½", "3 1/2".
_MIXED_RE = re.compile(
    r"(?i)(?:[ \t]+and[ \t]+|-and-)(?:a|one)[ \t-](half|quarter)\b"
    r"|(?:[ \t]+and[ \t]+|-and-)(three)[ \t-]quarters\b"
    r"|[ \t]?([½¼¾])"
    r"|[ \t]+([13])/([24])(?![\d/])"
)
_MIXED_PART = {"half": 0.5, "quarter": 0.25, "three": 0.75, "½": 0.5, "¼": 0.25, "¾": 0.75}


def _mixed(text: str, atoms: list[_Atom]) -> list[_Atom]:
    """Each whole number followed by a fraction grows to take it in ("two and a half years" is 2.5 years, not
    2): its unit and magnitude are then read after the fraction ("one and a half million" is 1.5 million)."""
    out: list[_Atom] = []
    end = -1
    for a in atoms:
        if a.start < end:
            continue  # inside the fraction just read ("3 1/2": the 1)
        m = _MIXED_RE.match(text, a.end) if not a.ordinal else None
        if m is not None and (m.group(4) is None or m.group(4) < m.group(5)):
            part = m.group(1) or m.group(2) or m.group(3)
            frac = _MIXED_PART[part.lower()] if part else int(m.group(4)) / int(m.group(5))
            a.value += frac * a.scale
            a.sig = _sig_of_value(a.value / a.scale)
            a.end = end = m.end()
            a.year_like = False
        out.append(a)
    return out


def _numbers(scan: Scan) -> None:
    """Digits, number words and dozens, with their context: currency, magnitude, unit, hedge, range."""
    text, mask = scan.text, scan.mask
    atoms = (
        (_dozen_atoms(text, mask) if "dozen" in scan.low else []) + _digit_atoms(text, mask) + _word_atoms(text, mask)
    )
    atoms.sort(key=lambda a: a.start)
    if any(w in scan.low for w in ("half", "quarter", "½", "¼", "¾", "/")):
        atoms = _mixed(text, atoms)
    i = 0
    while i < len(atoms):
        i = _read_quantity(text, atoms, i, scan.out)


# The extraction passes, in order: each masks what it read, so a later pass never reads it again.
# A new pattern is one function above and one entry here.
PASSES: tuple[Callable[[Scan], None], ...] = (
    _times, _times24, _iso_dates, _slash_dates, _month_dates, _few, _vague, _ages, _fractions, _formations, _seasons,
    _numbers,
)  # fmt: skip


def extract_quantities(text: str) -> list[Quantity]:
    """Every figure in ``text`` with its value, kind, qualifier and span (indexes ``text``)."""
    scan = Scan(text)
    for read in PASSES:
        read(scan)
    scan.out.sort(key=lambda q: q.start)
    if "(" in text:
        _hedge_conversions(scan)
    return scan.out


_OPEN_PAREN = re.compile(r"[ \t]*\([ \t]*")
_CLOSE_PAREN = re.compile(r"[ \t]*\)")


def _hedge_conversions(scan: Scan) -> None:
    """A conversion in brackets says its figure as hedged as the one it converts: in "up to 10 inches (25cm)"
    and "at least 16,000 hectares (40,000 acres)" the second figure is a bound too, so "25cm of snow" is not
    supported by it (it was, as an exact 25cm). Measures of one dimension, or money, only."""
    text = scan.text
    for a, b in itertools.pairwise(scan.out):
        if a.qualifier == "exact" or b.qualifier != "exact" or a.kind != b.kind or a.kind not in ("measure", "money"):
            continue
        if _OPEN_PAREN.fullmatch(text, a.end, b.start) is None or _CLOSE_PAREN.match(text, b.end) is None:
            continue
        if a.kind == "measure" and (a.unit is None or b.unit is None or unit_info(a.unit)[2] != unit_info(b.unit)[2]):
            continue
        if a.value <= 0:
            continue
        ratio = b.value / a.value  # the bounds scale as the figures do; an open end (0, inf) stays open
        b.qualifier = a.qualifier
        b.low, b.high = (x * ratio if x not in (0.0, INF) else x for x in (a.low, a.high))


def word_value(token: str) -> float | None:
    """A number written as digits or as one or more number words ("31", "thirty-one")."""
    t = token.replace(",", "")
    if t.isdigit():
        return float(t)
    from text_to_num import text2num

    try:
        return float(text2num(t.lower().replace("-", " "), "en"))
    except ValueError:
        return None


def _read_quantity(text: str, atoms: list[_Atom], i: int, out: list[Quantity]) -> int:
    """Turn atom ``i`` (and a range partner) into quantities; return the next atom index."""
    a = atoms[i]
    s, e = a.start, a.end
    if a.ordinal or (a.is_digits and re.match(r"(?:st|nd|rd|th)\b", text[e : e + 3])):
        end = e if a.ordinal else e + 2
        out.append(_mk(text, s, end, a.value, a.value, a.value, "ordinal", None, "exact", a.sig))
        return i + 1
    if (
        a.is_digits
        and a.value.is_integer()
        and MATCH_MINUTE_RE.match(text, e)
        and not HEDGE_RE.search(text, max(0, s - 16), s)
    ):
        # "an 87 minute winner" is the 87th minute of a match, not 87 minutes of play ("a 90-minute match").
        out.append(_mk(text, s, e, a.value, a.value, a.value, "ordinal", None, "exact", a.sig))
        return i + 1
    if a.year_like and text.startswith("s", e) and not text[e + 1 : e + 2].isalpha():  # the 1990s
        out.append(_mk(text, s, e + 1, a.value, a.value, a.value + 9, "year", None, "range", 3))
        return i + 1

    end, scale, kind, unit, mag = _suffix(text, e)
    pre = s
    cm = CUR_PREFIX_RE.search(text, max(0, s - 6), s)
    if cm and kind == "measure" and unit == "meter" and text[e:end].strip() == "m":
        kind, unit, scale, mag = None, None, 1e6, "m"  # "£ 7.8 m" (tokenised text): millions, not metres
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
    if hedge == "over" and DURATION_AFTER_RE.match(text, e):
        qualifier, lo_f, hi_f = "exact", 1.0, 1.0  # "over two seasons": a span of time, not a bound
    if hedge == "up to" and hm and MOVED_UP_TO_RE.search(text, max(0, hm.start() - 40), hm.start()):
        qualifier, lo_f, hi_f = "exact", 1.0, 1.0  # "moved Lyon up to 64 points": where it went, not a bound
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
            score = dash and kind is None and a.is_digits and b.is_digits and _reads_as_score(text, lo_v, hi_v, s, end2)
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


def _reads_as_score(text: str, first: float, second: float, start: int, end: int) -> bool:
    """A dash pair of bare numbers is a score when the first is not below the second ("2-1") or the sentence
    talks of a match: the one reading of extraction (which skips scores) and :func:`scores`."""
    return first >= second or SCORE_CONTEXT_RE.search(text, _sentence_start(text, start), end + 20) is not None


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


def readings(q: Quantity) -> tuple[Quantity, ...]:
    """``q`` and the other way its text may be read: "46m" is 46 million or 46 metres; "46 m" the same."""
    t = q.text.rstrip()
    if q.kind == "count" and q.scale == 1e6 and t.endswith("m") and t[-2:-1].isdigit():
        v = q.value / 1e6
        metres = q.model_copy(update={"kind": "measure", "unit": "meter", "value": v, "low": q.low / 1e6,
                                      "high": q.high / 1e6, "scale": 1.0})  # fmt: skip
        return (q, metres)
    if q.kind == "measure" and q.unit == "meter" and t.endswith("m") and q.qualifier == "exact":
        million = q.model_copy(update={"kind": "count", "unit": None, "value": q.value * 1e6,
                                       "low": q.low * 1e6, "high": q.high * 1e6, "scale": 1e6})  # fmt: skip
        return (q, million)
    if q.qualifier in ("more_than", "less_than") and _THAN_THE.match(q.text):
        # "more than the £100,000-a-week contract": a bound on what is compared, and the figure of the contract.
        return (q, q.model_copy(update={"qualifier": "exact", "low": q.value, "high": q.value}))
    return (q,)


_THAN_THE = re.compile(r"(?i)\w+[ \t]+than[ \t]+the\b")


_SCORE_RE = re.compile(
    r"(?<![\d.,])(?<!\d-)(\d{1,3})[ \t]*[-–][ \t]*(\d{1,3})(?![\d%A-Za-z]|[.,]\d|-\d|[ \t]*(?:per\b|%))"
)  # not inside a formation ("4-3-3")


@lru_cache(maxsize=16384)
def scores(text: str) -> frozenset[tuple[int, int]]:
    """The scores of ``text`` ("2-1", "40 - 13"), each as (low, high): not quantities, but a claim's score
    must still be the evidence's (read as :func:`_reads_as_score` reads them for extraction)."""
    out: set[tuple[int, int]] = set()
    for m in _SCORE_RE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if _reads_as_score(text, a, b, m.start(), m.end()):
            out.add((min(a, b), max(a, b)))
    return frozenset(out)
