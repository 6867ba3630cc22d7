"""The OpenAI Batch API path: submit every article's request in JSONL batch files, collect later at half price.

A run larger than one batch file allows (50,000 requests or 200 MB) is split into several batches;
the state file records each under the run's id, and ``collect`` gathers all of them.

``custom_id`` is the article's cache key, so collected answers go straight through verify into the cache.
A small JSON state file remembers which article each custom_id belongs to, so ``collect`` can match back
even from another shell or days later.

This module imports ``openai`` only for type checking; callers pass a client in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from summarizer.models import Usage

if TYPE_CHECKING:
    import openai

ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
COMPLETION_WINDOW: Literal["24h"] = "24h"
MAX_REQUESTS = 50_000  # the Batch API's per-file limit
MAX_BYTES = 200 * 1024 * 1024  # and its file-size limit
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class BatchError(RuntimeError):
    pass


class BatchNotReady(BatchError):
    """The batch has not finished and has no results to read yet."""


# ------------------------------------------------------------------ building and submitting


class BatchFile(NamedTuple):
    """One JSONL input file within the API's limits, and the custom_ids it holds (in order)."""

    text: str
    custom_ids: list[str]


def _check_requests(requests: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    # What the API would reject only after the upload: duplicate or empty ids, mixed models, bodies
    # without model or messages.
    if not requests:
        raise ValueError("no requests to batch")
    seen: set[str] = set()
    models: set[str] = set()
    for custom_id, body in requests:
        if not custom_id:
            raise ValueError("empty custom_id")
        if custom_id in seen:
            raise ValueError(f"duplicate custom_id {custom_id!r}")
        seen.add(custom_id)
        if "model" not in body or "messages" not in body:
            raise ValueError(f"{custom_id}: a chat completion body needs 'model' and 'messages'")
        models.add(str(body["model"]))
    if len(models) > 1:
        raise ValueError(f"a batch must use one model, got {sorted(models)}")


def batch_files(
    requests: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    max_requests: int | None = None,
    max_bytes: int | None = None,
) -> Iterator[BatchFile]:
    """The requests as consecutive JSONL files, each within ``max_requests`` lines and ``max_bytes``.

    Everything is checked before the first file is produced, so a bad request never leaves a run
    half-submitted. Files are made one at a time: only one file's text is held at once.
    """
    max_requests = max_requests or MAX_REQUESTS
    max_bytes = max_bytes or MAX_BYTES
    _check_requests(requests)
    lines: list[str] = []
    ids: list[str] = []
    size = 0
    for custom_id, body in requests:
        line = json.dumps(
            {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": dict(body)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        n = len(line.encode("utf-8")) + 1  # and its newline
        if n > max_bytes:
            raise ValueError(f"{custom_id}: one request is {n:,} bytes, over the {max_bytes:,}-byte file limit")
        if lines and (len(lines) == max_requests or size + n > max_bytes):
            yield BatchFile("\n".join(lines) + "\n", ids)
            lines, ids, size = [], [], 0
        lines.append(line)
        ids.append(custom_id)
        size += n
    yield BatchFile("\n".join(lines) + "\n", ids)


def build_batch_lines(requests: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """JSONL for one batch: one ``{"custom_id", "method", "url", "body"}`` per request, in order.

    Rejects up front what the API would reject only after the upload: duplicate or empty ids,
    mixed models, too many lines or bytes for one file (:func:`batch_files` splits instead).
    """
    if len(requests) > MAX_REQUESTS:
        _check_requests(requests)
        raise ValueError(f"{len(requests)} requests; one batch holds at most {MAX_REQUESTS}")
    files = batch_files(requests, max_bytes=2 * MAX_BYTES)
    first = next(files)
    if len(first.text.encode("utf-8")) > MAX_BYTES or next(files, None) is not None:
        raise ValueError("batch file exceeds 200 MB; split the articles into several batches")
    return first.text


def submit(client: openai.OpenAI, jsonl: str, *, metadata: dict[str, str] | None = None) -> str:
    """Upload the JSONL (purpose=batch) and start a 24 h batch on it. Returns the batch id."""
    uploaded = client.files.create(
        file=("summarizer-batch.jsonl", jsonl.encode("utf-8"), "application/jsonl"), purpose="batch"
    )
    kwargs: dict[str, Any] = {}
    if metadata:
        kwargs["metadata"] = metadata
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window=COMPLETION_WINDOW, **kwargs
    )
    return batch.id


def status(client: openai.OpenAI, batch_id: str) -> dict[str, Any]:
    """The batch object as a plain dict (id, status, request_counts, output_file_id, error_file_id, ...)."""
    batch = client.batches.retrieve(batch_id)
    return batch.model_dump(mode="json", exclude_none=True)


def describe(info: Mapping[str, Any]) -> str:
    """One line for ``summarizer batch status``."""
    counts = info.get("request_counts") or {}
    done, failed, total = counts.get("completed", 0), counts.get("failed", 0), counts.get("total", 0)
    return f"{info.get('id')}: {info.get('status')} — {done}/{total} completed, {failed} failed"


# ------------------------------------------------------------------ collecting


def is_error(entry: Mapping[str, Any]) -> bool:
    return "error" in entry and "choices" not in entry


def parse_results(text: str) -> dict[str, dict[str, Any]]:
    """Output/error JSONL → custom_id → chat completion body, or ``{"error": ..., "status_code": ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as e:
            raise BatchError(f"result line {n} is not JSON: {e}") from e
        custom_id = line.get("custom_id")
        if not custom_id:
            raise BatchError(f"result line {n} has no custom_id")
        response = line.get("response") or {}
        code = response.get("status_code")
        body = response.get("body")
        if line.get("error") is not None:
            out[custom_id] = {"error": line["error"], "status_code": code}
        elif code == 200 and isinstance(body, dict):
            out[custom_id] = body
        else:
            err = body.get("error") if isinstance(body, dict) and body.get("error") else body
            out[custom_id] = {"error": err or {"message": "no response body"}, "status_code": code}
    return out


def collect(client: openai.OpenAI, batch_id: str) -> dict[str, dict[str, Any]]:
    """custom_id → response body for every finished request; failed ones map to their error.

    Expired or cancelled batches still return what finished. Raises :class:`BatchNotReady` while running,
    :class:`BatchError` if the batch failed as a whole (e.g. the input did not validate).
    """
    batch = client.batches.retrieve(batch_id)
    if batch.status == "failed":
        errs = [e.message or e.code or "" for e in (batch.errors.data or [])] if batch.errors else []
        raise BatchError(f"batch {batch_id} failed: {'; '.join(str(e) for e in errs) or 'no reason given'}")
    if batch.status not in TERMINAL and not batch.output_file_id:
        raise BatchNotReady(f"batch {batch_id} is {batch.status}")
    results: dict[str, dict[str, Any]] = {}
    # Error file first so that a success in the output file (should both exist) wins.
    for file_id in (batch.error_file_id, batch.output_file_id):
        if file_id:
            results.update(parse_results(client.files.content(file_id).text))
    return results


def submit_all(
    client: openai.OpenAI,
    requests: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    state: Path | str,
    items: Mapping[str, Any],
    max_requests: int | None = None,
    max_bytes: int | None = None,
) -> list[str]:
    """Split the run into batch files within the API's limits, submit each, record each in the state file.

    Every batch of the run carries the same ``run`` id (in the state file and the batch metadata), so
    :func:`latest_run` finds them all. Each batch is recorded as soon as it is accepted: if submitting
    stops half-way, the batches already paid for are not lost.
    """
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()
    ids: list[str] = []
    for part, f in enumerate(batch_files(requests, max_requests=max_requests, max_bytes=max_bytes), 1):
        batch_id = submit(client, f.text, metadata={"run": run, "part": str(part)})
        save_state(state, batch_id, {cid: items[cid] for cid in f.custom_ids}, run=run, part=part)
        ids.append(batch_id)
    return ids


def collect_all(client: openai.OpenAI, batch_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """:func:`collect` over every batch of a run, merged. Raises :class:`BatchNotReady` if any is unfinished."""
    waiting = []
    for batch_id in batch_ids:
        info = status(client, batch_id)
        if info.get("status") not in TERMINAL and not info.get("output_file_id"):
            waiting.append(f"{batch_id} is {info.get('status')}")
    if waiting:
        raise BatchNotReady(f"{len(waiting)} of {len(batch_ids)} batch(es) not finished: " + "; ".join(waiting))
    results: dict[str, dict[str, Any]] = {}
    for batch_id in batch_ids:
        results.update(collect(client, batch_id))
    return results


def completion_text(body: Mapping[str, Any]) -> str | None:
    """The assistant message content of a chat completion body (None for an error entry or a refusal)."""
    try:
        content = body["choices"][0]["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return content if isinstance(content, str) else None


def usage_of(body: Mapping[str, Any], *, cost_usd: float = 0.0) -> Usage:
    """Token usage of one collected body as a Usage; price it with ``estimate_cost(..., batch=True)``."""
    u = body.get("usage") or {}
    return Usage(
        calls=1,
        prompt_tokens=int(u.get("prompt_tokens", 0)),
        completion_tokens=int(u.get("completion_tokens", 0)),
        cost_usd=cost_usd,
    )


# ------------------------------------------------------------------ local state


def load_state(path: Path | str) -> dict[str, dict[str, Any]]:
    """batch id → {custom_id: what the caller saved (article path, sha256, ...)}. Missing file → {}."""
    return {bid: entry.get("items", {}) for bid, entry in _entries(Path(path)).items()}


def save_state(
    path: Path | str,
    batch_id: str,
    mapping: Mapping[str, Any],
    *,
    run: str | None = None,
    part: int | None = None,
) -> None:
    """Record (or replace) one batch's custom_id mapping, keeping the other batches already recorded.

    ``run`` groups the batches one ``summarizer batch submit`` split its articles into (``part`` = 1, 2, ...).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"batches": {}}
    if p.exists():
        try:
            loaded = json.loads(p.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and isinstance(loaded.get("batches"), dict):
                data = loaded
        except ValueError:
            pass  # a damaged file must not block recording a batch the user is already paying for
    entry: dict[str, Any] = {"saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if run is not None:
        entry.update(run=run, part=part)
    entry["items"] = dict(mapping)
    data["batches"].pop(batch_id, None)  # re-recorded: it is now the latest
    data["batches"][batch_id] = entry
    # Write-then-rename so a crash never leaves a half-written state file.
    fd, tmp = tempfile.mkstemp(prefix=".batches-", suffix=".json", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def latest_run(path: Path | str) -> tuple[list[str], dict[str, Any]]:
    """The batch ids of the latest recorded run (in submission order) and their custom_id mapping, merged.

    A batch recorded without a run id (an older state file) is a run of its own. Raises FileNotFoundError
    when nothing is recorded.
    """
    p = Path(path)
    batches = _entries(p)
    if not batches:
        raise FileNotFoundError(f"{p}: no batch recorded; run `summarizer batch submit` first")
    last_id, last = list(batches.items())[-1]
    run = last.get("run")
    ids = [bid for bid, e in batches.items() if run is not None and e.get("run") == run] if run else [last_id]
    items: dict[str, Any] = {}
    for bid in ids:
        items.update(batches[bid].get("items", {}))
    return ids, items


def _entries(p: Path) -> dict[str, dict[str, Any]]:
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as e:
        raise BatchError(f"batch state file {p} is damaged: {e}") from e
    batches = data.get("batches", {}) if isinstance(data, dict) else {}
    return {bid: e for bid, e in batches.items() if isinstance(e, dict)}
