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

The clustering is the same average linkage at any scale without the n × n matrix: merges stay within
the components of a sparse neighbour graph (:func:`average_linkage_graph`); ``method="dense"`` keeps the
full-matrix reference, which ``benchmarks/bench_cluster.py`` compares side by side.

Stories are ordered by :func:`story_weight`: the number of independent sources first, recency second.

sklearn is imported lazily: the CLI imports this module only when it clusters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

DEFAULT_THRESHOLD = 0.85
# The lead sentence is the article's own summary; repeating it gives it roughly title weight.
LEAD_WEIGHT = 2
# Components up to this many articles are clustered on their own dense distance matrix (≤ 8 M cells).
DENSE_LIMIT = 4000
# Terms in at most this many articles (or 4√n) link candidate pairs; see neighbour_pairs.
MIN_RARE_DF = 1000

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


class _Terms(dict[str, str]):
    """Raw token → the term it counts as ("" for none), worked out once per distinct token."""

    def __init__(self, stop_words: frozenset[str]) -> None:
        super().__init__()
        self.stop_words = stop_words

    def __missing__(self, tok: str) -> str:
        term = tok[:-2] if tok.endswith("'s") else tok
        if len(term) < 2 or term in self.stop_words or _YEAR.match(term):
            term = ""
        self[tok] = term
        return term


def _analyzer() -> Callable[[str], list[str]]:
    """Lower-cased tokens, English stop words and 4-digit years removed."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    findall = _tokenizer_pattern().findall
    # A day's articles repeat the same words: the per-token checks run once per distinct token.
    term = _Terms(ENGLISH_STOP_WORDS).__getitem__

    def analyze(doc: str) -> list[str]:
        return [t for t in map(term, findall(doc.lower())) if t]

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
    method: Literal["graph", "dense"] = "graph",
) -> list[list[str]]:
    """Group ``(article_id, text)`` pairs into stories; returns groups of article ids.

    ``method="graph"`` (default) is exact average linkage on a sparse neighbour graph, near-linear in the
    number of articles; ``"dense"`` is scikit-learn's agglomerative clustering on the full n × n matrix,
    kept as the reference the benchmark compares against. Both give the same groups (up to exact ties).

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
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    texts = [t for _, t in docs]
    analyze = _analyzer()
    # Identical texts (wire copies, the same file twice) are analysed and counted once.
    distinct: dict[str, int] = {}
    text_of = [distinct.setdefault(t, len(distinct)) for t in texts]
    # The tokens of _weighted(t) are the lead's, repeated, then t's own (a space between parts splits no
    # token), so this is the matrix tfidf_matrix would build. No body tokens means no lead tokens either.
    weighted = []
    for t in distinct:
        body = analyze(t)
        weighted.append(analyze(_lead(t)) * (lead_weight - 1) + body if body else [])
    usable_texts = [u for u, toks in enumerate(weighted) if toks]
    row_of_text = {u: r for r, u in enumerate(usable_texts)}
    usable = [k for k in range(len(docs)) if text_of[k] in row_of_text]
    labels: dict[int, int] = {}
    if len(usable) == 1:
        labels[usable[0]] = 0
    elif usable:
        counts = CountVectorizer(analyzer=_pretokenized).fit_transform([weighted[u] for u in usable_texts])
        doc_rows = np.array([row_of_text[text_of[k]] for k in usable])
        # The idf counts every article, copies included: the same weights as TfidfVectorizer on all texts.
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts[doc_rows])
        x = tfidf.transform(counts)  # one row per distinct text
        if method == "dense":
            found = _average_linkage_dense(x[doc_rows], threshold)
        else:
            per_text = average_linkage_graph(x, threshold, weights=np.bincount(doc_rows, minlength=x.shape[0]))
            found = [per_text[r] for r in doc_rows]
        for k, lab in zip(usable, found, strict=True):
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


def _average_linkage_dense(x: Any, threshold: float) -> list[int]:
    """scikit-learn's average linkage on the full cosine distance matrix: O(n²) time and memory."""
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics.pairwise import cosine_distances as _cd

    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=threshold
    )
    return [int(v) for v in model.fit_predict(np.asarray(_cd(x)))]


def neighbour_pairs(x: Any, min_sim: float, *, max_df: int | None = None) -> tuple[Any, Any]:
    """The pairs of rows of ``x`` (L2-normalised, non-negative) with cosine similarity above ``min_sim``
    that share a term of document frequency ≤ ``max_df``; returns ``(i, j)`` index arrays with ``i < j``.

    A rare term pairs few rows, so this needs no n × n product. Each candidate's similarity is exact:
    the rare terms' part ``l`` plus the common terms' part ``h ≤ ‖h_i‖·‖h_j‖`` (Cauchy-Schwarz), which is
    computed only where that bound leaves the answer open. Pairs alike through common terms alone (no
    shared name, figure or other term rarer than ``max_df``) are not linked: reports of one event share
    such terms. ``max_df`` defaults to ``max(1000, 4√n)``, so up to 1,000 articles every term counts and
    the graph is exactly the pairs above ``min_sim``.
    """
    import numpy as np

    x = x.tocsr()
    n = x.shape[0]
    max_df = max_df if max_df is not None else max(MIN_RARE_DF, 4 * int(n**0.5))
    df = np.bincount(x.indices, minlength=x.shape[1])
    rare = (df <= max_df)[x.indices]
    xl, xh = x.copy(), x.copy()
    xl.data = np.where(rare, xl.data, 0.0)
    xh.data = np.where(rare, 0.0, xh.data)
    xl.eliminate_zeros()
    xh.eliminate_zeros()
    h_norm = np.sqrt(np.asarray(xh.multiply(xh).sum(axis=1)).ravel())
    xlt = xl.T.tocsr()
    found_i: list[Any] = []
    found_j: list[Any] = []
    step = 200_000  # pairs per exact pass: bounds the temporary matrices
    block = 1000
    for start in range(0, n, block):
        part = (xl[start : start + block] @ xlt).tocoo()
        i, j = part.row.astype(np.int64) + start, part.col.astype(np.int64)
        upper = i < j
        i, j, low = i[upper], j[upper], part.data[upper]
        sure = low > min_sim
        open_ = ~sure & (low + h_norm[i] * h_norm[j] > min_sim)
        found_i.append(i[sure])
        found_j.append(j[sure])
        oi, oj, ol = i[open_], j[open_], low[open_]
        for k in range(0, len(oi), step):
            ci, cj = oi[k : k + step], oj[k : k + step]
            h = np.asarray(xh[ci].multiply(xh[cj]).sum(axis=1)).ravel()
            hit = ol[k : k + step] + h > min_sim
            found_i.append(ci[hit])
            found_j.append(cj[hit])
    return np.concatenate(found_i), np.concatenate(found_j)


def average_linkage_graph(
    x: Any, threshold: float, *, weights: Any = None, dense_limit: int | None = None
) -> list[int]:
    """Average-linkage labels for the rows of ``x`` (L2-normalised TF-IDF), cutting at cosine ``threshold``.

    ``weights`` (default 1 each) counts the articles a row stands for. The same partition as average
    linkage on the full distance matrix, in near-linear time and memory:

    * two groups merge only when their mean pairwise distance is below the threshold, so some pair
      across them is closer than the threshold: merges stay inside the connected components of the
      sparse graph of such pairs (:func:`neighbour_pairs`);
    * a component of up to ``dense_limit`` (default :data:`DENSE_LIMIT`) distinct rows of weight 1 is
      clustered exactly as before (scikit-learn, on its own small distance matrix);
    * any other by the same merges on the graph: for unit vectors the mean pairwise similarity of
      groups A and B is ``sum(A) · sum(B) / (|A| |B|)``, so each merge needs only the groups' summed
      vectors, and identical rows enter once, with their weight.
    """
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    dense_limit = DENSE_LIMIT if dense_limit is None else dense_limit
    x = x.tocsr()
    x.sort_indices()
    n = x.shape[0]
    row_weight = np.ones(n, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    # Identical rows are one item with a weight.
    seen: dict[bytes, int] = {}
    item_of = np.empty(n, dtype=np.int64)
    first_rows: list[int] = []
    for k in range(n):
        lo, hi = x.indptr[k], x.indptr[k + 1]
        item = seen.setdefault(x.indices[lo:hi].tobytes() + x.data[lo:hi].tobytes(), len(first_rows))
        if item == len(first_rows):
            first_rows.append(k)
        item_of[k] = item
    items = x[first_rows]
    m = len(first_rows)
    weight = np.bincount(item_of, weights=row_weight, minlength=m).astype(np.int64)
    pi, pj = neighbour_pairs(items, 1.0 - threshold)
    graph = coo_matrix((np.ones(len(pi)), (pi, pj)), shape=(m, m))
    n_comp, comp = connected_components(graph, directed=False)

    members: list[list[int]] = [[] for _ in range(n_comp)]
    for k in range(n):
        members[comp[item_of[k]]].append(k)
    labels = np.empty(n, dtype=np.int64)
    next_label = 0
    order = np.argsort(comp[pi], kind="stable")
    pi, pj = pi[order], pj[order]
    bounds = np.searchsorted(comp[pi], np.arange(n_comp + 1))
    for c in range(n_comp):
        rows = members[c]
        own = item_of[rows]
        if len(rows) == 1:
            found = [0]
        elif len(rows) <= dense_limit and len(set(own.tolist())) == len(rows) and (row_weight[rows] == 1).all():
            found = _average_linkage_dense(x[rows], threshold)
        else:
            span = slice(bounds[c], bounds[c + 1])
            found = _merge_on_graph(items, weight, pi[span], pj[span], own, threshold)
        for k, lab in zip(rows, found, strict=True):
            labels[k] = next_label + lab
        next_label += max(found) + 1
    return [int(v) for v in labels]


def _merge_on_graph(items: Any, weight: Any, pi: Any, pj: Any, row_items: Any, threshold: float) -> list[int]:
    """Average linkage over one component's graph; returns a label per row (``row_items``: each row's item).

    Greedy, best pair first, as agglomerative clustering does: a heap of candidate merges whose entries
    go stale when either side has merged. ``link[a][b]`` is the exact sum of pairwise similarities
    between groups a and b (adjacent groups only); a merge adds the two sides' sums, and computes the
    missing side from the summed vectors.
    """
    import heapq

    import numpy as np

    min_sim = 1.0 - threshold
    size: dict[int, int] = {}
    vec: dict[int, tuple[Any, Any]] = {}
    link: dict[int, dict[int, float]] = {}
    group_of: dict[int, int] = {}
    for it in {int(v) for v in row_items}:
        row = items[it]
        size[it] = int(weight[it])
        vec[it] = (row.indices, row.data * weight[it])
        link[it] = {}
        group_of[it] = it
    heap: list[tuple[float, int, int]] = []
    sims = np.concatenate(
        [np.zeros(0)]
        + [
            np.asarray(items[pi[k : k + 200_000]].multiply(items[pj[k : k + 200_000]]).sum(axis=1)).ravel()
            for k in range(0, len(pi), 200_000)
        ]
    )
    for a, b, s in zip(pi.tolist(), pj.tolist(), sims.tolist(), strict=True):
        total = s * size[a] * size[b]
        link[a][b] = link[b][a] = total
        heap.append((-s, a, b))
    heapq.heapify(heap)
    # Identical items were merged already; their weights enter every mean below.
    dense = np.zeros(items.shape[1])
    parent: dict[int, int] = {}
    next_id = items.shape[0]
    while heap:
        neg, a, b = heapq.heappop(heap)
        if -neg <= min_sim:
            break
        if a not in link or b not in link:
            continue  # stale: one side has merged since
        new = next_id
        next_id += 1
        la, lb = link.pop(a), link.pop(b)
        merged: dict[int, float] = {}
        for own, other, other_id in ((la, lb, b), (lb, la, a)):
            missing = [k for k in own if k not in other and k != other_id]
            if missing:
                idx, val = vec[other_id]
                dense[idx] = val
                for k in missing:
                    ki, kv = vec[k]
                    other[k] = float(dense[ki] @ kv)
                dense[idx] = 0.0
        for k in la.keys() | lb.keys():
            if k in (a, b):
                continue
            total = la[k] + lb[k]
            merged[k] = total
            ref = link[k]
            ref.pop(a, None)
            ref.pop(b, None)
            ref[new] = total
        size[new] = size.pop(a) + size.pop(b)
        (ia, va), (ib, vb) = vec.pop(a), vec.pop(b)
        idx, inv = np.unique(np.concatenate([ia, ib]), return_inverse=True)
        vec[new] = (idx, np.bincount(inv, weights=np.concatenate([va, vb])))
        link[new] = merged
        parent[a] = parent[b] = new
        for k, total in merged.items():
            mean = total / (size[new] * size[k])
            if mean > min_sim:
                heapq.heappush(heap, (-mean, new, k))

    def root(g: int) -> int:
        while g in parent:
            g = parent[g]
        return g

    roots: dict[int, int] = {}
    return [roots.setdefault(root(int(it)), len(roots)) for it in row_items]


def story_weight(n_sources: int, latest: dt.date | None) -> float:
    """Ranking key for a story: more independent sources first, then the more recent one.

    ``n_sources`` (distinct articles) is the integer part; recency adds a fraction in [0, 1)
    (the date's ordinal over the largest ordinal), so a later date never outweighs one more source.
    No date counts as the oldest.
    """
    recency = latest.toordinal() / (dt.date.max.toordinal() + 1) if latest else 0.0
    return float(n_sources) + recency
