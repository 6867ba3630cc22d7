"""What one CLI invocation does: pick the engine, run the pipeline, write the brief, report.

Kept out of cli.py so the CLI stays a thin layer and ``summarizer --help`` imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarizer.models import EngineInfo

VCR_FILTER_HEADERS = ["authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "cookie",
                      "set-cookie"]


@dataclass
class BriefRequest:
    inputs: list[str]
    out: Path = Path("brief")
    base_url: str | None = None
    model: str | None = None
    mode: str | None = None
    gguf: Path | None = None
    prompts_dir: Path | None = None
    concurrency: int | None = None
    max_reasks: int = 2
    narrative: bool = True
    use_cache: bool = True
    budget: float | None = None
    formats: list[str] = field(default_factory=lambda: ["md", "json", "html"])
    replay: Path | None = None
    record: Path | None = None
    quiet: bool = False
    cache_path: Path | None = None


def _say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


def vcr_for(cassette: Path, *, replay: bool) -> Any:
    """A vcrpy cassette context: replay never touches the network; recording scrubs credentials."""
    import vcr

    v = vcr.VCR(
        record_mode="none" if replay else "all",
        # The embedded server's port changes per run; the request body pins the exchange.
        match_on=["method", "path", "body"],
        filter_headers=VCR_FILTER_HEADERS,
        decode_compressed_response=True,
        allow_playback_repeats=True,
    )
    return v.use_cassette(str(cassette))


def endpoint_from_cassette(cassette: Path) -> tuple[str, str, str]:
    """(base_url, model, mode) of the recorded run, read from the cassette itself."""
    import json

    import yaml

    data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    for item in data.get("interactions", []):
        req = item["request"]
        if not req["uri"].endswith("/chat/completions"):
            continue
        body = json.loads(req["body"]) if isinstance(req["body"], str) else json.loads(req["body"]["string"])
        base = req["uri"].rsplit("/chat/completions", 1)[0]
        rf = body.get("response_format") or {}
        mode = "llama_json" if rf.get("schema") else ("tools" if body.get("tools") else "json")
        return base, body.get("model", "default"), mode
    raise ValueError(f"{cassette}: no chat completion recorded in this cassette")


@contextlib.contextmanager
def open_llm(req: BriefRequest) -> Iterator[tuple[Any, EngineInfo]]:
    """The LLM client for this run, starting (and always stopping) the embedded engine if needed."""
    from summarizer.cost import estimate_cost
    from summarizer.llm import LLM, Endpoint, embedded_endpoint, resolve_endpoint

    def cost(model: str, pt: int, ct: int) -> float:
        return estimate_cost(model, pt, ct)

    def free(model: str, pt: int, ct: int) -> float:
        return 0.0

    with contextlib.ExitStack() as stack:
        if req.replay is not None:
            base, model, mode = endpoint_from_cassette(req.replay)
            ep = Endpoint(base_url=base, model=model, mode=mode, engine=f"replay of {req.replay.name}",  # type: ignore[arg-type]
                          fold_system=mode == "llama_json", max_transport_retries=0)
            stack.enter_context(vcr_for(req.replay, replay=True))
            pricing = free
        else:
            found = resolve_endpoint(base_url=req.base_url, model=req.model, mode=req.mode)
            if found is None:
                from summarizer.engine import default_gguf, embedded_server

                gguf = req.gguf or default_gguf()
                _say(f"engine: embedded llama.cpp, model {gguf.name} (starting on loopback…)", req.quiet)
                url = stack.enter_context(embedded_server(gguf))
                ep = embedded_endpoint(url, gguf.name)
                pricing = free
            else:
                ep = found
                pricing = cost
                _say(f"engine: {ep.description}", req.quiet)
            if req.record is not None:
                req.record.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(vcr_for(req.record, replay=False))
        if req.mode and req.replay is None:
            ep.mode = req.mode  # type: ignore[assignment]
        llm = LLM(ep, call_log=None, cost=pricing)
        yield llm, EngineInfo(name=ep.engine, model=ep.model, base_url=ep.base_url)


def run_brief(req: BriefRequest) -> int:
    """The whole `summarizer brief` job. Returns the exit code."""
    from summarizer.llm import CallLog
    from summarizer.load import load_inputs
    from summarizer.pipeline import Options, RunStats, build_brief, process_articles
    from summarizer.progress import Progress, progress_enabled
    from summarizer.render import write_brief
    from summarizer.segment import segment
    from summarizer.templates import Prompts

    started = time.perf_counter()
    try:
        prompts = Prompts(req.prompts_dir)
    except FileNotFoundError as exc:
        _say(f"summarizer: {exc}")
        return 2
    loaded = load_inputs(req.inputs)
    for e in loaded.errors:
        _say(f"summarizer: {e.path}: {e.reason}")
    for note in loaded.notes:
        _say(f"summarizer: note: {note}", req.quiet)
    if not loaded.articles:
        _say("summarizer: no readable article in the inputs")
        return 1
    docs = [segment(a) for a in loaded.articles]
    articles = {d.article.id: d.article for d in docs}
    stats = RunStats()
    code = 1 if loaded.errors else 0

    cache = None
    if req.use_cache and req.replay is None:
        from summarizer.cache import ResultCache

        cache = ResultCache(req.cache_path)
    budget = None
    if req.budget is not None:
        from summarizer.cost import Budget

        budget = Budget(req.budget)
    try:
        with open_llm(req) as (llm, engine):
            llm.call_log = CallLog(req.out / "calls.jsonl")
            options = Options(
                concurrency=req.concurrency or (1 if engine.name.startswith(("embedded", "replay")) else 8),
                max_reasks=req.max_reasks,
                narrative=req.narrative,
                budget_usd=req.budget,
            )

            async def go() -> Any:
                try:
                    with Progress(len(docs), enabled=progress_enabled(req.quiet)) as progress:
                        results = await process_articles(docs, llm, prompts, options, cache=cache,
                                                         progress=progress, budget=budget, stats=stats)
                    return await build_brief(docs, results, llm, prompts, options, errors=loaded.errors,
                                             engine=engine, budget=budget)
                finally:
                    await llm.close()

            brief = asyncio.run(go())
    except Exception as exc:  # engine start-up, cassette problems: one clear line, no traceback
        from summarizer.engine import EngineError

        if isinstance(exc, (EngineError, FileNotFoundError, ValueError)) or type(exc).__name__ in (
            "CannotOverwriteExistingCassetteException",
        ):
            _say(f"summarizer: {exc}")
            return 1
        raise
    finally:
        if cache is not None:
            cache.close()
    paths = write_brief(brief, articles, req.out, req.formats)
    if stats.transport_failed:
        _say(f"summarizer: the provider failed for {stats.transport_failed} article(s) after bounded retries; "
             "they are covered by extractive evidence")
        code = 1
    if stats.skipped_budget:
        _say(f"summarizer: --budget reached: {stats.skipped_budget} article(s) not sent, covered by extractive "
             "evidence")
    counts: dict[str, int] = {}
    for r in brief.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    u = brief.usage
    _say(
        f"wrote {', '.join(str(p) for p in paths)} · {len(docs)} article(s): "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f" · {len(brief.stories)} story(ies) · {stats.cached} from cache · LLM calls {u.calls}, "
        f"tokens {u.prompt_tokens}+{u.completion_tokens}, est. ${u.cost_usd:.4f} · {time.perf_counter() - started:.1f}s",
        req.quiet,
    )
    return code


def batch_submit(inputs: list[str], **kwargs: Any) -> int:
    raise NotImplementedError


def batch_status(**kwargs: Any) -> int:
    raise NotImplementedError


def batch_collect(**kwargs: Any) -> int:
    raise NotImplementedError
