"""Group articles into stories: TF-IDF vectors + average-linkage agglomerative clustering on cosine distance.

Two articles belong to one story when their TF-IDF cosine distance is below ``DEFAULT_THRESHOLD``
(average linkage: for groups, the mean pairwise distance). The threshold was chosen by measurement on
gensim's 300 ABC news texts plus the two seed reports (``python benchmarks/bench_cluster.py``):

* the seeds (AP and BBC on one prisoner swap) are 0.50 apart; the nearest ABC text is 0.90 away;
  the median pair of the 302 texts is 0.98 apart;
* at 0.85 the NSW bushfire reports form one 5-article cluster (all mention "fire"), and the seeds
  stay a pair; the Middle East, Tora Bora, Interlaken, Qantas, HIH, Woomera stories each form a cluster;
* at 0.9 one more bushfire report joins, but unrelated texts start to chain in (an F1 coroner report
  lands in the bin Laden cluster); at 0.8 the Middle East splits into several clusters.

We pick 0.85: a wrongly merged story produces false "sources differ" conflicts downstream, which is
worse than showing one event as two stories.

Stories are ordered by :func:`story_weight`: the number of independent sources first, recency second.

sklearn is imported lazily: the CLI imports this module only when it clusters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

DEFAULT_THRESHOLD = 0.85
# The lead sentence is the article's own summary; repeating it gives it roughly title weight.
LEAD_WEIGHT = 2

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Words of 2+ letters; numbers of 3+ digits (e.g. "307") are strong same-event signals,
# while 1-2 digit numbers and years are shared by unrelated stories.
_TOKEN_PATTERN = r"(?u)\b(?:[^\W\d_][\w'-]*[^\W_]|\d{1,3}(?:,\d{3})+|\d{3,})\b"
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def _lead(text: str) -> str:
    stripped = text.strip()
    parts = _SENTENCE_END.split(stripped, maxsplit=1)
    return parts[0] if parts else ""


def _weighted(text: str, lead_weight: int) -> str:
    # Repeating the lead sentence up-weights its terms without a second vectorizer.
    return " ".join([_lead(text)] * (lead_weight - 1) + [text])


def _tokenizer_pattern() -> re.Pattern[str]:
    return re.compile(_TOKEN_PATTERN)


def _analyzer() -> Callable[[str], list[str]]:
    """Lower-cased tokens, English stop words and 4-digit years removed."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    pattern = _tokenizer_pattern()

    def analyze(doc: str) -> list[str]:
        out = []
        for tok in pattern.findall(doc.lower()):
            if tok.endswith("'s"):
                tok = tok[:-2]
            if len(tok) < 2 or tok in ENGLISH_STOP_WORDS or _YEAR.match(tok):
                continue
            out.append(tok)
        return out

    return analyze


def _pretokenized(tokens: list[str]) -> list[str]:
    return tokens


def tfidf_matrix(texts: Sequence[str], *, lead_weight: int = LEAD_WEIGHT) -> tuple[Any, Any]:
    """(L2-normalised TF-IDF rows with sublinear tf, the fitted vectorizer); also used by the benchmark."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_analyzer(), sublinear_tf=True)
    return vec.fit_transform([_weighted(t, lead_weight) for t in texts]), vec


def cosine_distances(texts: Sequence[str], *, lead_weight: int = LEAD_WEIGHT) -> Any:
    """Pairwise cosine distance matrix (numpy array) between ``texts``."""
    from sklearn.metrics.pairwise import cosine_distances as _cd

    x, _ = tfidf_matrix(texts, lead_weight=lead_weight)
    return _cd(x)


def cluster_articles(
    docs: Sequence[tuple[str, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    lead_weight: int = LEAD_WEIGHT,
) -> list[list[str]]:
    """Group ``(article_id, text)`` pairs into stories; returns groups of article ids.

    Deterministic: groups are ordered by size (desc), then by the position of their first article;
    ids inside a group keep input order. Pass the article body (without a header line) as text.
    An article whose text has no usable terms is a story of its own.
    """
    ids = [i for i, _ in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("article ids must be unique")
    if len(docs) <= 1:
        return [ids] if ids else []

    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_distances as _cd

    texts = [t for _, t in docs]
    analyze = _analyzer()
    tokens = [analyze(t) for t in texts]
    usable = [k for k, toks in enumerate(tokens) if toks]
    labels: dict[int, int] = {}
    if len(usable) == 1:
        labels[usable[0]] = 0
    elif usable:
        # Each text is analysed once: the tokens of _weighted(t) are the lead's, repeated, then t's own
        # (a space between parts splits no token), so this is the matrix tfidf_matrix would build.
        weighted = [analyze(_lead(texts[k])) * (lead_weight - 1) + tokens[k] for k in usable]
        x = TfidfVectorizer(analyzer=_pretokenized, sublinear_tf=True).fit_transform(weighted)
        dist = np.asarray(_cd(x))
        model = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average", distance_threshold=threshold
        )
        for k, lab in zip(usable, model.fit_predict(dist), strict=True):
            labels[k] = int(lab)
    next_label = max(labels.values(), default=-1) + 1
    for k in range(len(docs)):
        if k not in labels:
            labels[k] = next_label
            next_label += 1

    groups: dict[int, list[int]] = {}
    for k in range(len(docs)):
        groups.setdefault(labels[k], []).append(k)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    return [[ids[k] for k in g] for g in ordered]


def story_weight(n_sources: int, latest: dt.date | None) -> float:
    """Ranking key for a story: more independent sources first, then the more recent one.

    ``n_sources`` (distinct articles) is the integer part; recency adds a fraction in [0, 1)
    (the date's ordinal over the largest ordinal), so a later date never outweighs one more source.
    No date counts as the oldest.
    """
    recency = latest.toordinal() / (dt.date.max.toordinal() + 1) if latest else 0.0
    return float(n_sources) + recency


def order_stories(
    groups: Sequence[Sequence[str]], dates: Mapping[str, dt.date | None]
) -> list[tuple[list[str], float]]:
    """Sort groups by :func:`story_weight` (desc); ties keep their input order. Returns (group, weight)."""
    weighted = []
    for g in groups:
        known = [d for a in g if (d := dates.get(a)) is not None]
        weighted.append((list(g), story_weight(len(set(g)), max(known) if known else None)))
    return sorted(weighted, key=lambda gw: -gw[1])
