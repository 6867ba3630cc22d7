"""Vocabulary of the number check: number words, months, magnitudes, currencies, units, hedges, and the
regexes built from them; pint unit conversion (lazy, created once)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

from summarizer.text import CARDINALS, ORDINALS

QuantityKind = Literal["count", "money", "percent", "points", "measure", "ordinal", "year", "date", "time"]
Qualifier = Literal["exact", "approx", "at_least", "more_than", "at_most", "less_than", "range", "vague"]

INF = math.inf
EXACTISH = ("exact", "approx")
TOKEN_KINDS = ("year", "date", "time", "ordinal")  # matched by value, never compared with counts
# Kinds that state an amount of something (what a brief reconciles and quotes).
FIGURE_KINDS = frozenset({"count", "money", "percent", "points", "measure"})

# ----------------------------------------------------------------------------- lexicons and regexes

MAGNITUDE_WORDS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


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
_NW = "(?:" + _trie_regex(_ci(CARDINALS + ORDINALS)) + r")\b"
# A run of number words; text2num then splits and parses it ("five and six" -> 5, 6).
WORD_RUN_RE = re.compile(rf"\b{_NW}(?:(?:[ \t]+(?:and|AND)[ \t]+|[ \t]*-[ \t]*|[ \t]+){_NW})*")
WORD_TOKEN_RE = re.compile(r"[A-Za-z]+|-")

NUM_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
# Lower-case month names count too ("july 11" in lower-cased text); see AMBIGUOUS_MONTHS.
_MONTH = "(?:" + _MONTH_NAMES + ")"
_ANY_MONTH = "(?:" + _MONTH_NAMES + "|" + _MONTH_NAMES.lower() + ")"
AMBIGUOUS_MONTHS = frozenset({"may", "march", "jan", "mar"})  # words too: lower case only in lower-case text
# A lower-case month word: the cheap test for running the slower lower-case regexes.
LOWER_MONTH_RE = re.compile(r"(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)")
_MD = r"\.?[ \t]+(\d{1,2})(?:st|nd|rd|th)?\b(?![,.]\d|:)"
_DM = r"\b(\d{1,2})(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?"
DATE_MD_RE = re.compile(r"\b(?=[JFMASOND])(" + _MONTH + ")" + _MD)
DATE_DM_RE = re.compile(_DM + "(" + _MONTH + r")\b")
# The same with lower-case month names ("july 11"), run only when the text holds one (it is slower).
DATE_MD_ANY_RE = re.compile(r"\b(?=[JFMASONDjfmasond])(" + _ANY_MONTH + ")" + _MD)
DATE_DM_ANY_RE = re.compile(_DM + "(" + _ANY_MONTH + r")\b")
DATE_TAIL_RE = re.compile(r"[ \t]*[-–][ \t]*(\d{1,2})\b(?![,.]\d)")
ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SLASH_DATE_RE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
TIME_RE = re.compile(r"(?i)\b(\d{1,2})(?:[:.](\d{2}))?[ \t]?([ap])\.?[ \t]?m\b\.?")
TIME24_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")

VAGUE_BASE = {"tens": (20, 99), "dozens": (24, 143), "hundreds": (200, 999), "thousands": (2000, 9999),
               "millions": (2e6, 999_999_999), "billions": (2e9, 999_999_999_999)}  # fmt: skip
VAGUE_MULT = {"thousands": 1e3, "millions": 1e6, "billions": 1e9}
VAGUE_RE = re.compile(
    r"(?i)\b(tens|dozens|hundreds|thousands|millions|billions)"
    r"(?:[ \t]+(?:of[ \t]+)?(thousands|millions|billions))?\b"
)
FEW_RE = re.compile(r"(?i)\b(several|a[ \t]+few|a[ \t]+couple[ \t]+of)[ \t]+(hundred|thousand|million|billion|dozen)\b")
DOZEN_RE = re.compile(r"(?i)\b(?:(half)[ \t]+a[ \t]+|(a|one|two|three|four|five|six|\d+)[ \t]+|half-)dozen\b")

# Suffixes that may follow a digit directly ("3bn", "5km", "127th", "1990s"); anything else makes it an id.
ATTACHED_OK_RE = re.compile(
    r"(?:st|nd|rd|th|s|bn|mn|mln|bln|tn|trn|m|b|k|M|B|K|km/h|kmh|kph|km²|km2|kms|km|kgs|kg|cm|mm|mph|mi|ft|lbs|lb|ha|"
    r"hrs|hr|h|mins|min|secs|sec|MWh|GWh|kWh|MW|GW|kW|pc|pp|bps|bp|ml|m²|m2|°C|°F|C|F|g|mg|oz|kcal|"
    r"thousand|million|billion|trillion)(?![A-Za-z])"
)
MAG_RE = re.compile(
    r"(?:(bn|mn|mln|bln|tn|trn|m|b|k|M|B|K)(?![A-Za-z0-9])|[ \t]?(bn|mn|tn)\b"
    r"|[ \t]*(thousand|million|billion|trillion)\b(?!s))"  # "£10million" (the Daily Mail's style) too
)
MAG_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6, "b": 1e9,
              "bn": 1e9, "bln": 1e9, "billion": 1e9, "tn": 1e12, "trn": 1e12, "trillion": 1e12}  # fmt: skip

CUR_PREFIX = {"US$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "NZ$": "NZD",
               "HK$": "HKD", "S$": "SGD", "$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR",
               "₴": "UAH", "₽": "RUB", "$US": "USD", "$AU": "AUD", "$A": "AUD", "$NZ": "NZD",
               "$C": "CAD", "$AUD": "AUD", "$USD": "USD", "$NZD": "NZD"}  # fmt: skip
_CODES = "USD|AUD|GBP|EUR|CAD|NZD|JPY|CNY|RMB|INR|UAH|RUB|CHF|HKD|SGD"
# A currency written against its figure: ABC's "$US1,000", "$AUD1.1 billion", "GBP3,028".
AU_STYLE_CUR_RE = re.compile(r"(?:\$(?:USD|AUD|NZD|US|AU|A|NZ|C)|\b(?:" + _CODES + r"))$")
CUR_PREFIX_RE = re.compile(
    r"(?:(US\$|AU\$|A\$|CA\$|C\$|NZ\$|HK\$|S\$|\$USD|\$AUD|\$NZD|\$US|\$AU|\$A|\$NZ|\$C|\$|£|€|¥|₹|₴|₽)"
    r"|\b(" + _CODES + r")[ \t]?)[ \t]?$"
)
CUR_WORD_RE = re.compile(
    r"[ \t]+(?:(US|U\.S\.|American|Australian|Canadian|New[ \t]Zealand|Hong[ \t]Kong|Singapore)[ \t]+)?"
    r"(dollars?|euros?|pounds?(?:[ \t]+sterling)?|sterling|yen|yuan|renminbi|rupees?|roubles?|rubles?|"
    r"hryvnias?|hryvnia|francs?|" + _CODES + r")\b"
)
CUR_WORDS = {"dollar": "USD", "euro": "EUR", "pound": "GBP", "sterling": "GBP", "yen": "JPY", "yuan": "CNY",
              "renminbi": "CNY", "rupee": "INR", "rouble": "RUB", "ruble": "RUB", "hryvnia": "UAH",
              "franc": "CHF", "RMB": "CNY"}  # fmt: skip
DOLLAR_NATION = {"us": "USD", "u.s.": "USD", "american": "USD", "australian": "AUD", "canadian": "CAD",
                  "new zealand": "NZD", "hong kong": "HKD", "singapore": "SGD"}  # fmt: skip
DOLLARS = {"USD", "AUD", "CAD", "NZD", "HKD", "SGD"}

PCT_RE = re.compile(
    r"(?i)(?:[ \t]*(%)|[ \t]*(per[ \t]?cent|percent|pct)\b|[ \t]+(percentage[ \t-]points?)\b"
    r"|[ \t]+(basis[ \t]+points?)\b|(?-i:[ \t]*(pp|bps|bp))\b)"
)

# Surface unit -> pint expression. Word units match case-insensitively, abbreviations case-sensitively.
WORD_UNITS = {
    "kilometre": "kilometer", "kilometer": "kilometer", "metre": "meter", "meter": "meter",
    "centimetre": "centimeter", "centimeter": "centimeter", "millimetre": "millimeter",
    "millimeter": "millimeter", "mile": "mile", "nautical mile": "nautical_mile", "foot": "foot",
    "feet": "foot", "inch": "inch", "inches": "inch", "yard": "yard", "kilogram": "kilogram",
    "kilogramme": "kilogram", "gram": "gram", "gramme": "gram", "tonne": "metric_ton",
    "ton": "metric_ton", "litre": "liter", "liter": "liter", "gallon": "gallon", "hectare": "hectare",
    "acre": "acre", "square kilometre": "kilometer**2", "square kilometer": "kilometer**2",
    "square mile": "mile**2", "square metre": "meter**2", "square meter": "meter**2",
    "kilometres per hour": "kilometer/hour", "kilometers per hour": "kilometer/hour",
    **{f"{u} {per} hour": f"{unit}/hour" for u, unit in (("km", "kilometer"), ("kilometre", "kilometer"),
       ("kilometres", "kilometer"), ("kilometer", "kilometer"), ("kilometers", "kilometer"), ("mile", "mile"),
       ("miles", "mile")) for per in ("per", "an")},
    "miles per hour": "mile/hour", "knot": "knot", "hour": "hour", "minute": "minute", "second": "second",
    "day": "day", "week": "week", "month": "month", "year": "year", "decade": "decade",
    "century": "century", "centuries": "century", "megawatt": "megawatt", "gigawatt": "gigawatt",
    "kilowatt": "kilowatt", "degrees celsius": "degC", "degrees fahrenheit": "degF",
}  # fmt: skip
ABBR_UNITS = {
    "km/h": "kilometer/hour", "kmh": "kilometer/hour", "kph": "kilometer/hour", "km²": "kilometer**2",
    "km2": "kilometer**2", "sq km": "kilometer**2", "km": "kilometer", "kms": "kilometer", "mi": "mile",
    "kg": "kilogram", "kgs": "kilogram", "cm": "centimeter",
    "mm": "millimeter", "mph": "mile/hour", "ft": "foot", "lbs": "pound", "lb": "pound", "ha": "hectare",
    "hrs": "hour", "hr": "hour", "h": "hour", "mins": "minute", "min": "minute", "secs": "second",
    "sec": "second", "MWh": "megawatt_hour", "GWh": "gigawatt_hour", "kWh": "kilowatt_hour",
    "MW": "megawatt", "GW": "gigawatt", "kW": "kilowatt", "m²": "meter**2", "m2": "meter**2",
    "°C": "degC", "°F": "degF", "ml": "milliliter", "m": "meter",
    "g": "gram", "mg": "milligram", "oz": "ounce", "kcal": "kilocalorie",
}  # fmt: skip


def _unit_alternation(keys: Sequence[str], plural: bool) -> str:
    parts = []
    for k in sorted(keys, key=len, reverse=True):
        p = re.escape(k).replace(r"\ ", r"[ \t]+")
        if plural and not k.endswith(("s", "feet", "inches", "centuries")):
            p += "(?:s|es)?"
        parts.append(p)
    return "|".join(parts)


UNIT_RE = re.compile(
    r"(?:[ \t]*[-‑][ \t]*|[ \t]+|)"
    r"(?:(?i:(" + _unit_alternation(list(WORD_UNITS), True) + r"))(?:[ \t]*-[ \t]*old|[ \t]+old)?(?![A-Za-z])"
    r"|(" + _unit_alternation(list(ABBR_UNITS), False) + r")(?![A-Za-z0-9]))"
)
POUND_WEIGHT_RE = re.compile(r"[ \t]*-[ \t]*pounds?\b|[ \t]*-[ \t]*pounder\b")

HEDGES: dict[str, tuple[Qualifier, float, float]] = {
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
HEDGE_RE = re.compile(
    r"(?i)(?<![A-Za-z])("
    + "|".join(re.escape(h).replace(r"\ ", r"[ \t]+") for h in sorted(HEDGES, key=len, reverse=True))
    + r")(?:(?<=than)[ \t]+the)?[ \t]*$"  # "more than the £100,000-a-week contract" is a bound too
)
# "moved Lyon up to 64 points", "went up to third": a verb of movement makes "up to" where it went ("could
# take up to six months" and "rose up to 10%" stay bounds).
MOVED_UP_TO_RE = re.compile(
    r"(?i)\b(?:mov(?:e|es|ed|ing)|went|go(?:es|ing)?|climb(?:s|ed|ing)?|jump(?:s|ed|ing)?|"
    r"step(?:s|ped)?|br(?:ing|ings|ought)|lift(?:s|ed)?)(?:[ \t]+[\w'’-]+){0,2}[ \t]+$"
)
RANGE_CUR_RE = re.compile(r"(?:US\$|AU\$|A\$|£|€|\$)[ \t]?")
POSTFIX_RE = re.compile(r"(?i)[ \t]+or[ \t]+(more|so|fewer|less)\b|(\+)(?![\d])|-(plus)\b")
RANGE_RE = re.compile(r"(?i)[ \t]*([-–—])[ \t]*|[ \t]+(to|and)[ \t]+")
SCORE_CONTEXT_RE = re.compile(
    r"(?i)\b(?:won|win|wins|beat|beats|lost|loses|lose|defeat(?:ed|s)?|victory|draw|drew|scored?|"
    r"led|leads|trail(?:ed|s)?|thrashed|downed|edged|final|match|game)\b"
)
YEAR_CUE_RE = re.compile(
    r"(?i)(?:\b(?:in|since|from|until|till|by|of|during|before|after|year|years|early|late|mid|the|this|"
    r"last|next|and|to|or|between|summer|winter|spring|autumn|fall|season)|'s|’s|[(–—-]|" + _MONTH + r")[ \t]*$"
)
COUNT_NOUN_RE = re.compile(
    r"[ \t]+(?:people|children|men|women|police|staff|personnel|troops|residents|soldiers|"
    r"(?!was\b|has\b|is\b|as\b|this\b|us\b|its\b|his\b|does\b|sees\b|marks\b)[a-z]+s)\b"
)
NAME_BEFORE_RE = re.compile(r"[A-Z][A-Za-z]*[ \t]+$")
FRACTION_BEFORE_RE = re.compile(r"(?i)\b(?:a|one|two|three)[ \t-]+$")
ONE_BEFORE_RE = re.compile(r"(?i)\b(?:no|any|every|each|some|the|this|that|which|last|only)[ \t]+$")
ONE_AFTER_RE = re.compile(r"(?i)[ \t]+(?:of|another|day|way|time|point)\b")
MAGNITUDE_ONLY_BEFORE_RE = re.compile(r"(?i)\b(?:a|one)[ \t]+$")
IDENT_PREFIX_OK = {"mid", "pre", "post", "late", "early", "end", "circa"}
# A small number right after a name is part of the name: "Ligue 1", "Formula 1", "world No 1", "Bali 9". Not
# after a function word, month or weekday ("The 38-year-old", "May 20", "Monday 40 people"), and not before
# what it could count or measure ("Gaza 40 people", "Stoke 2-1").
_NOT_NAMES = (
    "The|A|An|In|On|At|By|Of|For|From|To|And|But|Or|If|As|After|Before|Since|Until|With|Some|All|Only|About|"
    "Around|Over|Under|Nearly|Almost|Just|Top|Last|First|Next|Every|Each|Another|Many|Several|More|Less|Fewer|Up|"
    "Than|Least|Most|Day|Week|Year|Page|Monday|Tuesday|"
    "Wednesday|Thursday|Friday|Saturday|Sunday|" + _MONTH_NAMES
)
NAME_NUMBER_RE = re.compile(
    r"\b(?:No\.?|(?!(?:" + _NOT_NAMES + r")\b)[A-Z][a-z]+)[ \t](\d{1,2})(?![\d,.%:/'’-]|[ \t]*[-–]|[A-Za-z])"
    r"(?![ \t]+(?:[a-z]+s|people|men|women|children|police|staff|personnel|"
    r"km|m|mi|kg|lb|ft|mph|cm|mm|g|bn|per|percent|million|billion|thousand|hundred|dozen|"
    r"times|[Oo]f|to|and|or|out)\b)"
)


# ----------------------------------------------------------------------------- pint (lazy, created once)

_UREG: Any = None


def _ureg() -> Any:
    global _UREG
    if _UREG is None:
        import pint  # slow to import and to build; done once, on first unit

        _UREG = pint.UnitRegistry()
    return _UREG


@cache
def unit_info(expr: str) -> tuple[str, float, str]:
    """(canonical name, factor to SI base, dimensionality key) for a pint unit expression."""
    ureg = _ureg()
    unit = ureg.Unit(expr)
    base = ureg.Quantity(1.0, unit).to_base_units()
    return str(unit), float(base.magnitude), str(base.units)


def to_base(v: float, unit: str) -> float:
    if unit in ("degree_Celsius", "degree_Fahrenheit"):  # offset units cannot scale by a factor
        if math.isinf(v):
            return v
        return float(_ureg().Quantity(v, unit).to_base_units().magnitude)
    return v * unit_info(unit)[1]


def from_base(v: float, unit: str) -> float:
    if unit in ("degree_Celsius", "degree_Fahrenheit"):
        ureg = _ureg()
        return float(ureg.Quantity(v, "kelvin").to(unit).magnitude)
    return v / unit_info(unit)[1]


# Ages: "the 22-year-old", "22 - year - old" (tokenised text), "22 years old", "aged 22", "Pippa, 31,".
_AGE_NUM = rf"\b(\d{{1,3}}|{_NW}(?:-{_NW})?)"  # digits or number words ("twenty-one"), via the trie
AGE_RE = re.compile(
    _AGE_NUM + r"[ \t]*[-‑][ \t]*years?[ \t]*[-‑]?[ \t]*olds?\b"
    r"|(?<![\w.,])(\d{1,3})[ \t]+years?[ \t]+old\b|\baged[ \t]+(\d{1,3}|" + _NW + r"(?:-" + _NW + r")?)"
)
AGE_APPOSITION_RE = re.compile(r",(?<=[a-z],)[ \t]+(?:now[ \t]+)?(\d{1,2}|" + _NW + r"(?:-" + _NW + r")?),(?![ \t]?\d)")
# "over two seasons", "spanning three years": a span of time, not a bound.
DURATION_AFTER_RE = re.compile(
    r"(?i)[ \t]*-?[ \t]*(?:seasons?|years?|months?|weeks?|days?|decades?|centuries|campaigns?|terms?)\b"
)
# "a seventh-minute lead" is the seventh minute, not a fraction.
MATCH_MINUTE_RE = re.compile(r"[ \t]+minute\b(?![ \t]+(?:walk|drive|ride|flight|break|delay|silence|video))")
MINUTE_AFTER_RE = re.compile(r"[ \t]*-?[ \t]*minutes?\b")
# "world number one", "No. 10": a rank or a name, not a count.
RANK_BEFORE_RE = re.compile(r"(?i)\b(?:number|no\.)[ \t]+$")
