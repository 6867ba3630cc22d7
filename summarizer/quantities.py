"""Find the figures in news prose and decide, deterministically, whether cited evidence states them.

Extraction (:func:`extract_quantities`) works on whole tokens with precompiled regexes:

* digits (``1,000``, ``2.5``, ``1.2m``, ``$3bn``, ``US$400 million``), number words through text2num
  (only on runs of number words, so spans index the original text), ``a dozen``;
* magnitudes (``thousand``/``k``, ``million``/``m``/``mn``, ``billion``/``bn``, ``trillion``/``tn``):
  ``scale`` keeps a million/billion slip visible;
* percentages (``%``, ``per cent``, ``percent``) and ``percentage points``; currencies (symbols, codes,
  words);
  units through pint (``1,000-kilometre`` and ``620-mile`` come out in metres);
* hedges and bounds (``about``, ``at least``, ``more than``, ``up to``, ``fewer than`` … ``or more``),
  ranges (``20-30``, ``40,000 to 50,000``, ``between 20 and 30``) and vague amounts (``hundreds``,
  ``dozens``, ``tens of thousands``), which are intervals, never exact values;
* years, dates (``May 20``), times (``4:00pm``) and ordinals (``127th``, ``third``) get their own kinds and
  are only ever compared with their own kind. Scores (``2-1``) and numbers inside identifiers
  (``COVID-19``, ``F-16``, ``A320``, ``G7``, ``B-52``, ``5G``) are not quantities at all.

Support rules (:func:`check_support`), for a claim quantity against the quantities of the evidence:

* exact claim: the evidence states the same value, in the same kind and a compatible unit/currency. It may be
  *rounded* only if the claim has fewer significant digits than the evidence and the evidence rounds to it
  at the claim's precision (``300`` from ``307``; not ``370`` from ``307``). A hedged claim (``about``) may
  also be within 10%. Units convert through pint; a conversion is accepted when either side rounds to the
  other at that side's precision (``1,000 km`` ⇔ ``620 miles``).
* an exact claim is never supported by a bound, range, vague or hedged figure (``15 injured`` is not
  supported by ``at least 15 injured``; ``60 units`` is not supported by ``about 60 units``).
* a bound, range or vague claim is supported when the evidence's interval lies inside the claim's interval
  (``at least 10`` ⊇ ``15``; ``at least 15`` ⊇ ``at least 15``; ``hundreds`` ⊇ ``307``).
* years, dates, times and ordinals must match exactly (``2023`` is not ``2022``).
* derived (optional): an exact count/amount that is the sum or difference of two exact figures of the same
  evidence item (``14`` missiles, ``six`` shot down → ``8`` got through).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any, Literal

from pydantic import BaseModel

QuantityKind = Literal["count", "money", "percent", "points", "measure", "ordinal", "year", "date", "time"]
Qualifier = Literal["exact", "approx", "at_least", "more_than", "at_most", "less_than", "range", "vague"]

INF = math.inf
_EXACTISH = ("exact", "approx")
_TOKEN_KINDS = ("year", "date", "time", "ordinal")  # matched by value, never compared with counts


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
    matched: list[Candidate] = []
    candidates: list[Candidate] = []
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


# ----------------------------------------------------------------------------- lexicons and regexes

_CARDINALS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "billion",
    "trillion",
]
_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
    "fortieth",
    "fiftieth",
    "sixtieth",
    "seventieth",
    "eightieth",
    "ninetieth",
    "hundredth",
    "thousandth",
    "millionth",
]
_MAGNITUDE_WORDS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def _trie_regex(words: Sequence[str]) -> str:
    """An alternation factored by prefix: Python's re does not do this itself, and it is ~5x faster."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        optional = "" in node
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if optional else body

    return walk(trie)


def _ci(words: Sequence[str]) -> list[str]:
    return [v for w in words for v in (w, w.capitalize(), w.upper())]


# Case variants spelled out instead of (?i): much faster to scan.
_NW = "(?:" + _trie_regex(_ci(_CARDINALS + _ORDINALS)) + r")\b"
# A run of number words; text2num then splits and parses it ("five and six" -> 5, 6).
_WORD_RUN_RE = re.compile(rf"\b{_NW}(?:(?:[ \t]+(?:and|AND)[ \t]+|[ \t]*-[ \t]*|[ \t]+){_NW})*")
_WORD_TOKEN_RE = re.compile(r"[A-Za-z]+|-")

_NUM_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
)
_DATE_MD_RE = re.compile(rf"\b(?=[JFMASOND])({_MONTH})\.?[ \t]+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![,.]\d|:)")
_DATE_DM_RE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?({_MONTH})\b")
_DATE_TAIL_RE = re.compile(r"[ \t]*[-–][ \t]*(\d{1,2})\b(?![,.]\d)")
_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SLASH_DATE_RE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_TIME_RE = re.compile(r"(?i)\b(\d{1,2})(?:[:.](\d{2}))?[ \t]?([ap])\.?[ \t]?m\b\.?")
_TIME24_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")

_VAGUE_BASE = {"tens": (20, 99), "dozens": (24, 143), "hundreds": (200, 999), "thousands": (2000, 9999),
               "millions": (2e6, 999_999_999), "billions": (2e9, 999_999_999_999)}  # fmt: skip
_VAGUE_MULT = {"thousands": 1e3, "millions": 1e6, "billions": 1e9}
_VAGUE_RE = re.compile(
    r"(?i)\b(tens|dozens|hundreds|thousands|millions|billions)"
    r"(?:[ \t]+(?:of[ \t]+)?(thousands|millions|billions))?\b"
)
_FEW_RE = re.compile(
    r"(?i)\b(several|a[ \t]+few|a[ \t]+couple[ \t]+of)[ \t]+(hundred|thousand|million|billion|dozen)\b"
)
_DOZEN_RE = re.compile(r"(?i)\b(?:(half)[ \t]+a[ \t]+|(a|one|two|three|four|five|six|\d+)[ \t]+|half-)dozen\b")

# Suffixes that may follow a digit directly ("3bn", "5km", "127th", "1990s"); anything else makes it an id.
_ATTACHED_OK_RE = re.compile(
    r"(?:st|nd|rd|th|s|bn|mn|mln|bln|tn|trn|m|b|k|M|B|K|km/h|kmh|kph|km²|km2|km|kg|cm|mm|mph|ft|lbs|lb|ha|"
    r"hrs|hr|h|mins|min|secs|sec|MWh|GWh|kWh|MW|GW|kW|pc|pp|bps|bp|ml|m²|m2|°C|°F|C|F)(?![A-Za-z])"
)
_MAG_RE = re.compile(
    r"(?:(bn|mn|mln|bln|tn|trn|m|b|k|M|B|K)(?![A-Za-z0-9])|[ \t]?(bn|mn|tn)\b"
    r"|[ \t]+(thousand|million|billion|trillion)\b(?!s))"
)
_MAG_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6, "b": 1e9,
              "bn": 1e9, "bln": 1e9, "billion": 1e9, "tn": 1e12, "trn": 1e12, "trillion": 1e12}  # fmt: skip

_CUR_PREFIX = {"US$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "NZ$": "NZD",
               "HK$": "HKD", "S$": "SGD", "$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR",
               "₴": "UAH", "₽": "RUB", "$US": "USD", "$AU": "AUD", "$A": "AUD", "$NZ": "NZD",
               "$C": "CAD"}  # fmt: skip
_CODES = "USD|AUD|GBP|EUR|CAD|NZD|JPY|CNY|RMB|INR|UAH|RUB|CHF|HKD|SGD"
_AU_STYLE_CUR_RE = re.compile(r"\$(?:US|AU|A|NZ|C)$")  # ABC style: "$US1,000"
_CUR_PREFIX_RE = re.compile(
    r"(?:(US\$|AU\$|A\$|CA\$|C\$|NZ\$|HK\$|S\$|\$US|\$AU|\$A|\$NZ|\$C|\$|£|€|¥|₹|₴|₽)|\b(" + _CODES + r")[ \t])[ \t]?$"
)
_CUR_WORD_RE = re.compile(
    r"[ \t]+(?:(US|U\.S\.|American|Australian|Canadian|New[ \t]Zealand|Hong[ \t]Kong|Singapore)[ \t]+)?"
    r"(dollars?|euros?|pounds?(?:[ \t]+sterling)?|sterling|yen|yuan|renminbi|rupees?|roubles?|rubles?|"
    r"hryvnias?|hryvnia|francs?|" + _CODES + r")\b"
)
_CUR_WORDS = {"dollar": "USD", "euro": "EUR", "pound": "GBP", "sterling": "GBP", "yen": "JPY", "yuan": "CNY",
              "renminbi": "CNY", "rupee": "INR", "rouble": "RUB", "ruble": "RUB", "hryvnia": "UAH",
              "franc": "CHF", "RMB": "CNY"}  # fmt: skip
_DOLLAR_NATION = {"us": "USD", "u.s.": "USD", "american": "USD", "australian": "AUD", "canadian": "CAD",
                  "new zealand": "NZD", "hong kong": "HKD", "singapore": "SGD"}  # fmt: skip
_DOLLARS = {"USD", "AUD", "CAD", "NZD", "HKD", "SGD"}

_PCT_RE = re.compile(
    r"(?i)(?:[ \t]*(%)|[ \t]*(per[ \t]?cent|percent|pct)\b|[ \t]+(percentage[ \t-]points?)\b"
    r"|[ \t]+(basis[ \t]+points?)\b|(?-i:[ \t]*(pp|bps|bp))\b)"
)

# Surface unit -> pint expression. Word units match case-insensitively, abbreviations case-sensitively.
_WORD_UNITS = {
    "kilometre": "kilometer", "kilometer": "kilometer", "metre": "meter", "meter": "meter",
    "centimetre": "centimeter", "centimeter": "centimeter", "millimetre": "millimeter",
    "millimeter": "millimeter", "mile": "mile", "nautical mile": "nautical_mile", "foot": "foot",
    "feet": "foot", "inch": "inch", "inches": "inch", "yard": "yard", "kilogram": "kilogram",
    "kilogramme": "kilogram", "gram": "gram", "gramme": "gram", "tonne": "metric_ton",
    "ton": "metric_ton", "litre": "liter", "liter": "liter", "gallon": "gallon", "hectare": "hectare",
    "acre": "acre", "square kilometre": "kilometer**2", "square kilometer": "kilometer**2",
    "square mile": "mile**2", "square metre": "meter**2", "square meter": "meter**2",
    "kilometres per hour": "kilometer/hour", "kilometers per hour": "kilometer/hour",
    "miles per hour": "mile/hour", "knot": "knot", "hour": "hour", "minute": "minute", "second": "second",
    "day": "day", "week": "week", "month": "month", "year": "year", "decade": "decade",
    "century": "century", "centuries": "century", "megawatt": "megawatt", "gigawatt": "gigawatt",
    "kilowatt": "kilowatt", "degrees celsius": "degC", "degrees fahrenheit": "degF",
}  # fmt: skip
_ABBR_UNITS = {
    "km/h": "kilometer/hour", "kmh": "kilometer/hour", "kph": "kilometer/hour", "km²": "kilometer**2",
    "km2": "kilometer**2", "sq km": "kilometer**2", "km": "kilometer", "kg": "kilogram", "cm": "centimeter",
    "mm": "millimeter", "mph": "mile/hour", "ft": "foot", "lbs": "pound", "lb": "pound", "ha": "hectare",
    "hrs": "hour", "hr": "hour", "h": "hour", "mins": "minute", "min": "minute", "secs": "second",
    "sec": "second", "MWh": "megawatt_hour", "GWh": "gigawatt_hour", "kWh": "kilowatt_hour",
    "MW": "megawatt", "GW": "gigawatt", "kW": "kilowatt", "m²": "meter**2", "m2": "meter**2",
    "°C": "degC", "°F": "degF", "ml": "milliliter", "m": "meter",
}  # fmt: skip


def _unit_alternation(keys: Sequence[str], plural: bool) -> str:
    parts = []
    for k in sorted(keys, key=len, reverse=True):
        p = re.escape(k).replace(r"\ ", r"[ \t]+")
        if plural and not k.endswith(("s", "feet", "inches", "centuries")):
            p += "(?:s|es)?"
        parts.append(p)
    return "|".join(parts)


_UNIT_RE = re.compile(
    r"(?:[ \t]*[-‑][ \t]*|[ \t]+|)"
    r"(?:(?i:(" + _unit_alternation(list(_WORD_UNITS), True) + r"))(?:-old|[ \t]+old)?(?![A-Za-z])"
    r"|(" + _unit_alternation(list(_ABBR_UNITS), False) + r")(?![A-Za-z0-9]))"
)
_POUND_WEIGHT_RE = re.compile(r"[ \t]*-[ \t]*pounds?\b|[ \t]*-[ \t]*pounder\b")

_HEDGES: dict[str, tuple[Qualifier, float, float]] = {
    # phrase -> (qualifier, low factor, high factor); bounds use their own interval.
    "at least": ("at_least", 1, INF), "no fewer than": ("at_least", 1, INF),
    "no less than": ("at_least", 1, INF), "not less than": ("at_least", 1, INF),
    "a minimum of": ("at_least", 1, INF), "minimum of": ("at_least", 1, INF),
    "more than": ("more_than", 1, INF), "over": ("more_than", 1, INF), "above": ("more_than", 1, INF),
    "in excess of": ("more_than", 1, INF), "upwards of": ("more_than", 1, INF),
    "exceeding": ("more_than", 1, INF), "greater than": ("more_than", 1, INF),
    "just over": ("more_than", 1, INF), "well over": ("more_than", 1, INF),
    "up to": ("at_most", 0, 1), "at most": ("at_most", 0, 1), "no more than": ("at_most", 0, 1),
    "not more than": ("at_most", 0, 1), "a maximum of": ("at_most", 0, 1),
    "maximum of": ("at_most", 0, 1), "as many as": ("at_most", 0, 1),
    "less than": ("less_than", 0, 1), "fewer than": ("less_than", 0, 1), "under": ("less_than", 0, 1),
    "below": ("less_than", 0, 1), "just under": ("less_than", 0, 1),
    "about": ("approx", 0.9, 1.1), "around": ("approx", 0.9, 1.1), "roughly": ("approx", 0.9, 1.1),
    "approximately": ("approx", 0.9, 1.1), "approx.": ("approx", 0.9, 1.1), "some": ("approx", 0.9, 1.1),
    "an estimated": ("approx", 0.9, 1.1), "estimated": ("approx", 0.9, 1.1), "circa": ("approx", 0.9, 1.1),
    "close to": ("approx", 0.9, 1.0), "nearly": ("approx", 0.9, 1.0), "almost": ("approx", 0.9, 1.0),
    "~": ("approx", 0.9, 1.1), "between": ("range", 1, 1), "from": ("exact", 1, 1),
}  # fmt: skip
_HEDGE_RE = re.compile(
    r"(?i)(?<![A-Za-z])("
    + "|".join(re.escape(h).replace(r"\ ", r"[ \t]+") for h in sorted(_HEDGES, key=len, reverse=True))
    + r")[ \t]*$"
)
_RANGE_CUR_RE = re.compile(r"US\$|AU\$|A\$|£|€|\$")
_POSTFIX_RE = re.compile(r"(?i)[ \t]+or[ \t]+(more|so|fewer|less)\b|(\+)(?![\d])|-(plus)\b")
_RANGE_RE = re.compile(r"(?i)[ \t]*([-–—])[ \t]*|[ \t]+(to|and)[ \t]+")
_SCORE_CONTEXT_RE = re.compile(
    r"(?i)\b(?:won|win|wins|beat|beats|lost|loses|lose|defeat(?:ed|s)?|victory|draw|drew|scored?|"
    r"led|leads|trail(?:ed|s)?|thrashed|downed|edged|final|match|game)\b"
)
_YEAR_CUE_RE = re.compile(
    r"(?i)(?:\b(?:in|since|from|until|till|by|of|during|before|after|year|years|early|late|mid|the|this|"
    r"last|next|and|to|or|between|summer|winter|spring|autumn|fall|season)|'s|’s|[(–—-]|" + _MONTH + r")[ \t]*$"
)
_COUNT_NOUN_RE = re.compile(
    r"[ \t]+(?:people|children|men|women|police|staff|personnel|troops|residents|soldiers|"
    r"(?!was\b|has\b|is\b|as\b|this\b|us\b|its\b|his\b|does\b|sees\b|marks\b)[a-z]+s)\b"
)
_NAME_BEFORE_RE = re.compile(r"[A-Z][A-Za-z]*[ \t]+$")
_FRACTION_BEFORE_RE = re.compile(r"(?i)\b(?:a|one|two|three)[ \t-]+$")
_ONE_BEFORE_RE = re.compile(r"(?i)\b(?:no|any|every|each|some|the|this|that|which|last|only)[ \t]+$")
_ONE_AFTER_RE = re.compile(r"(?i)[ \t]+(?:of|another|day|way|time|point)\b")
_MAGNITUDE_ONLY_BEFORE_RE = re.compile(r"(?i)\b(?:a|one)[ \t]+$")
_IDENT_PREFIX_OK = {"mid", "pre", "post", "late", "early", "end", "circa"}


# ----------------------------------------------------------------------------- pint (lazy, created once)

_UREG: Any = None


def _ureg() -> Any:
    global _UREG
    if _UREG is None:
        import pint  # slow to import and to build; done once, on first unit

        _UREG = pint.UnitRegistry()
    return _UREG


@cache
def _unit_info(expr: str) -> tuple[str, float, str]:
    """(canonical name, factor to SI base, dimensionality key) for a pint unit expression."""
    ureg = _ureg()
    unit = ureg.Unit(expr)
    base = ureg.Quantity(1.0, unit).to_base_units()
    return str(unit), float(base.magnitude), str(base.units)


def _to_base(v: float, unit: str) -> float:
    if unit in ("degree_Celsius", "degree_Fahrenheit"):  # offset units cannot scale by a factor
        if math.isinf(v):
            return v
        return float(_ureg().Quantity(v, unit).to_base_units().magnitude)
    return v * _unit_info(unit)[1]


def _from_base(v: float, unit: str) -> float:
    if unit in ("degree_Celsius", "degree_Fahrenheit"):
        ureg = _ureg()
        return float(ureg.Quantity(v, "kelvin").to(unit).magnitude)
    return v / _unit_info(unit)[1]


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


def _sig_digits(digits: str) -> int:
    s = digits.replace(",", "")
    if "." in s:
        s = s.replace(".", "").lstrip("0")
        return max(1, len(s))
    s = s.lstrip("0").rstrip("0")
    return max(1, len(s))


def _sig_of_value(v: float) -> int:
    if v == int(v):
        return _sig_digits(str(int(v)))
    return _sig_digits(repr(v))


def _mk(text: str, s: int, e: int, value: float, low: float, high: float, kind: Any, unit: str | None,
        qualifier: Any, sig: int, scale: float = 1.0) -> Quantity:  # fmt: skip
    return Quantity(text=text[s:e], start=s, end=e, value=value, low=low, high=high, kind=kind, unit=unit,
                    qualifier=qualifier, sig_digits=sig, scale=scale)  # fmt: skip


def _digit_atoms(text: str, mask: bytearray) -> list[_Atom]:
    atoms: list[_Atom] = []
    n = len(text)
    for m in _NUM_RE.finditer(text):
        s, e = m.span()
        if mask[s]:
            continue
        prev = text[s - 1] if s else " "
        if (prev.isalnum() or prev == "_") and not _AU_STYLE_CUR_RE.search(text, max(0, s - 4), s):
            continue  # A320, G7, MH17 (but "$US1,000" is money)
        if prev in ".,/:" and s >= 2 and text[s - 2].isdigit():
            continue  # versions, fractions, ratios
        if prev in "-‑" and s >= 2 and text[s - 2].isalpha():
            j = s - 2
            while j > 0 and text[j - 1].isalpha():
                j -= 1
            if text[j : s - 1].lower() not in _IDENT_PREFIX_OK:
                continue  # COVID-19, F-16, B-52
        if e < n:
            nxt = text[e]
            if nxt.isalpha() or nxt in "²°":
                if not _ATTACHED_OK_RE.match(text, e):
                    continue  # 5G, 3D, 4x4
            elif nxt in "/:" and e + 1 < n and text[e + 1].isdigit():
                continue  # 24/7, 2:1
        digits = m.group()
        value = float(digits.replace(",", ""))
        year_like = len(digits) == 4 and digits.isdigit() and 1900 <= value <= 2100
        atoms.append(_Atom(s, e, value, _sig_digits(digits), is_digits=True, year_like=year_like))
    return atoms


def _word_atoms(text: str, mask: bytearray) -> list[_Atom]:
    from text_to_num import find_numbers

    atoms: list[_Atom] = []
    for m in _WORD_RUN_RE.finditer(text):
        base = m.start()
        toks = [(t.start(), t.end(), t.group()) for t in _WORD_TOKEN_RE.finditer(m.group())]
        occs = find_numbers([_Tok(t[2]) for t in toks], "en", 0.0)
        for o in occs:
            if o.start >= len(toks):
                continue
            s = base + toks[o.start][0]
            e = base + toks[o.end - 1][1]
            if mask[s] or mask[e - 1]:
                continue
            words = [t[2].lower() for t in toks[o.start : o.end] if t[2] != "-"]
            if all(w in _MAGNITUDE_WORDS or w == "and" for w in words) and not _MAGNITUDE_ONLY_BEFORE_RE.search(
                text, max(0, s - 6), s
            ):
                continue  # "2.5 million", "the hundred fires": the digits' context handles it
            value = float(o.value)
            if o.is_ordinal:
                if value <= 2 or _FRACTION_BEFORE_RE.search(text, max(0, s - 8), s):
                    continue  # "first", "second", "a third of": not figures to check
            elif words == ["one"] and (_ONE_BEFORE_RE.search(text, max(0, s - 8), s) or _ONE_AFTER_RE.match(text, e)):
                continue  # "one of the largest", "no one"
            if text[s].isupper() and s > 1 and _NAME_BEFORE_RE.search(text, max(0, s - 30), s):
                prev_end = text[:s].rstrip()
                if prev_end and prev_end[-1] not in '.!?:;"“':
                    continue  # "Channel Nine", "Formula One"
            scale = 1.0
            for w in reversed(words):
                if w in _MAGNITUDE_WORDS and value >= _MAGNITUDE_WORDS[w]:
                    scale = _MAGNITUDE_WORDS[w] if w != "hundred" else 1.0
                    break
            atoms.append(_Atom(s, e, value, _sig_of_value(value), is_digits=False, ordinal=bool(o.is_ordinal),
                               scale=scale))  # fmt: skip
    return atoms


def _dozen_atoms(text: str, mask: bytearray) -> list[_Atom]:
    from text_to_num import text2num

    atoms: list[_Atom] = []
    for m in _DOZEN_RE.finditer(text):
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
    m = _MAG_RE.match(text, pos)
    if m:
        mag = m.group(1) or m.group(2) or m.group(3)
        # A lone " m" spaced from the number is a metre, not a million.
        scale = _MAG_SCALE[mag.lower()]
        pos = m.end()
    m = _CUR_WORD_RE.match(text, pos)
    if m:
        word = m.group(2)
        key = word.lower().rstrip("s") if word.upper() != word else word
        if key.startswith("pound"):
            key = "pound"
        unit = _CUR_WORDS.get(key, word.upper() if word.isupper() else None)
        if unit is None:
            unit = word.upper()
        if m.group(1) and key == "dollar":
            unit = _DOLLAR_NATION.get(re.sub(r"\s+", " ", m.group(1).lower()), "USD")
        return m.end(), scale, "money", unit, mag
    m = _PCT_RE.match(text, pos)
    if m:
        if m.group(1) or m.group(2):
            return m.end(), scale, "percent", "%", mag
        if m.group(3) or (m.group(5) == "pp"):
            return m.end(), scale, "points", "pp", mag
        return m.end(), scale, "points", "bp", mag
    m = _POUND_WEIGHT_RE.match(text, pos)
    if m:
        return m.end(), scale, "measure", "pound", mag
    m = _UNIT_RE.match(text, pos)
    if m:
        if m.group(1):
            word = re.sub(r"\s+", " ", m.group(1).lower())
            expr = _WORD_UNITS.get(word) or _WORD_UNITS.get(word[:-1]) or _WORD_UNITS.get(word[:-2])
        else:
            expr = _ABBR_UNITS.get(re.sub(r"\s+", " ", m.group(2)))
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

    for m in _TIME_RE.finditer(text):
        h, mi = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= h <= 12 or mi > 59:
            continue
        h = h % 12 + (12 if m.group(3).lower() == "p" else 0)
        s, e = m.span()
        out.append(_mk(text, s, e, h * 60 + mi, h * 60 + mi, h * 60 + mi, "time", None, "exact", 1))
        consume(s, e)
    for m in _TIME24_RE.finditer(text) if ":" in text else ():
        s, e = m.span()
        if mask[s]:
            continue
        v = int(m.group(1)) * 60 + int(m.group(2))
        out.append(_mk(text, s, e, v, v, v, "time", None, "exact", 1))
        consume(s, e)
    for m in _ISO_DATE_RE.finditer(text):
        mo, d = int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            v = mo * 100 + d
            out.append(_mk(text, m.start(), m.end(), v, v, v, "date", None, "exact", 1))
            y = int(m.group(1))
            out.append(_mk(text, m.start(1), m.end(1), y, y, y, "year", None, "exact", 4))
            consume(m.start(), m.end())
    for m in _SLASH_DATE_RE.finditer(text) if "/" in text else ():
        consume(m.start(), m.end())  # day/month order is ambiguous: not checked
    for rx, mgroup, dgroup in ((_DATE_MD_RE, 1, 2), (_DATE_DM_RE, 2, 1)):
        for m in rx.finditer(text):
            s, e = m.span()
            if mask[s] or mask[e - 1]:
                continue
            mo, d = _MONTHS[m.group(mgroup)[:3].lower()], int(m.group(dgroup))
            if not 1 <= d <= 31:
                continue
            v = mo * 100 + d
            out.append(_mk(text, s, e, v, v, v, "date", None, "exact", 1))
            consume(s, e)
            t = _DATE_TAIL_RE.match(text, e) if dgroup == 2 else None
            if t and 1 <= int(t.group(1)) <= 31:  # "May 20-23"
                v2 = mo * 100 + int(t.group(1))
                out.append(_mk(text, t.start(1), t.end(1), v2, v2, v2, "date", None, "exact", 1))
                consume(t.start(1), t.end(1))
    low_text = text.lower()
    few = "several" in low_text or "few" in low_text or "couple" in low_text
    for m in _FEW_RE.finditer(text) if few else ():
        s, e = m.span()
        mult = 12 if m.group(2).lower() == "dozen" else _MAGNITUDE_WORDS[m.group(2).lower()]
        out.append(_mk(text, s, e, 2 * mult, 2 * mult, 10 * mult - 1, "count", None, "vague", 1))
        consume(s, e)
    vague = any(w in low_text for w in ("tens", "dozens", "hundreds", "thousands", "millions", "billions"))
    for m in _VAGUE_RE.finditer(text) if vague else ():
        s, e = m.span()
        if mask[s]:
            continue
        lo, hi = _VAGUE_BASE[m.group(1).lower()]
        mult = _VAGUE_MULT[m.group(2).lower()] if m.group(2) else 1.0
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
    cm = _CUR_PREFIX_RE.search(text, max(0, s - 6), s)
    if cm and kind != "percent":
        code = _CUR_PREFIX.get(cm.group(1)) if cm.group(1) else cm.group(2)
        if code == "RMB":
            code = "CNY"
        if kind != "money":
            kind, unit = "money", code
        pre = cm.start()
    hm = _HEDGE_RE.search(text, max(0, pre - 16), pre)
    hedge = hm.group(1).lower() if hm else None
    if hedge is not None:
        hedge = re.sub(r"\s+", " ", hedge)
    qualifier, lo_f, hi_f = _HEDGES[hedge] if hedge else ("exact", 1.0, 1.0)
    start = hm.start() if hm and hedge not in ("between", "from") else pre

    # Years: a bare 4-digit number with no unit or hedge, unless it clearly counts something.
    cue = a.year_like and _YEAR_CUE_RE.search(text, max(0, s - 12), s)
    if (a.year_like and kind is None and mag is None and qualifier in ("exact", "range")
            and (cue or not _COUNT_NOUN_RE.match(text, e))):  # fmt: skip
        out.append(_mk(text, s, e, a.value, a.value, a.value, "year", None, "exact", 4))
        j = -1
        r = _RANGE_RE.match(text, e)
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
    r = _RANGE_RE.match(text, e if mag is None and kind is None else end)
    if r and (r.group(2) is None or r.group(2).lower() == "to" or hedge == "between"):
        nxt = r.end()
        pm = _RANGE_CUR_RE.match(text, nxt)  # "$3bn to $4bn"
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
                and (lo_v >= hi_v or _SCORE_CONTEXT_RE.search(text, _sentence_start(text, s), end2 + 20))
            )
            if score:
                return j + 1  # a score such as 2-1 or 1-1: not a quantity
            if kind == kind2 and unit == unit2 and lo_v < hi_v and not from_to:
                return _emit_range(text, out, a, b, start, end2, lo_v, hi_v, kind, unit, scale, j)

    if qualifier == "range" or hedge == "from":
        qualifier, lo_f, hi_f = "exact", 1.0, 1.0
        if hedge == "between":
            start = pre
    pf = _POSTFIX_RE.match(text, end)
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
        name = _unit_info(unit)[0]
        unit = name
        v_base = _to_base(value, name)
        low = _to_base(value * lo_f, name) if lo_f not in (0.0, INF) else (0.0 if lo_f == 0 else INF)
        high = _to_base(value * hi_f, name) if hi_f not in (0.0, INF) else (0.0 if hi_f == 0 else INF)
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
        unit = _unit_info(unit)[0]
        lo_v, hi_v = _to_base(lo_v, unit), _to_base(hi_v, unit)
    sig = min(a.sig, b.sig)
    out.append(_mk(text, start, end, (lo_v + hi_v) / 2, lo_v, hi_v, kind_s, unit, "range", sig, scale))
    return j + 1


# ----------------------------------------------------------------------------- comparison


def _dim(q: Quantity) -> str | None:
    if q.kind == "measure" and q.unit:
        return _unit_info(q.unit)[2]
    return q.unit


def _bare_dollar(q: Quantity) -> bool:
    t = q.text
    return q.unit == "USD" and "US" not in t and "U.S." not in t and "American" not in t


def _comparable(a: Quantity, b: Quantity) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "money":
        if a.unit == b.unit:
            return True
        # "$" and "dollars" without a country name can stand for any dollar.
        return (a.unit in _DOLLARS and b.unit in _DOLLARS) and (_bare_dollar(a) or _bare_dollar(b))
    if a.kind == "measure":
        return _dim(a) == _dim(b)
    if a.kind == "points":
        return a.unit == b.unit
    return True


def _close(x: float, y: float) -> bool:
    return x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y))


def _written(q: Quantity, base_value: float) -> float:
    """A value in SI base units, expressed in ``q``'s own unit."""
    if q.kind == "measure" and q.unit:
        return _from_base(base_value, q.unit)
    return base_value


def _step(written: float, sig: int) -> float:
    """The size of one unit in the last significant digit of ``written``."""
    if written == 0:
        return 1.0
    return 10.0 ** (math.floor(math.log10(abs(written))) - sig + 1)


_ROUNDING_LIMIT = 0.05  # nobody "rounds" 14 to 10: a rounding may move the figure by 5% at most


def _rounds_to(target: Quantity, other_base: float) -> bool:
    """Whether ``other_base`` (SI) rounds to ``target`` at target's precision, moving it by <= 5%."""
    t = _written(target, target.value)
    x = _written(target, other_base)
    tol = _step(t, target.sig_digits) / 2
    slack = 1 + 1e-9
    return abs(x - t) <= tol * slack and abs(x - t) <= _ROUNDING_LIMIT * abs(t) * slack


def _bound_from_figure(claim: Quantity, ev_base: float) -> bool:
    """A bound claim taken from a figure: the figure rounded towards the bound, at the claim's precision.

    "more than 300" from 307 and "at least 10" from 15 pass; "more than 201" from 230 does not (that 230
    is most likely another count of the same sentence).
    """
    t = _written(claim, claim.value)
    x = _written(claim, ev_base)
    return abs(x - t) < _step(t, claim.sig_digits) * (1 + 1e-9)


def _interval(q: Quantity) -> tuple[float, bool, float, bool]:
    """(low, low_open, high, high_open)."""
    if q.qualifier == "more_than":
        return q.low, True, q.high, False
    if q.qualifier == "less_than":
        return q.low, False, q.high, True
    return q.low, False, q.high, False


def _contains(outer: Quantity, inner: Quantity) -> bool:
    ol, olo, oh, oho = _interval(outer)
    il, ilo, ih, iho = _interval(inner)
    eps = 1e-9 * max(1.0, abs(ol), abs(il))
    low_ok = il > ol + eps or (abs(il - ol) <= eps and (not olo or ilo))
    eps = 1e-9 * max(1.0, abs(oh) if oh != INF else 1.0, abs(ih) if ih != INF else 1.0)
    if oh == INF:
        high_ok = True
    elif ih == INF:
        high_ok = False
    else:
        high_ok = ih < oh - eps or (abs(ih - oh) <= eps and (not oho or iho))
    return low_ok and high_ok


def _overlap(a: Quantity, b: Quantity) -> bool:
    al, alo, ah, aho = _interval(a)
    bl, blo, bh, bho = _interval(b)
    if al > bh or bl > ah:
        return False
    if al == bh and (alo or bho):
        return False
    return not (bl == ah and (blo or aho))


def _support(claim: Quantity, ev: Quantity) -> str | None:
    """How ``ev`` supports ``claim`` ("exact", "rounded", "converted", "bound") or None."""
    if not _comparable(claim, ev):
        return None
    if claim.kind in _TOKEN_KINDS:
        if claim.qualifier == "range" or ev.qualifier == "range":
            return "exact" if _close(claim.low, ev.low) and _close(claim.high, ev.high) else None
        return "exact" if _close(claim.value, ev.value) else None
    converted = claim.kind == "measure" and claim.unit != ev.unit
    if claim.qualifier in _EXACTISH:
        if ev.qualifier not in _EXACTISH:
            return None  # an exact figure is never supported by a bound or a vague amount
        if _close(claim.value, ev.value):
            return "converted" if converted else "exact"
        hedged = claim.qualifier == "approx"  # "about 300" may round 307 even at equal precision
        if converted:
            if _rounds_to(claim, ev.value) or _rounds_to(ev, claim.value):
                return "converted"
            return None
        if (claim.sig_digits < ev.sig_digits or hedged) and _rounds_to(claim, ev.value):
            return "rounded"
        return None
    # A bound, range or vague claim: the evidence must imply it.
    if claim.qualifier == ev.qualifier and _close(claim.low, ev.low) and _close(claim.high, ev.high):
        return "converted" if converted else "exact"
    if ev.qualifier == "approx" or not _contains(claim, ev):
        return None
    if claim.qualifier in ("vague", "range"):
        return "bound"  # "hundreds" from "307", "20-30" from "25"
    if ev.qualifier == "exact":
        return "bound" if _bound_from_figure(claim, ev.value) else None  # "more than 10" from "15"
    # Bound from bound: only with the same figure ("more than 15" gives "at least 15", not "more than 3").
    return "bound" if _close(claim.value, ev.value) or (converted and _rounds_to(claim, ev.value)) else None


def relation(a: Quantity, b: Quantity) -> Literal["same", "equivalent", "compatible", "different", "incomparable"]:
    """How two figures (e.g. from two sources) relate; see the module docstring for the rules."""
    if not _comparable(a, b):
        return "incomparable"
    if a.kind in _TOKEN_KINDS:
        same = _close(a.low, b.low) and _close(a.high, b.high)
        return "same" if same else ("compatible" if _overlap(a, b) else "different")
    if (a.qualifier == b.qualifier and a.unit == b.unit and _close(a.value, b.value)
            and _close(a.low, b.low) and _close(a.high, b.high)):  # fmt: skip
        return "same"
    if a.qualifier in _EXACTISH and b.qualifier in _EXACTISH:
        if _close(a.value, b.value):
            return "equivalent"
        if _rounds_to(a, b.value) or _rounds_to(b, a.value):
            return "equivalent"
        return "different"
    return "compatible" if _overlap(a, b) else "different"


# ----------------------------------------------------------------------------- support check


@lru_cache(maxsize=16384)
def cached_quantities(text: str) -> tuple[Quantity, ...]:
    """:func:`extract_quantities`, memoised: a sentence is read for every claim that cites it.

    The Quantity objects are shared between callers: treat them as read-only.
    """
    return tuple(extract_quantities(text))


_cached_extract = cached_quantities


_SCALE_WORDS = {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}
_HOW_RANK = {"exact": 0, "converted": 1, "rounded": 2, "bound": 3}


def _distance(claim: Quantity, ev: Quantity) -> float:
    x, y = abs(claim.value), abs(ev.value)
    d = abs(math.log((x + 1e-9) / (y + 1e-9))) if x > 0 and y > 0 else abs(x - y)
    a, b = claim.text, ev.text
    digits_a, digits_b = sorted(c for c in a if c.isdigit()), sorted(c for c in b if c.isdigit())
    if digits_a and digits_a == digits_b:
        d *= 0.2  # a swapped-digit slip is the likeliest explanation
    if not _comparable(claim, ev):
        d += 10.0  # other currency or dimension: only after every comparable figure
    return d


def _reason(q: Quantity, cands: list[Candidate]) -> str:
    if not cands:
        return f"you wrote {q.text}; no cited sentence gives this figure"
    c = cands[0]
    msg = f"you wrote {q.text}; {c.evidence} says {c.quantity.text}"
    cq = c.quantity
    if q.qualifier in _EXACTISH and cq.qualifier not in _EXACTISH and _comparable(q, cq):
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
            ev_q.append((label, k, q))
    by_value: dict[tuple[str, float], list[tuple[str, int, Quantity]]] = {}
    for item in ev_q:
        by_value.setdefault((item[2].kind, round(item[2].value, 6)), []).append(item)

    findings: list[Finding] = []
    for q in claim_q:
        best: tuple[int, Any, str, Quantity] | None = None
        # Fast path: an evidence figure with the very same value.
        for label, _k, e in by_value.get((q.kind, round(q.value, 6)), ()):
            how = _support(q, e)
            if how and (best is None or _HOW_RANK[how] < _HOW_RANK[best[1]]):
                best = (_HOW_RANK[how], how, label, e)
        if best is None or best[0] > 0:
            for label, _k, e in ev_q:
                if e.kind != q.kind:
                    continue
                how = _support(q, e)
                if how and (best is None or _HOW_RANK[how] < _HOW_RANK[best[1]]):
                    best = (_HOW_RANK[how], how, label, e)
        if best is not None:
            findings.append(Finding(quantity=q, supported=True, how=best[1],
                                    matched=[Candidate(evidence=best[2], quantity=best[3])]))  # fmt: skip
            continue
        if allow_derived:
            derived = _derive(q, ev_q)
            if derived:
                findings.append(Finding(quantity=q, supported=True, how="derived", matched=derived,
                                        reason=f"{q.text} = {_derived_text(q, derived)}"))  # fmt: skip
                continue
        same_kind = [(lbl, e) for lbl, _k, e in ev_q if e.kind == q.kind]
        pool = same_kind or [(lbl, e) for lbl, _k, e in ev_q if e.kind not in _TOKEN_KINDS or e.kind == q.kind]
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
        findings.append(Finding(quantity=q, supported=False, how="unsupported", candidates=cands,
                                reason=_reason(q, cands)))  # fmt: skip
    return SupportReport(findings=findings)


def _derive(q: Quantity, ev_q: list[tuple[str, int, Quantity]]) -> list[Candidate]:
    """Two exact figures of one evidence item whose sum or difference is ``q`` (same kind and unit)."""
    if q.kind not in ("count", "money", "measure") or q.qualifier != "exact":
        return []
    groups: dict[int, list[tuple[str, Quantity]]] = {}
    for label, k, e in ev_q:
        if e.qualifier == "exact" and _comparable(q, e) and e.value != 0:
            groups.setdefault(k, []).append((label, e))
    for items in groups.values():
        for x in range(len(items)):
            for y in range(len(items)):
                if x == y:
                    continue
                a, b = items[x][1], items[y][1]
                if (x < y and _close(a.value + b.value, q.value)) or _close(a.value - b.value, q.value):
                    return [
                        Candidate(evidence=items[x][0], quantity=a),
                        Candidate(evidence=items[y][0], quantity=b),
                    ]
    return []


def _derived_text(q: Quantity, ops: list[Candidate]) -> str:
    a, b = ops[0].quantity, ops[1].quantity
    op = "+" if _close(a.value + b.value, q.value) else "-"
    return f"{a.text} {op} {b.text} ({ops[0].evidence})"
