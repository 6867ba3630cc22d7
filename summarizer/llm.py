"""The one path to any LLM: an OpenAI-compatible endpoint, asked for output in instructor's forms.

Layering, inside out:
- one httpx request per attempt, with the body instructor and the openai SDK would send (instructor's
  own request handler says, once per model and mode, what it adds) and the SDK's error classes; the
  answer is validated as instructor validates it (``model_validate_json``, strict). Instructor's and the
  SDK's per-call machinery cost the event loop several ms of CPU per call, more than the rest together;
- tenacity retries *transport* failures (429 honouring Retry-After, 5xx, timeouts, resets) around
  each HTTP call, with bounded exponential backoff and jitter;
- ``LLM.structured`` re-asks on *validation* failures (bad JSON, schema, and our own checks raised from
  pydantic validators), a bounded number of times, in our own words;
- every HTTP call's prompt, response, latency and token usage is recorded (``CallLog``).
"""

from __future__ import annotations

import contextvars
import email.utils
import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar, cast

from pydantic import BaseModel

from summarizer.models import Usage
from summarizer.providers import PROFILES, Form, Profile

log = logging.getLogger("summarizer.llm")

OPENAI_URL = "https://api.openai.com/v1"

T = TypeVar("T", bound=BaseModel)


@dataclass
class Endpoint:
    """Where and how to call. ``api_key`` is never logged or written anywhere.

    The provider quirks come from ``profile`` (see ``providers.py``); ``from_profile`` fills the fields
    below from it, and a caller may still override one (a replay restores the recorded ``max_tokens``).
    """

    base_url: str
    model: str
    api_key: str = field(default="not-needed", repr=False)
    profile: Profile = field(default_factory=lambda: PROFILES["generic"])
    # The structured-output forms to try, in order (a 400 moves on to the next); empty: the profile's.
    forms: tuple[Form, ...] = ()
    engine: str = "openai-compatible"
    fold_system: bool = False
    timeout: float = 120.0
    max_transport_retries: int = 4
    max_retry_seconds: float = 90.0
    max_backoff: float = 20.0
    max_tokens: int = 1024
    temperature: float = 0.0
    reask_temperature: float = 0.5

    @classmethod
    def from_profile(cls, profile: Profile, *, base_url: str, model: str | None = None, **overrides: Any) -> Endpoint:
        fields: dict[str, Any] = {
            "base_url": base_url,
            "model": model or profile.default_model,
            "profile": profile,
            "forms": profile.forms,
            "engine": profile.name,
            "fold_system": profile.fold_system,
            "timeout": profile.timeout,
            "max_tokens": profile.max_tokens,
            "reask_temperature": profile.reask_temperature,
        }
        fields.update(overrides)
        return cls(**fields)

    @property
    def description(self) -> str:
        return f"{self.engine} · model {self.model} · {self.base_url}"


def resolve_endpoint(
    *,
    base_url: str | None,
    model: str | None,
    mode: str | None,
    provider: str | None = None,
    env: dict[str, str] | None = None,
) -> Endpoint | None:
    """The endpoint from flags and environment; None means "start the embedded engine".

    ``provider`` names a profile; without it the profile is detected from the URL and the server.
    ``mode`` forces one structured-output form (``--mode``).
    """
    from summarizer.providers import MODE_ALIASES, detect_profile, profile_named

    env = dict(os.environ) if env is None else env
    base_url = base_url or env.get("OPENAI_BASE_URL") or None
    api_key = env.get("OPENAI_API_KEY") or None
    model = model or env.get("SUMMARIZER_MODEL") or None
    if base_url is None and api_key is None:
        return None
    url = (base_url or OPENAI_URL).rstrip("/")
    profile = profile_named(provider) if provider else detect_profile(url)
    ep = Endpoint.from_profile(profile, base_url=url, model=model, api_key=api_key or "not-needed")
    if mode:
        ep.forms = (cast(Form, MODE_ALIASES.get(mode, mode)),)
    return ep


def embedded_endpoint(base_url: str, gguf_name: str) -> Endpoint:
    """The embedded llama-cpp-python server: the llama.cpp profile, named for what it is."""
    return Endpoint.from_profile(PROFILES["llama.cpp"], base_url=base_url, model=gguf_name, engine="embedded llama.cpp")


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


# How many turns of the event loop an answer's checks wait for the next call to go out (_sends_first).
SENDS_FIRST_TURNS = 16


class CallLog:
    """Every prompt and response, as JSONL (inspectable like simonw/llm's log). Holds no headers or keys."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        # In memory only when no file is given: a run's log goes to its file, not to a list that holds
        # every request (each with its article) until the run ends.
        self.records: list[CallRecord] = []
        self._fh: Any = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One handle for the run, a line at a time (reopening it per call cost ~0.2 ms of loop thread).
            self._fh = path.open("w", encoding="utf-8", buffering=1)

    def add(self, record: CallRecord) -> None:
        with self._lock:
            if self.path is None:
                self.records.append(record)
                return
            line = json.dumps(record.__dict__, ensure_ascii=False) + "\n"
            if self._fh is not None:
                self._fh.write(line)
            else:  # a call after close(): appended as before
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class FailedAttempt(NamedTuple):
    """One answer that failed validation (kept even when a later re-ask succeeds)."""

    attempt: int
    content: str
    problems: list[str]


@dataclass
class _Handed:
    """Whether an answer waits for this call's request to be written (LLM._sends_first)."""

    waiting: bool


@dataclass
class CallScope:
    """Per-task accounting; a contextvar carries it so concurrent calls don't mix their usage."""

    label: str
    usage: Usage = field(default_factory=Usage)
    http_attempts: int = 0
    transport_errors: list[str] = field(default_factory=list)
    last_content: str = ""
    attempt: int = 1
    failures: list[FailedAttempt] = field(default_factory=list)
    holding_slot: bool = False  # an in-flight slot taken for the next HTTP call (LLM.max_in_flight)
    priority: bool = False  # served before the calls already waiting for a slot (Slots)
    handed: _Handed | None = None  # whether an answer that handed this call its slot waits for it to go out


_scope: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar("summarizer_call_scope", default=None)
# What our validators check an answer against (the article, the facts). Not handed to instructor as
# ``context``: instructor would also render every message as a Jinja template with it, so an article
# containing "{{" or "{%" would be rewritten, or break the call.
_validation: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "summarizer_validation_context", default=None
)


def validation_context(given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The context a validator runs with: pydantic's own when given, else the current structured call's."""
    return given or _validation.get() or {}


# ---------------------------------------------------------------- per-schema work, done once


@functools.cache
def _schema_text(response_model: type[BaseModel]) -> str:
    return json.dumps(response_model.model_json_schema())


def schema_of(response_model: type[BaseModel]) -> dict[str, Any]:
    """``response_model.model_json_schema()``, generated once per model (pydantic does not cache it).

    A fresh dict each time: a caller may put it in a request body and change it.
    """
    return dict(json.loads(_schema_text(response_model)))


@functools.cache
def _instructor_model(response_model: type[BaseModel]) -> type[BaseModel]:
    """The model instructor would build on every call, built once.

    instructor wraps a plain model in a new ``create_model(…, __base__=(model, ResponseSchema))`` class per
    call (a full pydantic class build), and its JSON modes regenerate the JSON schema per call. Handing it
    a class that already is a ResponseSchema skips the first; the second comes from ``schema_of``. The
    schema is the wrapper's own, so what is sent is unchanged (tests/test_llm.py checks it).
    """
    import instructor

    wrapped = instructor.openai_schema(response_model)
    text = json.dumps(wrapped.model_json_schema())
    real = wrapped.model_json_schema

    def model_json_schema(*args: Any, **kwargs: Any) -> dict[str, Any]:
        # Only the default arguments are cached; any other request is generated as before.
        return dict(json.loads(text)) if not args and not kwargs else real(*args, **kwargs)

    wrapped.model_json_schema = staticmethod(model_json_schema)  # type: ignore[method-assign]
    return wrapped


# ---------------------------------------------------------------- transport retries


# What a server's error names when it refuses the *form* of structured output we asked in (llama-cpp-python
# answers a json_schema response_format with a 500 that says "response_format").
_FORM_WORDS = ("response_format", "json_schema", "guided_json", "grammar", "tool_choice", "tools", "format")


def form_refused(exc: BaseException) -> bool:
    """True when ``exc`` is the server refusing how we asked for structured output, not the request itself
    (a context-length 400 must not move every later call to a weaker form)."""
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500):
        return False
    said = f"{getattr(exc, 'message', '')} {json.dumps(getattr(exc, 'body', None), default=str)}".lower()
    return any(w in said for w in _FORM_WORDS) and "context length" not in said and "context_length" not in said


def _is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIStatusError):
        if form_refused(exc):
            return False  # asking again in the same form gets the same refusal
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
class Structured(Generic[T]):
    """Outcome of one structured call (after transport retries and re-asks): ``value`` is the validated model."""

    value: T | None
    error: str | None
    transport_failed: bool = False
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    events: list[str] = field(default_factory=list)
    failures: list[FailedAttempt] = field(default_factory=list)


class ResponseParsingError(ValueError):
    """An answer with no choices, or no tool call where one was asked (instructor's name for it, kept: a
    failed attempt's problems name the error type)."""


class _Truncated(Exception):
    """The server stopped at the output cap (finish_reason "length")."""

    def __init__(self, completion: Any) -> None:
        super().__init__("output truncated (finish_reason=length)")
        self.completion = completion


@dataclass(frozen=True)
class _Asking:
    """What instructor adds to a request for one model in one mode, worked out once, by instructor itself."""

    fields: dict[str, Any]  # response_format, or tools and tool_choice
    instruction: str | None  # JSON mode: the schema text instructor puts in the system message


@functools.cache
def _asking(response_model: type[BaseModel], mode_name: str) -> _Asking:
    """Runs instructor's own request handler once on a one-message request and keeps what it added.

    Per call, instructor walks the model for async validators, copies and transforms every request, and
    the SDK re-walks the body against its TypedDicts: several ms of the event loop's CPU per call. The
    requests we send are what instructor would send (tests/test_llm.py compares them, every form).
    """
    import instructor
    from instructor.v2.core.providers import Provider
    from instructor.v2.core.registry import mode_registry

    mode = {"tools": instructor.Mode.TOOLS, "json": instructor.Mode.JSON}.get(mode_name, instructor.Mode.JSON_SCHEMA)
    handlers = mode_registry.get_handlers(Provider.OPENAI, mode)
    probe = {"role": "user", "content": "\x00"}
    _, prepared = handlers.request_handler(response_model=response_model, kwargs={"messages": [dict(probe)]})
    messages = prepared.pop("messages")
    instruction = None
    if messages != [probe]:
        # JSON mode: a system message carrying the schema was put before the user's.
        if not (len(messages) == 2 and messages[0]["role"] == "system" and messages[1] == probe):
            raise AssertionError(f"instructor changed the messages in an unknown way for {mode_name}")
        instruction = str(messages[0]["content"])
    return _Asking(fields=prepared, instruction=instruction)


def _with_instruction(messages: list[dict[str, Any]], instruction: str) -> list[dict[str, Any]]:
    """instructor's JSON mode: the schema text joins the system message (or becomes one), then adjacent
    plain messages of one role merge."""
    out = [dict(m) for m in messages]
    if out and out[0]["role"] != "system":
        out.insert(0, {"role": "system", "content": instruction})
    elif out:
        out[0]["content"] += f"\n\n{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction})
    merged: list[dict[str, Any]] = []
    for m in out:
        m["content"] = m.get("content") or ""
        if merged and m["role"] == merged[-1]["role"] and set(m) <= {"role", "content"} >= set(merged[-1]):
            merged[-1]["content"] += f"\n\n{m['content']}"
        else:
            merged.append(m)
    return merged


def _message(completion: Any) -> dict[str, Any] | None:
    """choices[0].message of a chat completion (a parsed JSON body), or None."""
    choices = completion.get("choices") if isinstance(completion, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return None
    msg = choices[0].get("message")
    return msg if isinstance(msg, dict) else {}


def _finish_reason(completion: Any) -> str | None:
    choices = completion.get("choices") if isinstance(completion, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return None
    reason = choices[0].get("finish_reason")
    return reason if isinstance(reason, str) else None


def _tool_arguments(msg: dict[str, Any]) -> str:
    """The first tool call's arguments, as instructor's TOOLS mode reads them."""

    def normalised(args: Any) -> str:
        if args is None:
            raise ResponseParsingError("Tool call arguments missing in response")
        if isinstance(args, str):
            return args
        try:
            return json.dumps(args)
        except TypeError as exc:
            raise ResponseParsingError("Tool call arguments must be JSON-serializable") from exc

    if msg.get("refusal") is not None:
        raise AssertionError(f"Unable to generate a response due to {msg['refusal']}")
    calls = msg.get("tool_calls") or []
    if calls:
        return normalised((calls[0].get("function") or {}).get("arguments"))
    if msg.get("function_call") is not None:
        return normalised(msg["function_call"].get("arguments"))
    raise ResponseParsingError("No tool calls or function call found in response")


def _answer_text(completion: Any, mode_name: str) -> str:
    """What instructor would validate: the content (JSON modes) or the tool call's arguments (TOOLS)."""
    if _finish_reason(completion) == "length":
        raise _Truncated(completion)
    msg = _message(completion)
    if msg is None:
        raise ResponseParsingError("No choices in the response")
    if mode_name == "tools":
        return _tool_arguments(msg)
    content = msg.get("content")
    return content if isinstance(content, str) else ""


_STATUS_ERRORS: dict[int, str] = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def _status_error(response: Any) -> Exception:
    """The openai SDK's error for a 4xx/5xx answer, built as the SDK builds it (its classes and message)."""
    import openai

    text = response.text.strip()
    body: Any = text
    try:
        body = json.loads(text)
        message = f"Error code: {response.status_code} - {body}"
    except ValueError:
        message = text or f"Error code: {response.status_code}"
    data = body.get("error", body) if isinstance(body, dict) else body
    name = _STATUS_ERRORS.get(response.status_code)
    if name is None:
        name = "InternalServerError" if response.status_code >= 500 else "APIStatusError"
    cls: type[openai.APIStatusError] = getattr(openai, name)
    return cls(message, response=response, body=data)


class _Proxy(NamedTuple):
    url: Any  # yarl.URL or None
    auth: Any  # aiohttp.BasicAuth or None


_NO_PROXY = _Proxy(None, None)


def env_proxy(base_url: str) -> _Proxy:
    """The proxy the environment names for ``base_url`` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY; none where
    NO_PROXY excludes the host), as the SDK's httpx client takes it: looked up once per session. Never
    for a loopback server (the embedded engine, a local vLLM): a corporate proxy cannot reach it."""
    import ipaddress

    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    url = URL(base_url)
    host = (url.host or "").strip("[]")
    try:
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            return _NO_PROXY
    except ValueError:
        pass  # a name, not an address
    try:
        return _Proxy(*get_env_proxy_for_url(url))
    except LookupError:
        return _NO_PROXY


class Slots:
    """``asyncio.Semaphore`` for the calls in flight, but a call asked ``first`` (a story's narrative, the
    digest: ``structured(priority=True)``) is given the next free slot before the articles already waiting,
    so story writing asked mid-run does not queue behind every article left (and add a round trip at the
    end). A released slot is handed straight to the next waiter."""

    def __init__(self, n: int) -> None:
        import collections

        self._free = n
        self._waiters: collections.deque[Any] = collections.deque()

    def locked(self) -> bool:
        return self._free == 0

    async def acquire(self, *, first: bool = False) -> None:
        import asyncio

        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        fut = asyncio.get_running_loop().create_future()
        if first:
            self._waiters.appendleft(fut)
        else:
            self._waiters.append(fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
                self.release()  # handed a slot, then cancelled before using it: pass it on
            else:
                self._waiters.remove(fut)
            raise

    def release(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot goes to it directly: nobody can take it in between
                return
        self._free += 1


class _Client(NamedTuple):
    session: Any  # aiohttp.ClientSession
    loop: Any  # the event loop it was made in
    slots: Slots | None  # bounding the calls in flight (max_in_flight), or None
    proxy: _Proxy


class LLM:
    """Async structured calls against one endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        call_log: CallLog | None = None,
        cost: Callable[[str, int, int], float] | None = None,
        reask: Callable[[list[str]], str] | None = None,
        start: Callable[[], str] | None = None,
    ) -> None:
        """``start``, when given, starts the engine on the first call and returns its base URL: a run
        whose every answer comes from the cache never starts it."""
        self.endpoint = endpoint
        self.call_log = call_log or CallLog()
        self._cost = cost
        self._reask = reask or default_reask
        self._start = start
        self._started = start is None
        self._start_lock: Any = None
        self._client: _Client | None = None  # made on first use, in the loop that uses it
        # HTTP calls in flight at once, across every task (None: unbounded here, the caller bounds them).
        # A slot is taken before the request is built and given back once its answer is in (an error
        # keeps it until handled): articles waiting for one are already segmented and prompted.
        self.max_in_flight: int | None = None
        self._waiting = 0  # tasks waiting for a slot
        self._handoffs = 0  # slots given back to a waiting task whose call has not gone out yet
        self.priced = False  # costs come from a price list (a hosted endpoint): worker processes copy it
        # Which of the endpoint's forms this server takes: a 400 moves on, and the choice is kept.
        self._form = 0

    @property
    def form(self) -> Form:
        forms = self.endpoint.forms or self.endpoint.profile.forms
        return forms[min(self._form, len(forms) - 1)]

    def _next_form(self, status: int) -> bool:
        """Move to the next structured-output form after the server refused this one; False if none is left."""
        forms = self.endpoint.forms or self.endpoint.profile.forms
        if self._form + 1 >= len(forms):
            return False
        refused = forms[self._form]
        self._form += 1
        log.warning("the server refused structured output as %s (HTTP %d); using %s", refused, status, self.form)
        return True

    def _make_client(self) -> _Client:
        """An aiohttp session (vcrpy records and replays it), made in the loop that first uses it: about a
        third of the CPU per call that httpx takes, at these sizes (0.43 vs 1.1 ms measured at N = 32)."""
        import asyncio

        import aiohttp

        t = self.endpoint.timeout
        # The request's headers and body are written by a task of aiohttp's own, a turn after the call is
        # made (Python < 3.12): this signal, just before the body is written, says when (_sends_first).
        written = aiohttp.TraceConfig()
        written.on_request_chunk_sent.append(self._on_request_written)
        session = aiohttp.ClientSession(
            trace_configs=[written],
            headers={"Authorization": f"Bearer {self.endpoint.api_key}", "Accept": "application/json"},
            # As the SDK's httpx.Timeout(t): connecting and each read wait at most t; no bound on the whole.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=t, sock_read=t),
            connector=aiohttp.TCPConnector(limit=1000, limit_per_host=0),
            # trust_env would look the proxy (and a netrc entry) up again for every request, each in a
            # thread of the executor: two thread hops a call, 4-15 loop turns before its request went out.
            trust_env=False,
        )
        slots = Slots(self.max_in_flight) if self.max_in_flight else None
        return _Client(session, asyncio.get_running_loop(), slots, env_proxy(self.endpoint.base_url))

    def _session(self) -> _Client:
        """The aiohttp session, the in-flight slots and the proxy for the running event loop."""
        import asyncio

        if self._client is not None and self._client.loop is not asyncio.get_running_loop():
            self._client = None  # made in an earlier event loop, which has ended
        if self._client is None:
            self._client = self._make_client()
        return self._client

    @property
    def started(self) -> bool:
        """False while a lazily started engine has not been needed."""
        return self._started

    async def _ensure_started(self) -> None:
        import asyncio

        if self._started or self._start is None:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            self.endpoint.base_url = await asyncio.to_thread(self._start)
            self._started = True

    async def _hold_slot(self, scope: CallScope) -> None:
        """Take an in-flight slot for this attempt's first HTTP call (its answer gives it back)."""
        slots = self._session().slots
        if slots is not None and not scope.holding_slot:
            scope.handed = await self._acquire(slots)
            scope.holding_slot = True

    async def _acquire(self, slots: Slots) -> _Handed:
        """A slot; handed over by an answer (whose checks then wait for this call) when it had to wait."""
        scope = _scope.get()
        waits = slots.locked()
        self._waiting += waits
        try:
            await slots.acquire(first=scope is not None and scope.priority)
        finally:
            self._waiting -= waits
        return _Handed(waits)

    def _written(self, handed: _Handed) -> None:
        """A handed-over call's request is on the wire, or will not be (it failed, or no call used the
        slot): the answer that handed it over may be checked."""
        if handed.waiting:
            handed.waiting = False
            self._handoffs = max(0, self._handoffs - 1)

    async def _on_request_written(self, session: Any, ctx: Any, params: Any) -> None:
        handed = ctx.trace_request_ctx
        if isinstance(handed, _Handed):
            self._written(handed)

    async def _sends_first(self) -> None:
        """An answer has given its slot back: its checks (2-6 ms of CPU) wait until the call that was
        waiting for the slot has gone out. Otherwise a burst of answers is checked one after another
        before any next call is sent, and every call waits behind the whole burst (measured at N = 32:
        the calls went out at ~80 % of the provider's pace). Bounded: a few turns of the loop at most."""
        import asyncio

        if self._waiting <= 0:
            return
        self._handoffs += 1
        for _ in range(SENDS_FIRST_TURNS):
            if self._handoffs <= 0:
                return
            await asyncio.sleep(0)

    def _drop_slot(self, scope: CallScope) -> None:
        """Give back a slot no HTTP call used (the attempt ended before sending)."""
        if scope.holding_slot and self._client is not None and self._client.slots is not None:
            self._client.slots.release()
        scope.holding_slot = False
        if scope.handed is not None:
            self._written(scope.handed)
            scope.handed = None

    def cost_of(self, prompt_tokens: int, completion_tokens: int) -> float:
        return self._cost(self.endpoint.model, prompt_tokens, completion_tokens) if self._cost else 0.0

    async def close(self) -> None:
        import asyncio

        if self._client is not None and self._client.loop is asyncio.get_running_loop():
            await self._client.session.close()
        self._client = None

    async def _post(self, body: dict[str, Any]) -> Any:
        """One HTTP call; failures raised as the openai SDK raises them (so retries and messages hold)."""
        import httpx2
        import openai

        url = self.endpoint.base_url.rstrip("/") + "/chat/completions"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        client = self._session()
        slots = client.slots
        scope = _scope.get()
        # A call whose slot an answer handed over: that answer is checked once this request is written
        # (aiohttp's chunk-sent signal, _written), or once it failed before being written.
        handed = _Handed(False)
        if slots is not None and not (scope is not None and scope.holding_slot):
            # A transport retry after a failure that gave the slot back, or a call with no scope.
            handed = await self._acquire(slots)
            if scope is not None:
                scope.holding_slot = True
        elif scope is not None and scope.handed is not None:
            handed = scope.handed
        if scope is not None:
            scope.handed = None
        try:
            try:
                async with client.session.post(
                    url,
                    data=data,
                    headers={"Content-Type": "application/json"},
                    proxy=client.proxy.url,
                    proxy_auth=client.proxy.auth,
                    trace_request_ctx=handed,
                ) as resp:
                    self._written(handed)  # a replay (vcrpy) sends no trace signal
                    status, headers, content = resp.status, resp.headers, await resp.read()
            except BaseException:
                if slots is not None and scope is None:
                    slots.release()
                raise
            finally:
                self._written(handed)
        except TimeoutError as err:  # aiohttp's read and connect timeouts are TimeoutErrors
            raise openai.APITimeoutError(request=httpx2.Request("POST", url)) from err
        except Exception as err:
            raise openai.APIConnectionError(request=httpx2.Request("POST", url)) from err
        if isinstance(content, str):  # a vcrpy replay may hand back text
            content = content.encode("utf-8")
        if status >= 400:
            # The slot is kept: a refused form must be known before another call is built (structured
            # gives it back), and a retry after a 429 or 5xx waits in it, as it did in the article's.
            if slots is not None and scope is None:
                slots.release()
            # The SDK's error classes want an httpx response (Retry-After is read from its headers).
            response = httpx2.Response(
                status, headers=list(headers.items()), content=content, request=httpx2.Request("POST", url)
            )
            raise _status_error(response) from None
        if slots is not None:  # the answer is in: the next call may go out while this one is checked
            slots.release()
            if scope is not None:
                scope.holding_slot = False
            await self._sends_first()

        try:
            return json.loads(content)
        except ValueError:
            return content.decode("utf-8", "replace")  # as the SDK returns a body it cannot parse: no choices

    async def _create(self, kwargs: dict[str, Any]) -> Any:
        """One request (``kwargs`` as instructor would have passed them) with tenacity's transport retries."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay

        await self._ensure_started()
        ep = self.endpoint
        scope = _scope.get()
        body = {k: v for k, v in kwargs.items() if k != "extra_body"}
        body.update(kwargs.get("extra_body") or {})  # as the SDK merges extra_body into the JSON body
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
                    response = await self._post(body)
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
        usage = response.get("usage") if isinstance(response, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        pt = int(usage.get("prompt_tokens") or 0)
        ct = int(usage.get("completion_tokens") or 0)
        content: str | None = None
        finish = _finish_reason(response)
        msg = _message(response)
        if msg:
            content = msg.get("content")
            if not content and msg.get("tool_calls"):
                content = (msg["tool_calls"][0].get("function") or {}).get("arguments")
        if scope is not None:
            scope.last_content = content or ""
            scope.http_attempts += 1
            scope.usage.calls += 1
            scope.usage.prompt_tokens += pt
            scope.usage.completion_tokens += ct
            if self._cost is not None:
                scope.usage.cost_usd += self._cost(self.endpoint.model, pt, ct)
        request = {
            k: v for k, v in kwargs.items() if k in ("model", "messages", "response_format", "tools", "extra_body")
        }
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
        if log.isEnabledFor(logging.INFO):
            log.info(
                "call %s attempt=%d latency=%.2fs tokens=%d+%d %s",
                scope.label if scope else "-",
                n,
                time.perf_counter() - started,
                pt,
                ct,
                error or finish or "",
            )

    def prepare(self, response_model: type[BaseModel]) -> None:
        """Build now what every structured call for ``response_model`` needs in this endpoint's form (its
        schema, instructor's wrapper and request fields; the SDK comes with them, ~0.8 s in all): a process
        forked after this (sending.Senders) inherits them instead of building them on its first call."""
        schema = schema_of(response_model)
        mode_name, _ = self.endpoint.profile.structured_request(self.form, schema, response_model.__name__)
        _asking(_instructor_model(response_model), mode_name)

    def messages(self, system: str, user: str) -> list[dict[str, Any]]:
        """A fresh list on every call."""
        if self.endpoint.fold_system:
            return [{"role": "user", "content": f"{system}\n\n{user}"}]
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def _attempt(self, messages: list[dict[str, Any]], kwargs: dict[str, Any], mode_name: str, asked: Any) -> Any:
        """One attempt: the request as instructor would build it in ``mode_name``, the answer validated as
        instructor would validate it (strictly, against ``asked``). Raises what instructor would."""
        asking = _asking(asked, mode_name)
        sent = _with_instruction(messages, asking.instruction) if asking.instruction is not None else messages
        request: dict[str, Any] = {"messages": sent, **kwargs, **asking.fields}
        completion = await self._create(request)
        return asked.model_validate_json(_answer_text(completion, mode_name), strict=True)

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
        priority: bool = False,
    ) -> Structured[T]:
        """One structured request with bounded re-asks. Never raises for provider or model failures.
        ``priority``: its calls take the next free slot before the calls already waiting (story writing).

        The re-asks are ours, not instructor's: each one is the original messages, the failed answer and
        our own list of problems (``self._reask``), so no library's exception text, URL or version string
        ever reaches the model, the recordings or the cache keys.
        """
        import openai

        scope = CallScope(label=label, priority=priority)
        token = _scope.set(scope)
        checking = _validation.set(context)
        ep = self.endpoint
        schema = schema_of(response_model)
        asked = _instructor_model(response_model)
        first = self.messages(system, user)
        messages = first
        result: Structured[T] = Structured(value=None, error=None)
        try:
            n = 1
            while n <= max_reasks + 1:
                scope.attempt = n
                # The slot first, then the form: a refusal that came back meanwhile has changed it.
                await self._hold_slot(scope)
                form = self.form
                mode_name, extra = ep.profile.structured_request(form, schema, response_model.__name__)
                kwargs: dict[str, Any] = {
                    "model": ep.model,
                    "max_tokens": max_tokens or ep.max_tokens,
                    "temperature": ep.temperature if n == 1 or ep.temperature else ep.reask_temperature,
                }
                if extra:
                    kwargs["extra_body"] = extra
                try:
                    result.value = await self._attempt(messages, kwargs, mode_name, asked)
                    break
                except _Truncated:
                    raise
                except Exception as cause:
                    if form_refused(cause) and (form != self.form or self._next_form(400)):
                        status = getattr(cause, "status_code", 400)
                        result.events.append(
                            f"structured output as {form} refused (HTTP {status}); asked as {self.form}"
                        )
                        continue  # the same attempt again, in the next form
                    if isinstance(cause, openai.APIError):
                        result.transport_failed = True
                        result.error = f"provider error after retries: {_short_error(cause)}"
                        break
                    scope.failures.append(FailedAttempt(n, scope.last_content, problems_of(cause)))
                    if n > max_reasks:
                        result.error = f"output failed validation after {n} attempt(s)"
                        break
                    failed = scope.failures[-1]
                    messages = [
                        *first,
                        {"role": "assistant", "content": failed.content},
                        {"role": "user", "content": self._reask(failed.problems)},
                    ]
                    n += 1
        except _Truncated as exc:
            result.error = "output truncated (finish_reason=length)"
            scope.failures.append(FailedAttempt(scope.attempt, _content_of(exc.completion), [result.error]))
        finally:
            self._drop_slot(scope)
            _scope.reset(token)
            _validation.reset(checking)
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


def default_reask(problems: list[str]) -> str:
    """The re-ask when no template is given (the CLI renders ``prompts/reask.user.j2`` instead)."""
    return "Your answer has these problems:\n- " + "\n- ".join(problems) + "\nReturn the corrected JSON only."


def problems_of(error: BaseException | None) -> list[str]:
    """What was wrong with an answer, in our words only: never a library's message text, URL or version.

    Our validators raise ValueError with the verifier's findings ("you wrote 370; sentence 4 says 307");
    pydantic's own failures (bad JSON, a missing field, a wrong type) are named by their stable type code.
    """
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        out: list[str] = []
        for e in error.errors(include_url=False):
            where = ".".join(str(p) for p in e.get("loc", ())) or "the answer"
            kind = str(e.get("type", ""))
            if kind == "value_error":
                ctx_error = (e.get("ctx") or {}).get("error")
                lines = str(ctx_error or e.get("msg", "")).splitlines()
                out += [line.strip().removeprefix("- ") for line in lines if line.strip()]
            elif kind == "json_invalid":
                out.append("the answer is not valid JSON")
            elif kind == "missing":
                out.append(f"field `{where}` is missing")
            else:
                out.append(f"field `{where}` is invalid ({kind})")
        return out or ["the answer does not match the schema"]
    if error is None:
        return ["the answer does not match the schema"]
    return [f"the answer could not be read ({type(error).__name__})"]


def _normalise_json_content(response: Any) -> None:
    """Re-serialise JSON that has raw newlines inside strings (llama.cpp's grammar allows them).

    The value is unchanged; only the encoding becomes what strict parsers accept.
    """
    msg = _message(response)
    content = msg.get("content") if msg else None
    if msg is None or not isinstance(content, str) or "{" not in content:
        return
    try:
        json.loads(content)
        return
    except ValueError:
        pass
    try:
        msg["content"] = json.dumps(json.loads(content, strict=False), ensure_ascii=False)
    except ValueError:
        return


def _content_of(completion: Any) -> str:
    msg = _message(completion)
    if not msg:
        return ""
    if msg.get("content"):
        return str(msg["content"])
    calls = msg.get("tool_calls")
    if calls and isinstance(calls, list) and isinstance(calls[0], dict):
        return str((calls[0].get("function") or {}).get("arguments"))
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
        return _replay_mismatch(exc) or "connection error"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


def _replay_mismatch(exc: BaseException) -> str | None:
    """A replay (record mode none) found no matching request: say which field differs, not "connection error"."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None and type(cause).__name__ != "CannotOverwriteExistingCassetteException":
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    found = re.search(r"the request differs from the recording at [^\n]*", str(cause))
    return f"not in the recording: {found.group(0)}" if found else "not in the recording: no recorded request matches"
