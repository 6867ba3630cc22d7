"""How well does the embedded 270M model do, and how fast? Real engine, real articles.

Run: python benchmarks/bench_engine.py [--abc N] [--reasks K]

For the two seeds plus N of gensim's ABC texts it starts the embedded llama.cpp server once, runs the
extract stage (with K re-asks) and the verify stage, and prints:
- facts the model proposed (in the attempt kept), how many pass verification as cited, and how many
  pass after re-anchoring verbatim copies to the sentence they copy;
- headline and summary pass rates;
- seconds per article and LLM calls per article.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def abc_texts(n: int) -> list[str]:
    import gensim

    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / "lee_background.cor"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--abc", type=int, default=6)
    ap.add_argument("--reasks", type=int, default=0)
    args = ap.parse_args()

    from summarizer.engine import default_gguf, embedded_server
    from summarizer.extract import extract
    from summarizer.llm import LLM, embedded_endpoint
    from summarizer.load import load_inputs
    from summarizer.segment import segment
    from summarizer.templates import Prompts
    from summarizer.verify import check_article_text, check_fact, judge_fact

    tmp = Path(tempfile.mkdtemp())
    inputs = [str(ROOT / "examples")]
    for i, text in enumerate(abc_texts(args.abc)):
        p = tmp / f"abc_{i:03d}.txt"
        p.write_text(text + "\n", encoding="utf-8")
        inputs.append(str(p))
    docs = [segment(a) for a in load_inputs(inputs).articles]
    prompts = Prompts()
    proposed = as_cited = anchored = heads = sums = calls = 0
    started = time.perf_counter()
    with embedded_server(default_gguf()) as url:

        async def run_one(doc):  # type: ignore[no-untyped-def]
            llm = LLM(embedded_endpoint(url, "gemma-3-270m"))
            try:
                return await extract(doc, llm, prompts, max_reasks=args.reasks)
            finally:
                await llm.close()

        for doc in docs:
            got = asyncio.run(run_one(doc))
            calls += got.usage.calls
            ex = got.extraction
            if ex is None:
                print(f"{doc.article.id}: no usable output", file=sys.stderr)
                continue
            proposed += len(ex.facts)
            as_cited += sum(check_fact(f.text, f.sentence_ids, doc).ok for f in ex.facts)
            anchored += sum(judge_fact(f.text, f.sentence_ids, doc)[0].ok for f in ex.facts)
            heads += not check_article_text(ex.headline, doc)[0]
            sums += not check_article_text(ex.summary, doc)[0]
    elapsed = time.perf_counter() - started
    n = len(docs)
    print(f"articles: {n} (2 seeds + {n - 2} ABC), re-asks allowed: {args.reasks}")
    print(
        f"facts proposed: {proposed}; pass as cited: {as_cited} ({as_cited / max(1, proposed):.0%}); "
        f"pass after re-anchoring: {anchored} ({anchored / max(1, proposed):.0%})"
    )
    print(f"headlines passing: {heads}/{n}; summaries passing: {sums}/{n}")
    print(f"LLM calls per article: {calls / n:.2f}; seconds per article: {elapsed / n:.1f} (incl. server start)")


if __name__ == "__main__":
    main()
