"""Measure story clustering on gensim's 300 ABC news texts plus the two seed reports.

Run: python benchmarks/bench_cluster.py [--thresholds 0.75,0.8,0.85,0.9] [--show 3]

For each threshold it prints the multi-article clusters (size, top terms, first words of a few members),
where the seeds landed, and how pure the biggest bushfire cluster is. Needs gensim (dev dependency)
for the data file only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not

from summarizer.cluster import (  # noqa: E402
    DEFAULT_THRESHOLD,
    cluster_articles,
    cosine_distances,
    tfidf_matrix,
)


def lee_texts() -> list[str]:
    import gensim

    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / "lee_background.cor"
    return [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]


def seed_bodies() -> list[tuple[str, str]]:
    out = []
    for name, path in (("ap", "ap_2025-05-25.txt"), ("bbc", "bbc_2025-05-24.txt")):
        text = (ROOT / "examples" / path).read_text(encoding="utf-8")
        out.append((name, text.split("\n", 1)[1]))  # drop the " date ... title" header line
    return out


_TFIDF: dict[int, tuple[Any, Any]] = {}


def top_terms(texts: list[str], members: list[int], n: int = 6) -> list[str]:
    if id(texts) not in _TFIDF:
        _TFIDF[id(texts)] = tfidf_matrix(texts)
    x, vec = _TFIDF[id(texts)]
    centroid = np.asarray(x[members].mean(axis=0)).ravel()
    names = vec.get_feature_names_out()
    return [str(names[i]) for i in centroid.argsort()[::-1][:n]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--thresholds", default="0.75,0.8,0.85,0.9")
    ap.add_argument("--show", type=int, default=3, help="first lines shown per cluster")
    args = ap.parse_args()

    docs = [(f"lee{i:03d}", t) for i, t in enumerate(lee_texts())] + seed_bodies()
    texts = [t for _, t in docs]
    index = {d: k for k, (d, _) in enumerate(docs)}
    print(f"{len(docs)} documents ({len(docs) - 2} ABC + 2 seeds)")

    dist = np.asarray(cosine_distances(texts))
    a, b = index["ap"], index["bbc"]
    others = [k for k in range(len(docs)) if k not in (a, b)]
    print(f"seed distance ap-bbc: {dist[a, b]:.3f}")
    print(f"closest ABC text to a seed: {min(dist[a, others].min(), dist[b, others].min()):.3f}")
    off = dist[np.triu_indices(len(docs), 1)]
    print(f"all pairs: median {statistics.median(off):.3f}, 1st percentile {np.percentile(off, 1):.3f}")

    for th in [float(x) for x in args.thresholds.split(",")]:
        t0 = time.perf_counter()
        groups = cluster_articles(docs, threshold=th)
        took = time.perf_counter() - t0
        multi = [g for g in groups if len(g) > 1]
        chosen = " (chosen)" if abs(th - DEFAULT_THRESHOLD) < 1e-9 else ""
        print(f"\n=== threshold {th}{chosen}: {len(groups)} clusters, {len(multi)} with >1 article, {took:.2f}s")
        seed_group = next(g for g in groups if "ap" in g)
        print(f"seeds: {'together' if 'bbc' in seed_group else 'SPLIT'}; their cluster: {seed_group}")
        fire = [g for g in multi if "fire" in " ".join(top_terms(texts, [index[d] for d in g], 4))]
        if fire:
            big = max(fire, key=len)
            ok = sum("fire" in texts[index[d]].lower() for d in big)
            print(f"biggest fire cluster: {len(big)} articles, {ok} mention 'fire' ({ok / len(big):.0%})")
        for g in multi:
            members = [index[d] for d in g]
            print(f"- {len(g):2d} | {', '.join(top_terms(texts, members))}")
            for k in members[: args.show]:
                print(f"       {docs[k][0]}: {texts[k][:90]}")


if __name__ == "__main__":
    main()
