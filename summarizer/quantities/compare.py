"""How two figures relate: :func:`support` (does evidence state a claim figure, and how) and
:func:`relation` (same, equivalent, compatible, different), with the rounding and bound rules."""

from __future__ import annotations

import math
from typing import Literal

from summarizer.quantities.extract import Quantity
from summarizer.quantities.lexicon import DOLLARS, EXACTISH, INF, TOKEN_KINDS, from_base, unit_info

# ----------------------------------------------------------------------------- comparison


def _dim(q: Quantity) -> str | None:
    if q.kind == "measure" and q.unit:
        return unit_info(q.unit)[2]
    return q.unit


def _bare_dollar(q: Quantity) -> bool:
    t = q.text
    return q.unit == "USD" and "US" not in t and "U.S." not in t and "American" not in t


def comparable(a: Quantity, b: Quantity) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "money":
        if a.unit == b.unit:
            return True
        # "$" and "dollars" without a country name can stand for any dollar.
        return (a.unit in DOLLARS and b.unit in DOLLARS) and (_bare_dollar(a) or _bare_dollar(b))
    if a.kind == "measure":
        return _dim(a) == _dim(b)
    if a.kind == "points":
        return a.unit == b.unit
    return True


def close(x: float, y: float) -> bool:
    return x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y))


def _written(q: Quantity, base_value: float) -> float:
    """A value in SI base units, expressed in ``q``'s own unit."""
    if q.kind == "measure" and q.unit:
        return from_base(base_value, q.unit)
    return base_value


def _step(written: float, sig: int) -> float:
    """The size of one unit in the last significant digit of ``written``."""
    if written == 0:
        return 1.0
    return 10.0 ** (math.floor(math.log10(abs(written))) - sig + 1)


ROUNDING_LIMIT = 0.05  # nobody "rounds" 14 to 10: a rounding may move the figure by 5% at most


def _rounds_to(target: Quantity, other_base: float) -> bool:
    """Whether ``other_base`` (SI) rounds to ``target`` at target's precision, moving it by <= 5%."""
    t = _written(target, target.value)
    x = _written(target, other_base)
    tol = _step(t, target.sig_digits) / 2
    slack = 1 + 1e-9
    return abs(x - t) <= tol * slack and abs(x - t) <= ROUNDING_LIMIT * abs(t) * slack


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


def support(claim: Quantity, ev: Quantity) -> str | None:
    """How ``ev`` supports ``claim`` ("exact", "rounded", "converted", "bound") or None."""
    if not comparable(claim, ev):
        return None
    if claim.kind in TOKEN_KINDS:
        if claim.qualifier == "range" or ev.qualifier == "range":
            return "exact" if close(claim.low, ev.low) and close(claim.high, ev.high) else None
        return "exact" if close(claim.value, ev.value) else None
    converted = claim.kind == "measure" and claim.unit != ev.unit
    if claim.qualifier in EXACTISH:
        if ev.qualifier not in EXACTISH:
            return None  # an exact figure is never supported by a bound or a vague amount
        if close(claim.value, ev.value):
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
    if claim.qualifier == ev.qualifier and close(claim.low, ev.low) and close(claim.high, ev.high):
        return "converted" if converted else "exact"
    if ev.qualifier == "approx" or not _contains(claim, ev):
        return None
    if claim.qualifier in ("vague", "range"):
        return "bound"  # "hundreds" from "307", "20-30" from "25"
    if ev.qualifier == "exact":
        return "bound" if _bound_from_figure(claim, ev.value) else None  # "more than 10" from "15"
    # Bound from bound: the same figure, or that figure rounded at the claim's precision ("more than 15" gives
    # "at least 15", and "more than £2.1m" gives "more than £2m", but not "more than 3").
    same = close(claim.value, ev.value) or (converted and _rounds_to(claim, ev.value))
    rounded = claim.sig_digits < ev.sig_digits and _rounds_to(claim, ev.value)  # containment is checked above
    return "bound" if same or rounded else None


def relation(a: Quantity, b: Quantity) -> Literal["same", "equivalent", "compatible", "different", "incomparable"]:
    """How two figures (e.g. from two sources) relate; see the module docstring for the rules."""
    if not comparable(a, b):
        return "incomparable"
    if a.kind in TOKEN_KINDS:
        same = close(a.low, b.low) and close(a.high, b.high)
        return "same" if same else ("compatible" if _overlap(a, b) else "different")
    if (a.qualifier == b.qualifier and a.unit == b.unit and close(a.value, b.value)
            and close(a.low, b.low) and close(a.high, b.high)):  # fmt: skip
        return "same"
    if a.qualifier in EXACTISH and b.qualifier in EXACTISH:
        if close(a.value, b.value):
            return "equivalent"
        if _rounds_to(a, b.value) or _rounds_to(b, a.value):
            return "equivalent"
        return "different"
    return "compatible" if _overlap(a, b) else "different"
