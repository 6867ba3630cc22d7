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
from typing import Any, cast

from summarizer.models import EngineInfo

VCR_FILTER_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
]


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
    max_reasks: int | None = None
    narrative: bool = True
    use_cache: bool = True
    budget: float | None = None
    formats: list[str] = field(default_factory=lambda: ["md", "json", "html"])
    replay: Path | None = None
    record: Path | None = None
    quiet: bool = False
    cache_path: Path | None = None
    max_facts: int | None = None  # facts per story in brief.md (None: the renderer's default, 6)


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
    )
    # Repeats: the same prompt twice (e.g. a rerun inside one process) replays the same answer.
    return v.use_cassette(str(cassette), allow_playback_repeats=True)


def endpoint_from_cassette(cassette: Path) -> tuple[str, str, str, int]:
    """(base_url, model, mode, max_tokens) of the recorded run, read from the cassette itself."""
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
        return base, body.get("model", "default"), mode, int(body.get("max_tokens") or 1024)
    raise ValueError(f"{cassette}: no chat completion recorded in this cassette")


@contextlib.contextmanager
def open_llm(req: BriefRequest) -> Iterator[tuple[Any, EngineInfo]]:
    """The LLM client for this run, starting (and always stopping) the embedded engine if needed."""
    from summarizer.cost import estimate_cost
    from summarizer.llm import LLM, Endpoint, Mode, embedded_endpoint, resolve_endpoint

    def cost(model: str, pt: int, ct: int) -> float:
        return estimate_cost(model, pt, ct)

    def free(model: str, pt: int, ct: int) -> float:
        return 0.0

    with contextlib.ExitStack() as stack:
        if req.replay is not None:
            base, model, mode, max_tokens = endpoint_from_cassette(req.replay)
            ep = Endpoint(
                base_url=base,
                model=model,
                mode=cast(Mode, mode),
                engine=f"replay of {req.replay.name}",
                fold_system=mode == "llama_json",
                max_transport_retries=0,
                max_tokens=max_tokens,
            )
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
    import logging

    # instructor logs every failed validation at ERROR; our audit already records them with reasons.
    if not logging.getLogger("summarizer").isEnabledFor(logging.INFO):
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
    from summarizer.llm import CallLog
    from summarizer.load import load_inputs
    from summarizer.models import Brief
    from summarizer.pipeline import Options, RunStats, build_brief, segment_and_process
    from summarizer.progress import Progress, progress_enabled
    from summarizer.render import write_brief
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
    articles = {a.id: a for a in loaded.articles}
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
            local = engine.name.startswith(("embedded", "replay"))
            options = Options(
                concurrency=req.concurrency or (1 if local else 8),
                # Each re-ask costs the small local model ~10-40 s for little gain.
                max_reasks=req.max_reasks if req.max_reasks is not None else (1 if local else 2),
                narrative=req.narrative,
                budget_usd=req.budget,
            )

            built: list[Brief] = []

            async def go() -> None:
                try:
                    with Progress(len(articles), enabled=progress_enabled(req.quiet)) as progress:
                        # Each article is segmented in its own task, overlapping other articles' LLM waits.
                        docs, results = await segment_and_process(
                            loaded.articles,
                            llm,
                            prompts,
                            options,
                            cache=cache,
                            progress=progress,
                            budget=budget,
                            stats=stats,
                        )
                    brief = await build_brief(
                        docs,
                        results,
                        llm,
                        prompts,
                        options,
                        errors=loaded.errors,
                        engine=engine,
                        budget=budget,
                        cache=cache,
                    )
                    built.append(brief)
                finally:
                    await llm.close()

            # go() returns nothing: asyncio.run would otherwise repr() the whole Brief on the way out.
            asyncio.run(go())
            brief = built[0]
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
    paths = write_brief(brief, articles, req.out, req.formats, max_facts=req.max_facts)
    if stats.transport_failed:
        _say(
            f"summarizer: the provider failed for {stats.transport_failed} article(s) after bounded retries; "
            "they are covered by extractive evidence"
        )
        code = 1
    if stats.skipped_budget:
        _say(
            f"summarizer: --budget reached: {stats.skipped_budget} article(s) not sent, covered by extractive evidence"
        )
    counts: dict[str, int] = {}
    for r in brief.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    u = brief.usage
    _say(
        f"wrote {', '.join(str(p) for p in paths)} · {len(articles)} article(s): "
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f" · {len(brief.stories)} story(ies) · {stats.cached} from cache · LLM calls {u.calls}, "
        f"tokens {u.prompt_tokens}+{u.completion_tokens}, est. ${u.cost_usd:.4f}"
        f" · {time.perf_counter() - started:.1f}s",
        req.quiet,
    )
    return code


def _batch_client(base_url: str | None) -> Any:
    import os

    import openai

    return openai.OpenAI(
        base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None,
        api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
        max_retries=3,
    )


def _batch_docs(inputs: list[str]) -> tuple[list[Any], list[Any]]:
    from summarizer.load import load_inputs
    from summarizer.segment import segment

    loaded = load_inputs(inputs)
    for e in loaded.errors:
        _say(f"summarizer: {e.path}: {e.reason}")
    return [segment(a) for a in loaded.articles], loaded.errors


def batch_submit(
    inputs: list[str], *, state: Path, model: str | None, base_url: str | None, prompts_dir: Path | None
) -> int:
    """One chat request per article; custom_id is the article's cache key."""
    import json
    import os

    from summarizer.batch import build_batch_lines, save_state, submit
    from summarizer.extract import build_prompt, schema
    from summarizer.pipeline import cache_key_for
    from summarizer.templates import Prompts

    prompts = Prompts(prompts_dir)
    model = model or os.environ.get("SUMMARIZER_MODEL") or "gpt-4o-mini"
    docs, errors = _batch_docs(inputs)
    if not docs:
        _say("summarizer: no readable article in the inputs")
        return 1
    requests = []
    mapping: dict[str, Any] = {}
    for doc in docs:
        system, user = build_prompt(doc, prompts)
        system += "\n\nReturn JSON matching this JSON schema:\n" + json.dumps(schema())
        key = cache_key_for(doc, model, prompts)
        requests.append(
            (
                key,
                {
                    "model": model,
                    "temperature": 0,
                    "response_format": {"type": "json_object"},
                    "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
                },
            )
        )
        mapping[key] = {"path": doc.article.path, "sha256": doc.article.sha256, "model": model}
    batch_id = submit(_batch_client(base_url), build_batch_lines(requests))
    save_state(state, batch_id, mapping)
    _say(f"submitted batch {batch_id}: {len(requests)} article(s); state in {state}")
    return 1 if errors else 0


def _latest_batch(state: Path) -> tuple[str, dict[str, Any]]:
    from summarizer.batch import load_state

    batches = load_state(state)
    if not batches:
        raise FileNotFoundError(f"{state}: no batch recorded; run `summarizer batch submit` first")
    batch_id = list(batches)[-1]
    return batch_id, batches[batch_id]


def batch_status(*, state: Path, base_url: str | None) -> int:
    from summarizer.batch import describe, status

    try:
        batch_id, _ = _latest_batch(state)
    except FileNotFoundError as exc:
        _say(f"summarizer: {exc}")
        return 2
    print(describe(status(_batch_client(base_url), batch_id)))
    return 0


def batch_collect(*, state: Path, out: Path, base_url: str | None, prompts_dir: Path | None) -> int:
    """Collected answers go through the same verify stage and into the same cache as a live run."""
    from summarizer.batch import BatchNotReady, collect, completion_text, usage_of
    from summarizer.cache import ResultCache
    from summarizer.cost import estimate_cost
    from summarizer.extract import _parse
    from summarizer.models import Rejection
    from summarizer.pipeline import Options, build_brief, cache_key_for
    from summarizer.render import write_brief
    from summarizer.templates import Prompts
    from summarizer.verify import verify_extraction

    try:
        batch_id, items = _latest_batch(state)
    except FileNotFoundError as exc:
        _say(f"summarizer: {exc}")
        return 2
    try:
        answers = collect(_batch_client(base_url), batch_id)
    except BatchNotReady as exc:
        _say(f"summarizer: {exc}; try again later")
        return 1
    prompts = Prompts(prompts_dir)
    docs, errors = _batch_docs([v["path"] for v in items.values()])
    code = 1 if errors else 0
    results = []
    with ResultCache() as cache:
        for doc in docs:
            model = next((v["model"] for v in items.values() if v["sha256"] == doc.article.sha256), "")
            key = cache_key_for(doc, model, prompts)
            body = answers.get(key)
            if body is None or "error" in body:
                reason = f"batch request failed: {body.get('error') if body else 'no answer in the batch'}"
                result = verify_extraction(
                    None,
                    doc,
                    events=[reason],
                    rejected=[
                        Rejection(article=doc.article.id, field="response", content="(no response)", reasons=[reason])
                    ],
                )
                code = 1
            else:
                raw = completion_text(body) or ""
                parsed = _parse(raw)
                u = usage_of(body)
                u.cost_usd = estimate_cost(model, u.prompt_tokens, u.completion_tokens, batch=True)
                rejected = (
                    []
                    if parsed
                    else [
                        Rejection(
                            article=doc.article.id,
                            field="response",
                            content=raw[:2000] or "(empty)",
                            reasons=["not valid JSON for the schema"],
                        )
                    ]
                )
                result = verify_extraction(
                    parsed, doc, attempt=1, rejected=rejected, usage=u, events=[f"collected from batch {batch_id}"]
                )
                cache.put(key, result)
            results.append(result)

    import asyncio

    brief = asyncio.run(build_brief(docs, results, None, prompts, Options(narrative=False), errors=errors))
    paths = write_brief(brief, {d.article.id: d.article for d in docs}, out)
    _say(f"collected batch {batch_id}: {len(results)} article(s) → {', '.join(map(str, paths))}")
    return code
