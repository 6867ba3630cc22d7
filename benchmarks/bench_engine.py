"""How fast, and how good, is the embedded 270M model? Real engine, real articles, side by side.

Run: python benchmarks/bench_engine.py [--abc N] [--reasks K] [--compare-old] [--max-tokens T]

For the two seeds plus N of gensim's ABC texts, article by article and interleaved (so a busy machine
slows all of them alike):
- **raw**: ``llama_cpp.Llama`` in this process, same GGUF, same settings as our server, on exactly the
  prompt our pipeline sends (the folded system + user turn, the schema as llama.cpp's grammar, the same
  ``max_tokens``, temperature and the server's default repeat_penalty);
- **ours**: the embedded server (``summarizer.engine``) through the whole client path (instructor, the
  OpenAI SDK, HTTP, our in-loop checks), via ``extract`` with K re-asks (default 0: like for like);
- **old** (``--compare-old``): the same pipeline on the server as it was started before issue 15
  (``logits_all`` on, the server's default; generation on every core).

Prints per article and in total: seconds, prompt/completion tokens, ours/raw (goal ≤ 1.10), seconds per
article (ours vs old), and the verification figures of our outputs: facts proposed, passing as cited,
passing after re-anchoring, headlines and summaries passing, LLM calls per article.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, installed or not

# The server as started before issue 15: logits for every prompt token, generation on every core.
OLD_SETTINGS = ["--logits_all", "true", "--n_threads", str(os.cpu_count() or 1)]
# llama_cpp.server applies repeat_penalty 1.1 to requests that do not set it (ours do not), while
# Llama.create_chat_completion defaults to 1.0: the raw side uses the server's value to match.
SERVER_REPEAT_PENALTY = 1.1


def abc_texts(n: int) -> list[str]:
    import gensim

    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / "lee_background.cor"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:n]


@dataclass
class Side:
    seconds: list[float] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)
    calls: int = 0
    results: list[Any] = field(default_factory=list)


class Pipeline:
    """Our client path against one running server, on one event loop (the client is built once, as in a run)."""

    def __init__(self, url: str, gguf_name: str) -> None:
        from summarizer.llm import LLM, embedded_endpoint

        self.loop = asyncio.new_event_loop()
        self.llm = LLM(embedded_endpoint(url, gguf_name))

    def extract(self, doc: Any, prompts: Any, reasks: int) -> Any:
        from summarizer.extract import extract

        return self.loop.run_until_complete(extract(doc, self.llm, prompts, max_reasks=reasks))

    def close(self) -> None:
        self.loop.run_until_complete(self.llm.close())
        self.loop.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--abc", type=int, default=2)
    ap.add_argument("--reasks", type=int, default=0)
    ap.add_argument("--compare-old", action="store_true")
    ap.add_argument("--max-tokens", type=int, default=0, help="override the endpoint's output cap (0: keep)")
    args = ap.parse_args()

    import llama_cpp

    from summarizer.engine import cores, default_gguf, embedded_server
    from summarizer.extract import CheckedExtraction, build_prompt
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
    gguf = default_gguf()
    probe = embedded_endpoint("http://127.0.0.1:1/v1", gguf.name)
    if args.max_tokens:
        probe.max_tokens = args.max_tokens
    messages = LLM(probe).messages  # the very message list our client sends (system folded into the turn)
    schema = CheckedExtraction.model_json_schema()
    n_threads = cores()
    print(f"{len(docs)} articles (2 seeds + {len(docs) - 2} ABC); {n_threads} threads; max_tokens {probe.max_tokens}; "
          f"re-asks {args.reasks}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    t = time.perf_counter()
    raw_llm = llama_cpp.Llama(
        model_path=str(gguf),
        n_ctx=8192,
        n_threads=max(1, n_threads // 2),  # as engine.server_command sets them
        n_threads_batch=n_threads,
        chat_format="gemma",
        logits_all=False,
        verbose=False,
    )
    print(f"raw model load {time.perf_counter() - t:.1f} s (not counted)")
    raw, ours, old = Side(), Side(), Side()
    with contextlib.ExitStack() as stack:
        t = time.perf_counter()
        url = stack.enter_context(embedded_server(gguf))
        print(f"our server start {time.perf_counter() - t:.1f} s (not counted)")
        pipe = Pipeline(url, gguf.name)
        stack.callback(pipe.close)
        if args.max_tokens:
            pipe.llm.endpoint.max_tokens = args.max_tokens
        old_pipe = None
        if args.compare_old:
            old_url = stack.enter_context(embedded_server(gguf, extra_args=OLD_SETTINGS))
            old_pipe = Pipeline(old_url, gguf.name)
            stack.callback(old_pipe.close)
            if args.max_tokens:
                old_pipe.llm.endpoint.max_tokens = args.max_tokens

        header = f"{'article':<24} {'prompt':>6} {'out':>5} {'raw s':>7} {'ours s':>7} {'ours/raw':>8}"
        print(header + (f" {'old s':>7} {'old/ours':>8}" if old_pipe else ""))
        for doc in docs:
            system, user = build_prompt(doc, prompts)
            t = time.perf_counter()
            out = raw_llm.create_chat_completion(
                messages=messages(system, user),  # type: ignore[arg-type]
                response_format={"type": "json_object", "schema": schema},
                max_tokens=probe.max_tokens,
                temperature=probe.temperature,
                repeat_penalty=SERVER_REPEAT_PENALTY,
            )
            raw.seconds.append(time.perf_counter() - t)
            usage: Any = out["usage"]  # type: ignore[index]
            raw.prompt_tokens.append(int(usage["prompt_tokens"]))
            raw.completion_tokens.append(int(usage["completion_tokens"]))
            raw.calls += 1

            for side, runner in ((ours, pipe), (old, old_pipe)):
                if runner is None:
                    continue
                t = time.perf_counter()
                got = runner.extract(doc, prompts, args.reasks)
                side.seconds.append(time.perf_counter() - t)
                side.prompt_tokens.append(got.usage.prompt_tokens)
                side.completion_tokens.append(got.usage.completion_tokens)
                side.calls += got.usage.calls
                side.results.append(got)
            ratio = ours.seconds[-1] / raw.seconds[-1]
            line = (f"{Path(doc.article.path).name[:24]:<24} {raw.prompt_tokens[-1]:>6} {raw.completion_tokens[-1]:>5} "
                    f"{raw.seconds[-1]:>7.1f} {ours.seconds[-1]:>7.1f} {ratio:>8.2f}")  # fmt: skip
            if old_pipe:
                line += f" {old.seconds[-1]:>7.1f} {old.seconds[-1] / ours.seconds[-1]:>8.2f}"
            print(line, flush=True)
    del raw_llm
    gc.collect()

    n = len(docs)
    print(f"\ntotal: raw {sum(raw.seconds):.1f} s, ours {sum(ours.seconds):.1f} s → ours/raw "
          f"{sum(ours.seconds) / sum(raw.seconds):.3f} (goal ≤ 1.10); median per article "
          f"{statistics.median(o / r for o, r in zip(ours.seconds, raw.seconds, strict=True)):.3f}")  # fmt: skip
    print(
        f"tokens: raw {sum(raw.prompt_tokens)}+{sum(raw.completion_tokens)}, "
        f"ours {sum(ours.prompt_tokens)}+{sum(ours.completion_tokens)} (the same prompts: the same tokens)"
    )
    print(f"seconds per article: ours {sum(ours.seconds) / n:.1f}"
          + (f", old settings {sum(old.seconds) / n:.1f} → old/ours {sum(old.seconds) / sum(ours.seconds):.2f}"
             if old.seconds else ""))  # fmt: skip
    per_token = [s / max(1, c) for s, c in zip(raw.seconds, raw.completion_tokens, strict=True)]
    print(f"raw seconds per output token (prompt included): median {statistics.median(per_token):.3f}")

    proposed = as_cited = anchored = heads = sums = 0
    for doc, got in zip(docs, ours.results, strict=True):
        ex = got.extraction
        if ex is None:
            continue
        proposed += len(ex.facts)
        as_cited += sum(check_fact(f.text, f.sentence_ids, doc).ok for f in ex.facts)
        anchored += sum(judge_fact(f.text, f.sentence_ids, doc)[0].ok for f in ex.facts)
        heads += not check_article_text(ex.headline, doc)[0]
        sums += not check_article_text(ex.summary, doc)[0]
    print(f"\nours: facts proposed {proposed}; pass as cited {as_cited} ({as_cited / max(1, proposed):.0%}); "
          f"pass after re-anchoring {anchored} ({anchored / max(1, proposed):.0%}); "
          f"headlines passing {heads}/{n}; summaries passing {sums}/{n}; "
          f"LLM calls per article {ours.calls / n:.2f}; output tokens max {max(ours.completion_tokens)}, "
          f"median {statistics.median(ours.completion_tokens):.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
