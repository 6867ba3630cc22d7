"""Measure story clustering on gensim's 300 ABC news texts plus the two seed reports, then at scale.

Run: python benchmarks/bench_cluster.py [--thresholds 0.75,0.8,0.85,0.9] [--show 3] [--scale 1000,10000,100000]

For each threshold it prints the multi-article clusters (size, top terms, first words of a few members),
where the seeds landed, and how pure the biggest bushfire cluster is, and compares the sparse-graph
clustering (the default) with scikit-learn's dense agglomerative clustering side by side.

``--scale`` then times both methods, each size in a fresh process (peak memory is that process's), on two
synthetic days built from the ABC texts:
- ``copies``: the texts repeated unchanged (what ``bench_batch.py`` feeds the pipeline);
- ``events``: n/30 events, each the ABC text (event mod 300) reported 30 times; every word outside the
  corpus' 400 most common is tagged with the event (its names and figures are its own) and each report
  drops a random 20 % of the words. Different events share only common words, as a real day's news does.
The dense method needs the n × n matrix, so it runs only up to ``--dense-max`` articles.
Needs gensim (dev dependency) for the data file only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
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


def synthetic_day(n: int, kind: str, per_event: int = 30) -> list[tuple[str, str]]:
    texts = lee_texts()
    if kind == "copies":
        return [(f"d{i}", texts[i % len(texts)]) for i in range(n)]
    df = Counter(w for t in texts for w in set(t.lower().split()))
    common = {w for w, _ in df.most_common(400)}
    rng = random.Random(1)
    docs = []
    for i in range(n):
        event = i // per_event
        words = texts[event % len(texts)].split()
        kept = [w if w.lower() in common else f"q{event}q{w}" for w in words if rng.random() > 0.2]
        docs.append((f"d{i}", " ".join(kept)))
    return docs


def partition(groups: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(g) for g in groups}


def one_run(n: int, kind: str, method: str) -> None:
    """Child process: cluster one synthetic day, print JSON (seconds, groups, peak MiB, the groups' hash)."""
    docs = synthetic_day(n, kind)
    cluster_articles([("a", "Fires burn near Sydney."), ("b", "Sydney fires burn.")], method=method)  # type: ignore[arg-type]  # imports: not timed
    t = time.perf_counter()
    groups = cluster_articles(docs, method=method)  # type: ignore[arg-type]
    took = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"seconds": took, "groups": len(groups), "biggest": len(groups[0]), "peak_mib": peak}
    if n <= 20_000:
        out["partition"] = sorted(sorted(g) for g in groups)
    print(json.dumps(out))


def scale(sizes: list[int], dense_max: int) -> None:
    print("\n=== scale: sparse graph (default) vs dense agglomerative, each run in a fresh process")
    print(f"{'day':>7} {'articles':>9} {'method':>6} {'seconds':>8} {'ms/article':>11} {'peak MiB':>9} "
          f"{'stories':>8} {'biggest':>8}  same as dense")  # fmt: skip
    for kind in ("copies", "events"):
        for n in sizes:
            runs = {}
            for method in ("graph", "dense"):
                if method == "dense" and n > dense_max:
                    cells = n * n * 8 / 2**30
                    print(f"{kind:>7} {n:>9,} {method:>6}  skipped: the n × n matrix alone is {cells:,.0f} GiB")
                    continue
                cmd = [sys.executable, __file__, "--one", f"{n},{kind},{method}"]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                runs[method] = r
                same = ""
                if method == "dense" and "partition" in r and "partition" in runs.get("graph", {}):
                    g, d = runs["graph"]["partition"], r["partition"]
                    moved = len(set(map(tuple, g)) ^ set(map(tuple, d)))
                    same = "identical" if g == d else f"differs: {moved} group(s) not in both"
                print(f"{kind:>7} {n:>9,} {method:>6} {r['seconds']:>8.2f} {r['seconds'] * 1000 / n:>11.3f} "
                      f"{r['peak_mib']:>9.0f} {r['groups']:>8,} {r['biggest']:>8,}  {same}")  # fmt: skip
            if "graph" in runs and "dense" in runs:
                print(f"{'':>17} dense / graph time: {runs['dense']['seconds'] / runs['graph']['seconds']:.1f}×")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--thresholds", default="0.75,0.8,0.85,0.9")
    ap.add_argument("--show", type=int, default=3, help="first lines shown per cluster")
    ap.add_argument("--scale", default="", help="comma-separated sizes, e.g. 1000,10000,100000")
    ap.add_argument("--dense-max", type=int, default=10_000)
    ap.add_argument("--one", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        n, kind, method = args.one.split(",")
        one_run(int(n), kind, method)
        return

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

    print("\nsparse graph (default) vs dense agglomerative clustering, side by side:")
    print(f"{'threshold':>9} {'graph':>6} {'dense':>6}  {'graph s':>8} {'dense s':>8}  same clusters")
    for th in [float(x) for x in args.thresholds.split(",")]:
        timed = {}
        for method in ("graph", "dense"):
            t0 = time.perf_counter()
            timed[method] = (cluster_articles(docs, threshold=th, method=method), time.perf_counter() - t0)  # type: ignore[arg-type]
        (g, tg), (d, td) = timed["graph"], timed["dense"]
        diff = partition(g) ^ partition(d)
        same = "identical" if not diff else f"DIFFER in {len(diff)} group(s): {sorted(map(sorted, diff))[:3]}"
        print(f"{th:>9} {len(g):>6} {len(d):>6}  {tg:>8.3f} {td:>8.3f}  {same}")

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
    if args.scale:
        scale([int(x) for x in args.scale.split(",")], args.dense_max)


if __name__ == "__main__":
    main()
