"""The OpenAI Batch API path: submit every article's request as one JSONL file, collect later at half price.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from summarizer.models import Usage

if TYPE_CHECKING:
    import openai

ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
COMPLETION_WINDOW: Literal["24h"] = "24h"
MAX_REQUESTS = 50_000  # the Batch API's per-file limit
MAX_BYTES = 200 * 1024 * 1024  # and its file-size limit
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
STATE_FILENAME = "batches.json"


class BatchError(RuntimeError):
    pass


class BatchNotReady(BatchError):
    """The batch has not finished and has no results to read yet."""


# ------------------------------------------------------------------ building and submitting


def build_batch_lines(requests: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """JSONL for the Batch API: one ``{"custom_id", "method", "url", "body"}`` per request, in order.

    Rejects up front what the API would reject only after the upload: duplicate or empty ids,
    mixed models, too many lines.
    """
    if not requests:
        raise ValueError("no requests to batch")
    if len(requests) > MAX_REQUESTS:
        raise ValueError(f"{len(requests)} requests; one batch holds at most {MAX_REQUESTS}")
    seen: set[str] = set()
    models: set[str] = set()
    lines: list[str] = []
    for custom_id, body in requests:
        if not custom_id:
            raise ValueError("empty custom_id")
        if custom_id in seen:
            raise ValueError(f"duplicate custom_id {custom_id!r}")
        seen.add(custom_id)
        if "model" not in body or "messages" not in body:
            raise ValueError(f"{custom_id}: a chat completion body needs 'model' and 'messages'")
        models.add(str(body["model"]))
        line = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": dict(body)}
        lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    if len(models) > 1:
        raise ValueError(f"a batch must use one model, got {sorted(models)}")
    text = "\n".join(lines) + "\n"
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ValueError("batch file exceeds 200 MB; split the articles into several batches")
    return text


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


def default_state_path() -> Path:
    from summarizer.cache import default_cache_dir

    return default_cache_dir() / STATE_FILENAME


def load_state(path: Path | str) -> dict[str, dict[str, Any]]:
    """batch id → {custom_id: what the caller saved (article path, sha256, ...)}. Missing file → {}."""
    p = Path(path)
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as e:
        raise BatchError(f"batch state file {p} is damaged: {e}") from e
    batches = data.get("batches", {}) if isinstance(data, dict) else {}
    return {bid: entry.get("items", {}) for bid, entry in batches.items() if isinstance(entry, dict)}


def save_state(path: Path | str, batch_id: str, mapping: Mapping[str, Any]) -> None:
    """Record (or replace) one batch's custom_id mapping, keeping the other batches already recorded."""
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
    data["batches"][batch_id] = {
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "items": dict(mapping),
    }
    # Write-then-rename so a crash never leaves a half-written state file.
    fd, tmp = tempfile.mkstemp(prefix=".batches-", suffix=".json", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
