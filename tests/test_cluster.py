"""Story clustering on real texts: the two seed reports and gensim's 300 ABC news texts."""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest

from summarizer.cluster import DEFAULT_THRESHOLD, cluster_articles, story_weight

ROOT = Path(__file__).resolve().parents[1]

# ABC texts (0-based line numbers of lee_background.cor) about the December 2001 NSW bushfires,
# picked by reading them: Hill Top / Southern Highlands, containment lines, "nasty" weekend,
# wind change around Sydney, thousands of firefighters on the south coast.
BUSHFIRE = [0, 8, 33, 40, 48]
# The ABC texts closest to the seeds (war, air strikes, Afghanistan) plus ten unrelated ones.
NEAR_SEEDS = [44, 268, 250, 177, 184, 284, 29, 145, 200, 153]
UNRELATED = [1, 2, 3, 5, 6, 7, 10, 11, 12, 13]


@pytest.fixture(scope="module")
def lee() -> list[str]:
    gensim = pytest.importorskip("gensim", reason="gensim (dev dependency) ships the ABC test texts")
    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / "lee_background.cor"
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip()]


@pytest.fixture(scope="module")
def seeds() -> list[tuple[str, str]]:
    out = []
    for aid, name in (("a1", "ap_2025-05-25.txt"), ("a2", "bbc_2025-05-24.txt")):
        text = (ROOT / "examples" / name).read_text(encoding="utf-8")
        out.append((aid, text.split("\n", 1)[1]))  # body only, as the pipeline passes it
    return out


def _group_of(groups: list[list[str]], aid: str) -> list[str]:
    return next(g for g in groups if aid in g)


def test_edge_cases() -> None:
    assert cluster_articles([]) == []
    assert cluster_articles([("x", "Only one article here.")]) == [["x"]]
    with pytest.raises(ValueError):
        cluster_articles([("x", "a b"), ("x", "c d")])
    # An article without usable terms is a story of its own, not an error.
    groups = cluster_articles([("a", "Fires burn near Sydney."), ("b", "..."), ("c", "Sydney fires burn.")])
    assert sorted(map(sorted, groups)) == [["a", "c"], ["b"]]


def test_seeds_form_one_story(seeds: list[tuple[str, str]]) -> None:
    assert cluster_articles(seeds) == [["a1", "a2"]]


def test_seeds_among_abc_texts_stay_alone(seeds: list[tuple[str, str]], lee: list[str]) -> None:
    docs = [(f"lee{i}", lee[i]) for i in NEAR_SEEDS + UNRELATED] + seeds
    groups = cluster_articles(docs)
    assert sorted(_group_of(groups, "a1")) == ["a1", "a2"]


def test_seeds_in_full_abc_set(seeds: list[tuple[str, str]], lee: list[str]) -> None:
    docs = [(f"lee{i}", t) for i, t in enumerate(lee)] + seeds
    groups = cluster_articles(docs)
    assert sorted(_group_of(groups, "a1")) == ["a1", "a2"]
    # Not everything collapsed into one blob, nor left as singletons.
    assert 50 < len(groups) < 250


def test_bushfire_articles_cluster(lee: list[str]) -> None:
    docs = [(f"lee{i}", t) for i, t in enumerate(lee)]
    groups = cluster_articles(docs)
    texts = dict(docs)
    fire_groups = [g for g in groups if sum(f"lee{i}" in g for i in BUSHFIRE) >= 2]
    big = max(fire_groups, key=len)
    assert sum(f"lee{i}" in big for i in BUSHFIRE) >= 4
    mention = sum("fire" in texts[a].lower() for a in big)
    assert mention / len(big) >= 0.8
    # The Middle East and the cricket are not in it.
    assert not any("palestinian" in texts[a].lower() for a in big)


def test_threshold_matters(seeds: list[tuple[str, str]], lee: list[str]) -> None:
    docs = [(f"lee{i}", lee[i]) for i in BUSHFIRE] + seeds
    assert len(cluster_articles(docs, threshold=0.05)) == len(docs)  # near 0: nothing merges
    assert len(cluster_articles(docs, threshold=1.5)) == 1  # above max cosine distance: all merge
    default = cluster_articles(docs, threshold=DEFAULT_THRESHOLD)
    assert sorted(map(sorted, default)) == sorted([sorted(f"lee{i}" for i in BUSHFIRE), ["a1", "a2"]])


def test_deterministic_and_order_independent(seeds: list[tuple[str, str]], lee: list[str]) -> None:
    docs = [(f"lee{i}", t) for i, t in enumerate(lee[:120])] + seeds
    first = cluster_articles(docs)
    assert cluster_articles(docs) == first
    shuffled = docs[:]
    random.Random(7).shuffle(shuffled)
    again = cluster_articles(shuffled)
    assert {frozenset(g) for g in again} == {frozenset(g) for g in first}
    # Groups: biggest first; ids keep input order inside a group.
    assert [len(g) for g in first] == sorted((len(g) for g in first), reverse=True)
    pos = {d: k for k, (d, _) in enumerate(docs)}
    assert all([pos[a] for a in g] == sorted(pos[a] for a in g) for g in first)


def test_story_weight_orders_sources_then_recency() -> None:
    old, new = dt.date(2025, 5, 24), dt.date(2025, 5, 25)
    assert story_weight(2, old) > story_weight(1, dt.date(9999, 12, 31))
    assert story_weight(2, new) > story_weight(2, old) > story_weight(2, None)
    # As merge.build_stories orders them: sources first, then the latest report.
    stories = {"x": (1, new), "y": (1, old), "ab": (2, old), "cd": (2, new)}
    ordered = sorted(stories, key=lambda k: -story_weight(*stories[k]))
    assert ordered == ["cd", "ab", "x", "y"]


# ---------------------------------------------------------------- the sparse graph method vs the dense reference


def _partition(groups: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(g) for g in groups}


@pytest.mark.parametrize("threshold", [0.8, DEFAULT_THRESHOLD, 0.9])
@pytest.mark.parametrize("dense_limit", [4000, 1])  # 1: every component goes through the graph merges
def test_graph_method_gives_the_dense_clusters_on_the_abc_texts(
    seeds: list[tuple[str, str]], lee: list[str], monkeypatch: pytest.MonkeyPatch, threshold: float, dense_limit: int
) -> None:
    import summarizer.cluster

    monkeypatch.setattr(summarizer.cluster, "DENSE_LIMIT", dense_limit)
    docs = [(f"lee{i}", t) for i, t in enumerate(lee)] + seeds
    dense = cluster_articles(docs, threshold=threshold, method="dense")
    graph = cluster_articles(docs, threshold=threshold)
    assert _partition(graph) == _partition(dense)
    assert graph == dense  # same order too: size, then first article
    assert sum(len(g) > 1 for g in graph) >= 20  # a real test: many multi-article stories


def test_copies_enter_once_with_their_weight(seeds: list[tuple[str, str]], lee: list[str]) -> None:
    """Identical texts (wire copies) are one weighted item in the graph method: same groups as dense."""
    base = [(f"lee{i}", t) for i, t in enumerate(lee[:150])] + seeds
    docs = base + [(f"{a}~{k}", t) for k in range(3) for a, t in base[::2]]
    graph = cluster_articles(docs)
    assert _partition(graph) == _partition(cluster_articles(docs, method="dense"))
    for a, _ in base[::2]:
        assert {f"{a}~{k}" for k in range(3)} <= set(_group_of(graph, a))


def test_neighbour_pairs_are_exact_below_a_thousand_articles(lee: list[str]) -> None:
    import numpy as np

    from summarizer.cluster import neighbour_pairs, tfidf_matrix

    x, _ = tfidf_matrix(lee)
    min_sim = 1 - DEFAULT_THRESHOLD
    sims = (x @ x.T).toarray()
    want = {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(sims, 1) > min_sim), strict=True)}
    i, j = neighbour_pairs(x, min_sim)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == want and len(i) == len(want) > 500
    # With few terms counted as rare, every pair found is still a true neighbour, and the pairs that
    # share a rare term are all found.
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    rare = (df <= 5).astype(float)
    share_rare = ((x > 0).astype(float).multiply(rare) @ (x > 0).astype(float).T).toarray() > 0
    i, j = neighbour_pairs(x, min_sim, max_df=5)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    assert got <= want
    assert got == {(a, b) for a, b in want if share_rare[a, b]}
