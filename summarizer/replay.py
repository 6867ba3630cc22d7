"""Recording and replaying LLM calls with vcrpy: what a replay matches on, and how a cassette is read.

A replayed request matches a recorded one when its *canonical form* is the same: the model, each
message's role and whitespace-normalised text, the schema asked for, and the parameters that change
the answer. Transport noise (headers, the loopback port, JSON key order or spacing, the SDK's version)
never breaks a replay; a real change to a prompt, the schema or the re-ask wording does, and the
failure names the first field that differs.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

VCR_FILTER_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
]

# Request parameters that change what a model answers; everything else is transport.
ANSWER_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stop",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "tool_choice",
    "format",
    "guided_json",
    "grammar",
)

_SPACE = re.compile(r"\s+")


class ReplayError(RuntimeError):
    """A cassette that cannot be replayed or recorded as asked."""


def _body(request: Any) -> dict[str, Any]:
    raw = request.body
    if raw is None:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_raw": _SPACE.sub(" ", str(raw)).strip()}
    return value if isinstance(value, dict) else {"_raw": value}


def _schema(body: dict[str, Any]) -> Any:
    rf = body.get("response_format") or {}
    if isinstance(rf, dict):
        if "schema" in rf:
            return rf["schema"]
        if isinstance(rf.get("json_schema"), dict):
            return rf["json_schema"].get("schema")
    tools = body.get("tools")
    if tools:
        return [t.get("function", {}).get("parameters") for t in tools if isinstance(t, dict)]
    return None


def canonical_request(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a chat request that decide the answer, in a stable order."""
    messages = []
    for m in body.get("messages") or []:
        content = m.get("content")
        if isinstance(content, list):  # content parts: keep their text
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        messages.append({"role": m.get("role"), "text": _SPACE.sub(" ", str(content or "")).strip()})
    rf = body.get("response_format")
    canon: dict[str, Any] = {
        "model": body.get("model"),
        "messages": messages,
        "response_format": rf.get("type") if isinstance(rf, dict) else rf,
        "schema": _schema(body),
    }
    for name in ANSWER_PARAMS:
        if name in body:
            canon[name] = body[name]
    if "_raw" in body:
        canon["raw"] = body["_raw"]
    return canon


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """A short description of the first place where ``a`` and ``b`` differ, or None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(dict.fromkeys([*a, *b])):
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return f"{where}: present in only one request"
            found = first_difference(a[key], b[key], where)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        return None
    if a != b:
        return f"{path}: {_clip(a)} vs {_clip(b)}"
    return None


def _clip(value: Any, width: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    if len(text) <= width:
        return text
    return text[: width - 1] + "…"


def match_canonical(r1: Any, r2: Any) -> None:
    """vcrpy matcher: raises AssertionError naming the first differing field of the canonical forms."""
    diff = first_difference(canonical_request(_body(r1)), canonical_request(_body(r2)))
    if diff is not None:
        raise AssertionError(f"the request differs from the recording at {diff}")


def _only_completions(request: Any) -> Any:
    return request if request.path.endswith("/chat/completions") else None


def vcr_for(cassette: Path, *, replay: bool) -> Any:
    """A vcrpy cassette context: replay never touches the network; recording scrubs credentials."""
    import vcr

    if not replay and cassette.exists():
        cassette.unlink()  # a recording is of this run only; vcrpy would keep the old interactions beside it
    v = vcr.VCR(
        record_mode="none" if replay else "all",
        filter_headers=VCR_FILTER_HEADERS,
        decode_compressed_response=True,
        # Only the model's exchanges: not the engine's readiness probes or a provider's detection.
        before_record_request=_only_completions,
    )
    v.register_matcher("canonical", match_canonical)
    # The embedded server's port changes per run: method, path and the canonical body pin the exchange.
    # Repeats: the same prompt twice (e.g. a rerun inside one process) replays the same answer.
    return _translated(
        v.use_cassette(str(cassette), match_on=["method", "path", "canonical"], allow_playback_repeats=True)
    )


@contextlib.contextmanager
def _translated(cassette: Any) -> Iterator[Any]:
    """vcrpy's own errors, as ours: the CLI reports a ReplayError in one line."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    try:
        with cassette as c:
            yield c
    except CannotOverwriteExistingCassetteException as exc:
        raise ReplayError(str(exc).splitlines()[0]) from exc


def recorded_endpoint(cassette: Path) -> tuple[str, str, dict[str, Any]]:
    """(base_url, model, first request body) of the recorded run, read from the cassette itself."""
    import yaml

    if not cassette.is_file():
        raise FileNotFoundError(f"{cassette}: cassette not found")
    data = yaml.safe_load(cassette.read_text(encoding="utf-8")) or {}
    for item in data.get("interactions", []):
        req = item["request"]
        if not req["uri"].endswith("/chat/completions"):
            continue
        body = req["body"] if isinstance(req["body"], str) else req["body"]["string"]
        parsed = json.loads(body)
        base = req["uri"].rsplit("/chat/completions", 1)[0]
        return base, str(parsed.get("model", "default")), parsed
    raise ValueError(f"{cassette}: no chat completion recorded in this cassette")
