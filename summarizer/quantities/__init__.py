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
* an exact claim is never supported by a bound, range or vague figure (``15 injured`` is not supported by
  ``at least 15 injured``); "about" is no bound (``60 units`` restates ``about 60 units``). A conversion in
  brackets is as hedged as the figure it converts (``up to 10 inches (25cm)``: the 25cm is a bound too).
* a bound, range or vague claim is supported when the evidence's interval lies inside the claim's interval
  (``at least 10`` ⊇ ``15``; ``at least 15`` ⊇ ``at least 15``; ``hundreds`` ⊇ ``307``).
* years, dates, times and ordinals must match exactly (``2023`` is not ``2022``).
* derived (optional): an exact count/amount that is the sum or difference of two exact figures of the same
  evidence item (``14`` missiles, ``six`` shot down → ``8`` got through).
"""

from summarizer.quantities.compare import ROUNDING_LIMIT, relation
from summarizer.quantities.extract import Quantity, cached_quantities, extract_quantities, scores, sig_digits
from summarizer.quantities.lexicon import FIGURE_KINDS, TOKEN_KINDS, Qualifier, QuantityKind
from summarizer.quantities.report import (
    Candidate,
    Evidence,
    Finding,
    SupportReport,
    check_support,
    check_support_texts,
)

__all__ = [
    "FIGURE_KINDS",
    "ROUNDING_LIMIT",
    "TOKEN_KINDS",
    "Candidate",
    "Evidence",
    "Finding",
    "Qualifier",
    "Quantity",
    "QuantityKind",
    "SupportReport",
    "cached_quantities",
    "check_support",
    "check_support_texts",
    "extract_quantities",
    "relation",
    "scores",
    "sig_digits",
]
