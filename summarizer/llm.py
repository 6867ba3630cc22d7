"""The one path to any LLM: an OpenAI-compatible endpoint, driven through instructor.

Layering, inside out:
- tenacity retries *transport* failures (429 honouring Retry-After, 5xx, timeouts, resets) around
  each HTTP call, with bounded exponential backoff and jitter;
- instructor re-asks on *validation* failures (bad JSON, schema, and our own checks raised from
  pydantic validators), a bounded number of times;
- every HTTP call's prompt, response, latency and token usage is recorded (``CallLog``).
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from summarizer.models import Usage

log = logging.getLogger("summarizer.llm")

Mode = Literal["tools", "json", "json_schema", "md_json", "llama_json"]
OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

T = TypeVar("T", bound=BaseModel)


@dataclass
class Endpoint:
    """Where and how to call. ``api_key`` is never logged or written anywhere."""

    base_url: str
    model: str
    api_key: str = field(default="not-needed", repr=False)
    mode: Mode = "json"
    engine: str = "openai-compatible"
    # Models without a system role (gemma) get the system text folded into the user turn.
    fold_system: bool = False
    timeout: float = 120.0
    max_transport_retries: int = 4
    max_retry_seconds: float = 90.0
    max_backoff: float = 20.0
    max_tokens: int = 1024
    temperature: float = 0.0

    @property
    def description(self) -> str:
        return f"{self.engine} · model {self.model} · {self.base_url}"


def resolve_endpoint(
    *,
    base_url: str | None,
    model: str | None,
    mode: str | None,
    env: dict[str, str] | None = None,
) -> Endpoint | None:
    """The endpoint from flags and environment; None means "start the embedded engine"."""
    env = dict(os.environ) if env is None else env
    base_url = base_url or env.get("OPENAI_BASE_URL") or None
    api_key = env.get("OPENAI_API_KEY") or None
    model = model or env.get("SUMMARIZER_MODEL") or None
    if base_url is None and api_key is None:
        return None
    url = (base_url or OPENAI_URL).rstrip("/")
    is_openai = "api.openai.com" in url
    chosen: Mode = mode or ("tools" if is_openai else "json")  # type: ignore[assignment]
    return Endpoint(
        base_url=url,
        model=model or (DEFAULT_OPENAI_MODEL if is_openai else "default"),
        api_key=api_key or "not-needed",
        mode=chosen,
        engine="openai" if is_openai else "openai-compatible",
    )


def embedded_endpoint(base_url: str, gguf_name: str) -> Endpoint:
    return Endpoint(
        base_url=base_url,
        model=gguf_name,
        mode="llama_json",
        engine="embedded llama.cpp",
        fold_system=True,
        timeout=600.0,
        max_tokens=768,
    )


# ---------------------------------------------------------------- call log and usage


@dataclass
class CallRecord:
    label: str
    attempt: int
    latency_s: float
    request: dict[str, Any]
    response: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None


class CallLog:
    """Every prompt and response, as JSONL (inspectable like simonw/llm's log). Holds no headers or keys."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.records: list[CallRecord] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record.__dict__, ensure_ascii=False) + "\n")


@dataclass
class CallScope:
    """Per-task accounting; a contextvar carries it so concurrent calls don't mix their usage."""

    label: str
    usage: Usage = field(default_factory=Usage)
    http_attempts: int = 0
    transport_errors: list[str] = field(default_factory=list)
    last_content: str = ""
    # (attempt, raw content, why it failed): every attempt that failed validation, even when a re-ask succeeds.
    failures: list[tuple[int, str, str]] = field(default_factory=list)


_scope: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar("summarizer_call_scope", default=None)


# ---------------------------------------------------------------- transport retries


def _is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError))


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds from a Retry-After (or retry-after-ms) header, if the error carries one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _make_wait(ep: Endpoint) -> Callable[[Any], float]:
    from tenacity import wait_random_exponential

    fallback = wait_random_exponential(multiplier=0.5, max=ep.max_backoff)

    def wait(retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = retry_after_seconds(exc)
        if hinted is not None:
            # Honour the server, within our bound; only this task sleeps.
            return float(min(hinted, ep.max_backoff))
        return float(fallback(retry_state))

    return wait


class TransportError(RuntimeError):
    """The provider could not be reached within the retry bounds."""


# ---------------------------------------------------------------- the client


@dataclass
class Structured:
    """Outcome of one structured call (after transport retries and re-asks)."""

    value: BaseModel | None
    error: str | None
    transport_failed: bool = False
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    events: list[str] = field(default_factory=list)
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (attempt, raw content, error)


class LLM:
    """Async structured calls against one endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        call_log: CallLog | None = None,
        cost: Callable[[str, int, int], float] | None = None,
    ) -> None:
        import instructor
        import openai

        self.endpoint = endpoint
        self.call_log = call_log or CallLog()
        self._cost = cost
        # Transport retries are ours (tenacity), so the SDK's own are off.
        self._client = openai.AsyncOpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=endpoint.timeout,
            max_retries=0,
        )
        mode = {
            "tools": instructor.Mode.TOOLS,
            "json": instructor.Mode.JSON,
            "json_schema": instructor.Mode.JSON_SCHEMA,
            "md_json": instructor.Mode.MD_JSON,
            # llama.cpp's server rejects json_schema but takes {"type": "json_object", "schema": ...}.
            "llama_json": instructor.Mode.JSON,
        }[endpoint.mode]
        self._instructor = instructor.AsyncInstructor(
            client=self._client,
            create=instructor.patch(create=self._create, mode=mode),
            mode=mode,
        )
        # Hooks, not subclasses: every failed parse is recorded, including those a later re-ask fixes.
        self._instructor.on("parse:error", self._on_parse_error)

    @staticmethod
    def _on_parse_error(error: Exception, **meta: Any) -> None:
        scope = _scope.get()
        if scope is not None:
            attempt = int(meta.get("attempt_number") or len(scope.failures) + 1)
            scope.failures.append((attempt, scope.last_content, _short_error(error)))

    def cost_of(self, prompt_tokens: int, completion_tokens: int) -> float:
        return self._cost(self.endpoint.model, prompt_tokens, completion_tokens) if self._cost else 0.0

    async def close(self) -> None:
        await self._client.close()

    async def _create(self, **kwargs: Any) -> Any:
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay

        ep = self.endpoint
        scope = _scope.get()
        if kwargs.get("temperature") == 0 and any(m.get("role") == "assistant" for m in kwargs.get("messages", [])):
            # A re-ask at temperature 0 gets the very same answer back from a local model.
            kwargs = {**kwargs, "temperature": 0.5}
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            wait=_make_wait(ep),
            stop=stop_after_attempt(ep.max_transport_retries + 1) | stop_after_delay(ep.max_retry_seconds),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                n = attempt.retry_state.attempt_number
                started = time.perf_counter()
                try:
                    response = await self._client.chat.completions.create(**kwargs)
                except Exception as exc:
                    self._record(kwargs, None, started, n, error=_short_error(exc))
                    if scope is not None:
                        scope.transport_errors.append(_short_error(exc))
                    raise
                _normalise_json_content(response)
                self._record(kwargs, response, started, n)
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, kwargs: dict[str, Any], response: Any, started: float, n: int, error: str | None = None) -> None:
        scope = _scope.get()
        usage = getattr(response, "usage", None)
        pt = int(getattr(usage, "prompt_tokens", 0) or 0)
        ct = int(getattr(usage, "completion_tokens", 0) or 0)
        content: str | None = None
        finish: str | None = None
        if response is not None and getattr(response, "choices", None):
            choice = response.choices[0]
            finish = choice.finish_reason
            msg = choice.message
            content = msg.content
            if not content and getattr(msg, "tool_calls", None):
                content = msg.tool_calls[0].function.arguments
        if scope is not None:
            scope.last_content = content or ""
            scope.http_attempts += 1
            scope.usage.calls += 1
            scope.usage.prompt_tokens += pt
            scope.usage.completion_tokens += ct
            if self._cost is not None:
                scope.usage.cost_usd += self._cost(self.endpoint.model, pt, ct)
        request = {k: v for k, v in kwargs.items() if k in ("model", "messages", "response_format", "tools")}
        self.call_log.add(
            CallRecord(
                label=scope.label if scope else "",
                attempt=n,
                latency_s=round(time.perf_counter() - started, 4),
                request=request,
                response=content,
                finish_reason=finish,
                prompt_tokens=pt,
                completion_tokens=ct,
                error=error,
            )
        )
        log.info(
            "call %s attempt=%d latency=%.2fs tokens=%d+%d %s",
            scope.label if scope else "-",
            n,
            time.perf_counter() - started,
            pt,
            ct,
            error or finish or "",
        )

    def messages(self, system: str, user: str) -> list[dict[str, Any]]:
        """A fresh list on every call: instructor's re-ask appends to it."""
        if self.endpoint.fold_system:
            return [{"role": "user", "content": f"{system}\n\n{user}"}]
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def structured(
        self,
        *,
        label: str,
        system: str,
        user: str,
        response_model: type[T],
        context: dict[str, Any] | None = None,
        max_reasks: int = 2,
        max_tokens: int | None = None,
    ) -> Structured:
        """One structured request with bounded re-asks. Never raises for provider or model failures."""
        import instructor
        import openai

        scope = CallScope(label=label)
        token = _scope.set(scope)
        ep = self.endpoint
        kwargs: dict[str, Any] = {
            "model": ep.model,
            "temperature": ep.temperature,
            "max_tokens": max_tokens or ep.max_tokens,
        }
        if ep.mode == "llama_json":
            # Overrides instructor's bare json_object so llama.cpp constrains output to the schema.
            kwargs["extra_body"] = {
                "response_format": {"type": "json_object", "schema": response_model.model_json_schema()}
            }
        result = Structured(value=None, error=None)
        try:
            value = await self._instructor.create(
                messages=self.messages(system, user),  # type: ignore[arg-type]
                response_model=response_model,
                max_retries=max_reasks,
                context=context,
                **kwargs,
            )
            result.value = value
        except instructor.core.exceptions.InstructorRetryException as exc:
            cause = exc.__cause__
            if isinstance(cause, openai.APIError):
                result.transport_failed = True
                result.error = f"provider error after retries: {_short_error(cause)}"
            else:
                result.error = f"output failed validation after {exc.n_attempts} attempt(s)"
        except instructor.core.exceptions.IncompleteOutputException as exc:
            result.error = "output truncated (finish_reason=length)"
            scope.failures.append((len(scope.failures) + 1, _content_of(exc.last_completion), result.error))
        except openai.APIError as exc:
            result.transport_failed = True
            result.error = f"provider error after retries: {_short_error(exc)}"
        finally:
            _scope.reset(token)
        result.usage = scope.usage
        result.failures = list(scope.failures)
        result.attempts = max(1, len(result.failures) + (1 if result.value is not None else 0))
        if scope.transport_errors:
            result.events.append(
                f"{len(scope.transport_errors)} transport error(s) retried: " + "; ".join(scope.transport_errors[:3])
            )
        if result.failures and result.value is not None:
            result.events.append(f"re-asked {len(result.failures)} time(s) before output passed")
        return result


def _normalise_json_content(response: Any) -> None:
    """Re-serialise JSON that has raw newlines inside strings (llama.cpp's grammar allows them).

    The value is unchanged; only the encoding becomes what strict parsers accept.
    """
    try:
        msg = response.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return
    content = msg.content
    if not isinstance(content, str) or "{" not in content:
        return
    try:
        json.loads(content)
        return
    except ValueError:
        pass
    try:
        msg.content = json.dumps(json.loads(content, strict=False), ensure_ascii=False)
    except ValueError:
        return


def _content_of(completion: Any) -> str:
    try:
        msg = completion.choices[0].message
        if msg.content:
            return str(msg.content)
        if getattr(msg, "tool_calls", None):
            return str(msg.tool_calls[0].function.arguments)
    except (AttributeError, IndexError, TypeError):
        pass
    return ""


def _short_error(exc: BaseException) -> str:
    """One line, no secrets: the SDK's messages can echo request details, so keep only the type and status."""
    import openai
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors())[:2000]
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code} {type(exc).__name__}"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"
