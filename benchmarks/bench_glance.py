"""A brief a reader takes in at a glance: what reconciling, ranking and the length budget do.

    python benchmarks/bench_glance.py [--abc-stories 50] [--max-facts 6] [--replay CASSETTE]

Runs the pipeline without an LLM (every article extractive: its figure-bearing sentences, verbatim) on
the two seeds and on gensim's 300 ABC texts, clustered into stories as the brief does, and prints:

* per story: facts the sources gave, facts after merging, facts shown in brief.md;
* duplicates merged (within one source and across sources);
* figures whose corroboration was corrected (a figure backed by fewer, or more, sources than its fact);
* words in brief.md;
* the similarity rule: cross-source "same event" merges inside ABC stories (listed for a human look),
  and false merges among facts of *different* stories (which can only be wrong).
The seeds also run through the recorded embedded-model cassette (``--replay``, default cassettes/).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _write_texts(folder: Path, texts: list[str]) -> list[Path]:
    """One file per ABC text, as the CLI would read them."""
    paths = []
    for i, t in enumerate(texts):
        p = folder / f"lee_{i:03d}.txt"
        p.write_text(t + "\n", encoding="utf-8")
        paths.append(p)
    return paths


def _brief(paths: Sequence[Path]):  # type: ignore[no-untyped-def]
    from summarizer.load import load_inputs
    from summarizer.pipeline import Options, build_brief_sync
    from summarizer.segment import segment
    from summarizer.templates import Prompts
    from summarizer.verify import verify_extraction

    loaded = load_inputs([str(p) for p in paths])
    docs = [segment(a) for a in loaded.articles]
    results = [verify_extraction(None, d) for d in docs]
    brief = build_brief_sync(docs, results, None, Prompts(None), Options(narrative=False))
    return brief, docs, results


def _trimmed(fact) -> set[str]:  # type: ignore[no-untyped-def]
    # A trimmed quote's citation is a clause span, not one of the result's citations: not a support sentence.
    return {c.article for c in fact.citations if c.quote == fact.text}


def _replayed(paths: Sequence[Path], cassette: Path, max_facts: int):  # type: ignore[no-untyped-def]
    """The brief the CLI writes from the recorded embedded-model run (offline)."""
    from summarizer.models import Brief
    from summarizer.run import BriefRequest, run_brief

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "brief"
        req = BriefRequest(inputs=[str(p) for p in paths], out=out, replay=cassette, quiet=True, max_facts=max_facts)
        run_brief(req)
        return Brief.model_validate_json((out / "brief.json").read_text(encoding="utf-8"))


def _figures_corrected(brief) -> int:  # type: ignore[no-untyped-def]
    return sum(len(g.sources) != f.corroboration for s in brief.stories for f in s.facts for g in f.figures)


def _report(name: str, brief, results, max_facts: int) -> None:  # type: ignore[no-untyped-def]
    from summarizer.render.markdown import render_markdown, word_count

    facts_in = {r.article.id: len(r.facts) for r in results}
    stories = brief.stories
    given = [sum(facts_in[a] for a in s.articles) for s in stories]
    merged = [len(s.facts) for s in stories]
    shown = [min(max_facts, n) for n in merged]
    md = render_markdown(brief, max_facts=max_facts)
    cross = sum(len(f.sources) > 1 for s in stories for f in s.facts)
    quoted = {(c.article, c.start, c.end) for r in results for f in r.facts for c in f.citations}
    by_sentence = sum(
        any((c.article, c.start, c.end) not in quoted and c.article not in _trimmed(f) for c in f.citations)
        for s in stories
        for f in s.facts
    )
    print(f"\n== {name}: {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}, {len(results)} articles")
    if len(stories) == 1:
        print(f"facts per story: sources gave {given[0]}, after merging {merged[0]}, shown in brief.md {shown[0]}")
    else:
        print(
            f"facts per story (mean / max): sources gave {statistics.mean(given):.1f} / {max(given)}, "
            f"after merging {statistics.mean(merged):.1f} / {max(merged)}, "
            f"shown in brief.md {statistics.mean(shown):.1f} / {max(shown)}"
        )
    print(f"duplicates merged: {sum(given) - sum(merged)} ({cross} facts now carry 2+ sources)")
    print(f"facts corroborated by another source's sentence that is no fact of its own: {by_sentence}")
    print(f"figures whose corroboration differs from their fact's (corrected): {_figures_corrected(brief)}")
    print(f"conflicts: {sum(len(s.conflicts) for s in stories)}")
    print(f"words in brief.md: {word_count(md)} ({len(md.split())} whitespace tokens)")


def _similarity(max_stories: int) -> None:
    """Same-event merges inside ABC stories, and false ones between facts of different stories."""
    from conftest import lee_corpus

    from summarizer.cluster import cluster_articles
    from summarizer.load import load_inputs
    from summarizer.merge import support_sentences
    from summarizer.reconcile import event_terms, near_duplicate, same_event
    from summarizer.segment import segment
    from summarizer.verify import verify_extraction

    texts = lee_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write_texts(Path(tmp), texts)
        loaded = load_inputs([str(p) for p in paths])
    docs = {a.id: segment(a) for a in loaded.articles}
    groups = cluster_articles([(aid, d.article.text) for aid, d in docs.items()])
    story_of = {a: k for k, g in enumerate(groups) for a in g}
    # Every prose sentence, not only the extractive facts: a sentence no fact quotes may still corroborate
    # another source's fact (merge.support_sentences), so the rule is judged on all of them.
    facts = []
    for aid, d in docs.items():
        result = verify_extraction(None, d)
        for f in [*result.facts, *support_sentences(result, d)]:
            facts.append((aid, f.text, event_terms(f.text)))
    # Candidate pairs share a content stem (inverted index); every pair of different articles is judged.
    index: dict[str, list[int]] = {}
    for n, (_, _, terms) in enumerate(facts):
        for s in terms.stems:
            index.setdefault(s, []).append(n)
    pairs: set[tuple[int, int]] = set()
    for ids in index.values():
        if len(ids) > 400:
            continue  # a stem in 400+ sentences ("year", "government") links nothing by itself
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                pairs.add((ids[x], ids[y]))
    within, across, judged_within, judged_across = [], [], 0, 0
    for x, y in sorted(pairs):
        a, b = facts[x], facts[y]
        if a[0] == b[0]:
            continue
        same_story = story_of[a[0]] == story_of[b[0]]
        if same_story:
            judged_within += 1
        else:
            judged_across += 1
        if same_event(a[2], b[2]):
            (within if same_story else across).append((a, b))
    n_multi = sum(len(g) > 1 for g in groups)
    print(
        f"\n== similarity rule on the ABC texts ({len(facts)} prose sentences, {len(groups)} stories, "
        f"{n_multi} with 2+ articles)"
    )
    print(f"same-event links between sentences of one story: {len(within)} of {judged_within} cross-source pairs")
    print(f"false links between sentences of different stories: {len(across)} of {judged_across} pairs")
    for tag, found, limit in (("FALSE, across stories", across, len(across)), ("within a story", within, 15)):
        for a, b in found[:limit]:
            print(f"  [{tag}] {a[1][:100]!r}\n      ~ {b[1][:100]!r}")
    dup = sum(near_duplicate(a[2], b[2]) for x, y in sorted(pairs) if (a := facts[x])[0] == (b := facts[y])[0])
    print(f"near-duplicates within one article: {dup}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--abc-stories", type=int, default=50)
    ap.add_argument("--max-facts", type=int, default=6)
    ap.add_argument("--replay", type=Path, default=ROOT / "cassettes" / "seeds_gemma3_270m.yaml")
    args = ap.parse_args()

    from conftest import lee_corpus

    seeds = [ROOT / "examples" / "ap_2025-05-25.txt", ROOT / "examples" / "bbc_2025-05-24.txt"]
    brief, _, results = _brief(seeds)
    _report("seeds (extractive)", brief, results, args.max_facts)
    if args.replay.exists():
        replayed = _replayed(seeds, args.replay, args.max_facts)
        _report(f"seeds (replay of {args.replay.name})", replayed, replayed.results, args.max_facts)

    from summarizer.cluster import cluster_articles

    texts = lee_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write_texts(Path(tmp), texts)
        groups = cluster_articles([(str(i), t) for i, t in enumerate(texts)])
        multi = [g for g in groups if len(g) > 1][: args.abc_stories]
        chosen = [paths[int(i)] for g in multi for i in g]
        brief, _, results = _brief(chosen)
        _report(f"ABC: the {len(multi)} multi-article stories", brief, results, args.max_facts)
    _similarity(args.abc_stories)


if __name__ == "__main__":
    main()
