"""The command line: it only wires the stages together. Heavy imports stay inside the commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_HELP = """
Exit codes: 0 all went well; 1 some input or LLM call failed (the brief still covers every article
that could be read); 2 usage error.
"""

app = typer.Typer(
    help="Turn news articles into one consolidated brief whose every figure is checked against its source." + EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect or empty the result cache.", no_args_is_help=True)
batch_app = typer.Typer(
    help="The OpenAI Batch API path for very large runs (50% cheaper, asynchronous).", no_args_is_help=True
)
app.add_typer(cache_app, name="cache")
app.add_typer(batch_app, name="batch")


def _err(msg: str) -> None:
    typer.echo(f"summarizer: {msg}", err=True)


def _setup_logging(verbose: bool) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    if verbose:
        logging.getLogger("summarizer").setLevel(logging.INFO)


@app.command()
def brief(
    inputs: Annotated[list[str], typer.Argument(help="Files, directories (recursive), globs, URLs, feeds, OPML.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for brief.md/.json/.html.")] = Path("brief"),
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (else OPENAI_BASE_URL).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name (else SUMMARIZER_MODEL).")] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="Force one structured-output form: json_schema, json_object_schema, guided_json, ollama_format, "
            "tools, json (default: the provider profile's, in order)."
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            help="Provider profile: openai, anthropic, llama.cpp, ollama, vllm, lmstudio, generic "
            "(default: detected from the URL and the server)."
        ),
    ] = None,
    gguf: Annotated[Path | None, typer.Option(help="GGUF for the embedded engine (default: gemma3 270M).")] = None,
    prompts_dir: Annotated[Path | None, typer.Option("--prompts", help="Folder overriding prompt templates.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="LLM calls in flight (default 8; embedded 1).")] = None,
    max_reasks: Annotated[
        int | None, typer.Option(min=0, max=5, help="Re-asks after failed validation (default 2; embedded 0).")
    ] = None,
    narrative: Annotated[
        bool | None,
        typer.Option(help="Ask the LLM for each story's narrative (default: yes; no for the embedded engine)."),
    ] = None,
    cache: Annotated[bool, typer.Option(help="Use the result cache (--no-cache to turn it off).")] = True,
    budget: Annotated[float | None, typer.Option(min=0, help="Stop scheduling calls past this USD estimate.")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: md,json,html.")] = "md,json,html",
    max_facts: Annotated[
        int, typer.Option(min=1, help="Key facts per story in brief.md; brief.json and brief.html keep all.")
    ] = 6,
    replay: Annotated[Path | None, typer.Option(help="Replay LLM calls from a vcrpy cassette (offline).")] = None,
    record: Annotated[Path | None, typer.Option(help="Record LLM calls to a vcrpy cassette.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary line.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every LLM call.")] = False,
    since: Annotated[
        str | None, typer.Option(help="Only articles dated within this window: 24h, 2d, or a date (undated kept).")
    ] = None,
    previous: Annotated[
        Path | None, typer.Option(help="Compare with this brief.json (default: the one already in --out).")
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Download pages again, ignoring the page cache.")] = False,
) -> None:
    """Summarise articles into brief.md, brief.json and brief.html in --out.

    Inputs may also be article URLs, RSS/Atom/JSON feeds (URLs or files) and OPML lists of feeds.

    With no --base-url, OPENAI_BASE_URL or OPENAI_API_KEY, the embedded llama.cpp engine runs offline.

    Exit codes: 0 all went well; 1 some input or LLM call failed (the brief still covers the rest); 2 usage error.
    """
    from summarizer.run import BriefRequest, run_brief

    _setup_logging(verbose)
    if replay and record:
        _err("--replay and --record exclude each other")
        raise typer.Exit(2)
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ("md", "json", "html")]
    if bad or not fmts:
        _err(f"--format: unknown format {', '.join(bad) or '(none)'}; choose from md, json, html")
        raise typer.Exit(2)
    cutoff = None
    if since is not None:
        from summarizer.feeds import parse_since

        try:
            cutoff = parse_since(since)
        except ValueError as exc:
            _err(str(exc))
            raise typer.Exit(2) from None
    request = BriefRequest(
        inputs=inputs, out=out, base_url=base_url, model=model, mode=mode, provider=provider, gguf=gguf,
        prompts_dir=prompts_dir,
        concurrency=concurrency, max_reasks=max_reasks, narrative=narrative, use_cache=cache, budget=budget,
        formats=fmts, replay=replay, record=record, quiet=quiet, max_facts=max_facts,
    )  # fmt: skip
    request.since, request.previous, request.refresh = cutoff, previous, refresh
    raise typer.Exit(run_brief(request))


@app.command()
def verify(
    source: Annotated[list[Path], typer.Option("--source", "-s", help="A source article (repeatable).")],
    summary: Annotated[Path, typer.Option("--summary", help="The summary to check (any text or Markdown).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (per sentence: which checks failed).")
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="'numbers': check the figures alone, not names, negation or wording.")
    ] = None,
) -> None:
    """Check every claim of a summary against its sources. Exit 0: all supported; 1: some are not."""
    from summarizer.factcheck import format_report, verify_summary
    from summarizer.load import load_inputs

    loaded = load_inputs([str(p) for p in source])
    for e in loaded.errors:
        _err(f"{e.path}: {e.reason}")
    if not loaded.articles:
        _err("no readable source")
        raise typer.Exit(2)
    sloaded = load_inputs([str(summary)])
    if not sloaded.articles:
        reason = sloaded.errors[0].reason if sloaded.errors else "unreadable"
        _err(f"{summary}: {reason}")
        raise typer.Exit(2)
    if only not in (None, "numbers"):
        _err(f"--only: unknown check {only!r}; use 'numbers'")
        raise typer.Exit(2)
    report = verify_summary(
        sloaded.articles[0].text, [(Path(a.path).name, a.text[a.body_start :]) for a in loaded.articles], only=only
    )
    typer.echo(report.model_dump_json(indent=2) if as_json else format_report(report))
    raise typer.Exit(0 if report.ok else 1)


@cache_app.command("stats")
def cache_stats() -> None:
    """Entries, size and location of the result cache."""
    from summarizer.cache import ResultCache

    with ResultCache() as c:
        s = c.stats()
    for k, v in s.model_dump().items():
        typer.echo(f"{k}: {v}")


@cache_app.command("clear")
def cache_clear() -> None:
    """Remove every cached result and fetched page."""
    from summarizer.cache import ResultCache
    from summarizer.fetch import clear_page_cache

    with ResultCache() as c:
        n = c.clear()
    typer.echo(f"removed {n} cached result(s) and {clear_page_cache()} cached page(s)")


@batch_app.command("submit")
def batch_submit(
    inputs: Annotated[list[str], typer.Argument(help="Files, directories or globs.")],
    state: Annotated[Path, typer.Option(help="Where to keep the batch's state file.")] = Path("batch.json"),
    model: Annotated[str | None, typer.Option(help="Model name (else SUMMARIZER_MODEL).")] = None,
    base_url: Annotated[str | None, typer.Option(help="Endpoint (else OPENAI_BASE_URL / OpenAI).")] = None,
    prompts_dir: Annotated[Path | None, typer.Option("--prompts")] = None,
) -> None:
    """Upload one JSONL request per article (custom_id = its cache key) and start a batch."""
    from summarizer.batchrun import batch_submit as submit

    raise typer.Exit(submit(inputs, state=state, model=model, base_url=base_url, prompts_dir=prompts_dir))


@batch_app.command("status")
def batch_status(
    state: Annotated[Path, typer.Option(help="The state file from submit.")] = Path("batch.json"),
    base_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Show the batch's progress."""
    from summarizer.batchrun import batch_status as status

    raise typer.Exit(status(state=state, base_url=base_url))


@batch_app.command("collect")
def batch_collect(
    state: Annotated[Path, typer.Option(help="The state file from submit.")] = Path("batch.json"),
    out: Annotated[Path, typer.Option("--out", "-o")] = Path("brief"),
    base_url: Annotated[str | None, typer.Option()] = None,
    prompts_dir: Annotated[Path | None, typer.Option("--prompts")] = None,
) -> None:
    """Fetch results, verify them like any run, fill the cache, and write the brief."""
    from summarizer.batchrun import batch_collect as collect

    raise typer.Exit(collect(state=state, out=out, base_url=base_url, prompts_dir=prompts_dir))


def main(argv: list[str] | None = None) -> Any:
    return app(args=argv)


if __name__ == "__main__":  # pragma: no cover
    main()
