"""What `summarizer batch submit|status|collect` does: the OpenAI Batch API run, end to end.

Request bodies come from the provider profile (``providers.py``), like a live call's; collected answers
go through the same answer-to-result path as a live run (``extract.from_raw`` → ``extract.to_result``)
and into the same cache, so a later ``summarizer brief`` over the same inputs makes no extraction call.
``batch.py`` holds the API plumbing (JSONL, upload, state file); this module wires it to the stages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from summarizer.models import Article, ArticleEvidence, ArticleResult, InputError


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def batch_client(base_url: str | None) -> Any:
    import openai

    return openai.OpenAI(
        base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None,
        api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
        max_retries=3,
    )


def _articles(inputs: list[str]) -> tuple[list[Article], list[InputError]]:
    """The readable articles (each is segmented when its turn comes, and its Document let go after)."""
    from summarizer.load import load_inputs

    loaded = load_inputs(inputs)
    for e in loaded.errors:
        _say(f"summarizer: {e.path}: {e.reason}")
    return loaded.articles, loaded.errors


def batch_submit(
    inputs: list[str],
    *,
    state: Path,
    model: str | None,
    base_url: str | None,
    prompts_dir: Path | None,
    provider: str | None = None,
) -> int:
    """One chat request per article; custom_id is the article's cache key."""
    from summarizer.batch import submit_all
    from summarizer.extract import build_prompt, schema
    from summarizer.pipeline import cache_key_for
    from summarizer.providers import profile_named
    from summarizer.segment import segment
    from summarizer.templates import Prompts

    prompts = Prompts(prompts_dir)
    profile = profile_named(provider or "openai")
    model = model or os.environ.get("SUMMARIZER_MODEL") or profile.default_model
    articles, errors = _articles(inputs)
    if not articles:
        _say("summarizer: no readable article in the inputs")
        return 1
    requests = []
    mapping: dict[str, Any] = {}
    for article in articles:
        doc = segment(article)
        system, user = build_prompt(doc, prompts)
        key = cache_key_for(doc, model, prompts)
        body = profile.batch_body(
            model=model, system=system, user=user, schema=schema(), name="LLMExtraction", max_tokens=profile.max_tokens
        )
        requests.append((key, body))
        mapping[key] = {"path": doc.article.path, "sha256": doc.article.sha256, "model": model}
    batch_ids = submit_all(batch_client(base_url), requests, state=state, items=mapping)
    _say(f"submitted batch {', '.join(batch_ids)}: {len(requests)} article(s); state in {state}")
    return 1 if errors else 0


def _latest_batch(state: Path) -> tuple[list[str], dict[str, Any]]:
    from summarizer.batch import latest_run

    return latest_run(state)  # every batch the latest submit split its articles into


def batch_status(*, state: Path, base_url: str | None) -> int:
    from summarizer.batch import describe, status

    try:
        batch_id, _ = _latest_batch(state)
    except FileNotFoundError as exc:
        _say(f"summarizer: {exc}")
        return 2
    for one in batch_id:
        print(describe(status(batch_client(base_url), one)))
    return 0


def batch_collect(*, state: Path, out: Path, base_url: str | None, prompts_dir: Path | None) -> int:
    """Collected answers go through the same answer-to-result path and into the same cache as a live run."""

    from summarizer.batch import BatchNotReady, collect_all, completion_text, usage_of
    from summarizer.cache import ResultCache
    from summarizer.cost import estimate_cost
    from summarizer.extract import failed, from_raw, to_result
    from summarizer.merge import article_evidence
    from summarizer.pipeline import Options, build_brief_sync, cache_key_for
    from summarizer.render import write_brief
    from summarizer.segment import segment
    from summarizer.templates import Prompts

    try:
        batch_id, items = _latest_batch(state)
    except FileNotFoundError as exc:
        _say(f"summarizer: {exc}")
        return 2
    try:
        answers = collect_all(batch_client(base_url), batch_id)
    except BatchNotReady as exc:
        _say(f"summarizer: {exc}; try again later")
        return 1
    prompts = Prompts(prompts_dir)
    batches = ", ".join(batch_id)
    articles, errors = _articles([v["path"] for v in items.values()])
    code = 1 if errors else 0
    model_of = {v["sha256"]: v["model"] for v in items.values()}  # a scan per article was n² at 100,000
    results: list[ArticleResult] = []
    evidence: list[ArticleEvidence] = []
    with ResultCache() as cache:
        for article in articles:
            # One Document at a time: what the brief needs of it is kept as its evidence, as in a live run.
            doc = segment(article)
            model = model_of.get(article.sha256, "")
            key = cache_key_for(doc, model, prompts)
            body = answers.get(key)
            if body is None or "error" in body:
                got = failed(doc, f"batch request failed: {body.get('error') if body else 'no answer in the batch'}")
                code = 1
            else:
                usage = usage_of(body)
                usage.cost_usd = estimate_cost(model, usage.prompt_tokens, usage.completion_tokens, batch=True)
                got = from_raw(completion_text(body) or "", doc, usage=usage, event=f"collected from batch {batches}")
            result = to_result(got, doc)
            if not got.transport_failed:
                cache.put(key, result)
            results.append(result)
            evidence.append(article_evidence(result, doc))

    brief = build_brief_sync(evidence, results, None, prompts, Options(narrative=False), errors=errors)
    paths = write_brief(brief, {a.id: a for a in articles}, out)
    _say(f"collected batch {batches}: {len(results)} article(s) → {', '.join(map(str, paths))}")
    return code
