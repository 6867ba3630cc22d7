"""How story matching across briefs behaves on real texts (summarizer/changes.py).

    python benchmarks/bench_changes.py

Briefs are built without a model (extractive evidence: the lead and every figure-bearing sentence,
verbatim), as the pipeline does when no LLM answers:

* the seeds: yesterday's brief has only AP, today's only BBC (no shared source) -> must match;
* gensim's 300 ABC texts: yesterday = texts 0-149, today = texts 150-299. They share no source, so
  every match is on content: the script prints each one for a reader to judge (the corpus does
  follow some stories over several days: bushfires, the Middle East, Afghanistan).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def brief_of(texts: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    import hashlib

    from summarizer.models import Article
    from summarizer.pipeline import Options, build_brief, segment_and_process
    from summarizer.templates import Prompts

    arts = [
        Article(id=f"a{i}", path=name, title=t[:70], text=t, sha256=hashlib.sha256(t.encode()).hexdigest())
        for i, (name, t) in enumerate(texts, start=1)
    ]

    async def go():  # type: ignore[no-untyped-def]
        docs, results = await segment_and_process(arts, None, Prompts(None), Options())
        return await build_brief(docs, results, None, Prompts(None), Options(narrative=False)), arts

    return asyncio.run(go())


def main() -> None:
    from conftest import AP, BBC, lee_corpus

    from summarizer.changes import annotate

    ap, bbc = AP.read_text(encoding="utf-8"), BBC.read_text(encoding="utf-8")
    prev, _ = brief_of([("ap", ap)])
    new, arts = brief_of([("bbc", bbc)])
    annotate(new, prev, {a.id: a for a in arts})
    (s,) = new.stories
    print(f"seeds, AP yesterday -> BBC today: {s.since_last}; changes: {[c.text for c in s.changes][:4]} ...")

    corpus = lee_corpus()
    prev, _ = brief_of([(f"lee{i}", t) for i, t in enumerate(corpus[:150])])
    new, arts = brief_of([(f"lee{i}", t) for i, t in enumerate(corpus[150:300], start=150)])
    t0 = time.perf_counter()
    annotate(new, prev, {a.id: a for a in arts})
    took = time.perf_counter() - t0
    old = {s.id: s for s in prev.stories}
    matched = [s for s in new.stories if s.since_last != "new"]
    print(
        f"ABC: {len(prev.stories)} stories yesterday, {len(new.stories)} today; {len(matched)} matched "
        f"({sum(s.since_last == 'updated' for s in matched)} updated, "
        f"{sum(s.since_last == 'unchanged' for s in matched)} unchanged); annotate took {took:.2f} s"
    )
    for s in matched:
        o = old[s.previous or ""]
        print(f"  today {s.title[:60]!r}\n    <- {o.title[:60]!r}")


if __name__ == "__main__":
    main()
