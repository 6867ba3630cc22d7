"""A SCRIPTED OpenAI-compatible chat endpoint on loopback, for tests.

It is not a model: it plays a well-behaved or a hostile one, chosen by the test. stdlib only.

    with ScriptedEndpoint(well_behaved) as ep:
        client = openai.OpenAI(base_url=ep.base_url, api_key="x", max_retries=0)
        ep.push(Fault("status", status=429, retry_after=0.1))   # the next call gets a 429
        ...

Replies: a ``str`` is the raw message content, a ``dict`` is a JSON payload (serialised here), a
``Fault`` is a misbehaviour. When the request carries ``tools`` (instructor TOOLS mode) a str/dict
reply is wrapped as a call to the first tool; ``Fault("raw")`` always lands in ``message.content``
(a model that ignored the tool). Queued replies (``script=`` / ``push``) are used first, FIFO; then
the responder; with no responder, ``well_behaved``.

``ep.requests`` holds every request body; ``ep.headers`` (lower-cased names) and ``ep.times``
(``time.monotonic()`` at arrival) run parallel to it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = [
    "MIXED_FAULT_NAMES",
    "Fault",
    "Reply",
    "Responder",
    "ScriptedEndpoint",
    "hostile_bad_ids",
    "hostile_injection",
    "hostile_not_json",
    "hostile_wrong_numbers",
    "is_batched_narrative",
    "is_narrative",
    "mixed_faults",
    "parse_facts",
    "parse_sentences",
    "parse_story_facts",
    "well_behaved",
]


@dataclass
class Fault:
    """A misbehaviour of the endpoint for one call."""

    kind: Literal["status", "reset", "stall", "truncated", "raw"]
    status: int = 500
    retry_after: float | None = None  # "status": sets the Retry-After header
    seconds: float = 0.0  # "stall": sleep this long before answering normally
    content: str = ""  # "truncated": partial content (finish_reason "length"); "raw": content as is


Reply = str | dict[str, Any] | Fault
Responder = Callable[[dict[str, Any]], Reply]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def _tokens(text: str) -> int:
    return len(text) // 4 + 1


def _message_texts(request: dict[str, Any]) -> list[str]:
    """The text of every message; content may be a string or a list of parts."""
    out: list[str] = []
    for msg in request.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    out.append(part["text"])
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: 32 clients connecting at once lost SYNs and waited 1 s to retry.
    request_queue_size = 128
    endpoint: ScriptedEndpoint


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server; lets connection pools work
    server: _Server
    timeout = 30  # an idle keep-alive connection must not pin a thread for ever

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest output stays readable
        pass

    def setup(self) -> None:
        super().setup()
        # As real servers do: headers and body are two writes, and with Nagle on the body waited for the
        # client's delayed ACK, 40 ms a response on Linux (measured: 44 ms over the scripted latency).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.endpoint._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.endpoint._track(self.connection, add=False)

    # ---------------------------------------------------------------- plumbing

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout) or we are shutting down
            self.close_connection = True

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        err_type = _ERROR_TYPES.get(status, "server_error")
        payload = {"error": {"message": message, "type": err_type, "param": None, "code": err_type}}
        self._send_json(status, payload, headers)

    def _reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # ---------------------------------------------------------------- routes

    def do_GET(self) -> None:
        ep = self.server.endpoint
        if self.path.rstrip("/") in ep.gets:  # what a real server answers to a probe (/props, /version, …)
            self._send_json(200, ep.gets[self.path.rstrip("/")])
        elif self.path.rstrip("/") == "/v1/models":
            model = {"id": "scripted", "object": "model", "created": 0, "owned_by": "scripted"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:
        started = time.monotonic()  # the request line and headers are in
        raw = self._read_body()
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route POST {self.path}")
            return
        try:
            request = json.loads(raw or b"null")
            if not isinstance(request, dict):
                raise ValueError("body is not a JSON object")
        except ValueError as exc:
            self._error(400, f"invalid JSON body: {exc}")
            return
        ep = self.server.endpoint
        ep._enter(request, {k.lower(): v for k, v in self.headers.items()})
        try:
            refusal = ep.accepts(request) if ep.accepts is not None else None
            if refusal:  # a server that takes structured output in one form only: (status, message) or a 400
                ep.refused += 1
                status, message = refusal if isinstance(refusal, tuple) else (400, refusal)
                self._error(status, message)
            else:
                self._chat(ep, request)
        finally:
            ep._leave(time.monotonic() - started)

    def _chat(self, ep: ScriptedEndpoint, request: dict[str, Any]) -> None:
        if request.get("stream"):
            self._error(400, "the scripted endpoint does not stream")
            return
        try:
            reply = ep._next_reply(request)
        except Exception as exc:  # a broken responder is a test bug: say so loudly
            ep.errors.append(f"{type(exc).__name__}: {exc}")
            self._error(500, f"scripted responder raised {type(exc).__name__}: {exc}")
            return
        if ep.latency and ep._stop.wait(ep.latency):
            self._reset()
            return
        if isinstance(reply, Fault):
            if reply.kind == "status":
                headers = {}
                if reply.retry_after is not None:
                    headers["Retry-After"] = f"{reply.retry_after:g}"
                self._error(reply.status, f"scripted fault: HTTP {reply.status}", headers)
                return
            if reply.kind == "reset":
                self._reset()
                return
            if reply.kind == "stall":
                if ep._stop.wait(reply.seconds):
                    self._reset()
                    return
                reply_payload: str | dict[str, Any] = well_behaved(request)
                self._send_json(200, _completion(request, reply_payload, "stop"))
                return
            if reply.kind == "truncated":
                self._send_json(200, _completion(request, reply.content, "length"))
                return
            if reply.kind == "raw":
                self._send_json(200, _completion(request, reply.content, "stop", as_tool=False))
                return
            raise AssertionError(f"unknown fault kind {reply.kind!r}")
        self._send_json(200, _completion(request, reply, "stop"))


def _completion(
    request: dict[str, Any], reply: str | dict[str, Any], finish: str, *, as_tool: bool = True
) -> dict[str, Any]:
    text = reply if isinstance(reply, str) else json.dumps(reply)
    tools = request.get("tools") or []
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if as_tool and tools:
        name = tools[0].get("function", {}).get("name", "tool")
        call = {
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": name, "arguments": text},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        # OpenAI says "stop" when tool_choice forced the function, "tool_calls" when the model chose.
        if finish == "stop" and not isinstance(request.get("tool_choice"), dict):
            finish = "tool_calls"
    prompt = _tokens("".join(_message_texts(request)))
    completion = _tokens(text)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or "scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


class ScriptedEndpoint:
    """``with ScriptedEndpoint(responder) as ep: ep.base_url`` — see the module docstring."""

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency: float = 0.0,
        script: Iterable[Reply] = (),
        accepts: Callable[[dict[str, Any]], str | tuple[int, str] | None] | None = None,
        gets: dict[str, Any] | None = None,
    ) -> None:
        self.responder: Responder = responder or well_behaved
        self.latency = latency
        # ``accepts(request)`` returns why a request is refused: a message (a 400) or (status, message); None accepts.
        self.accepts = accepts
        self.refused = 0
        self.gets: dict[str, Any] = dict(gets or {})
        self.requests: list[dict[str, Any]] = []
        # Parallel to ``requests``: lower-cased HTTP headers (to check credentials are sent, and only there)
        # and arrival times (time.monotonic) to check backoff and that one waiting call blocks no other.
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []
        # Seconds each chat request took here, from its headers in to its answer written (latency included).
        self.served: list[float] = []
        self.errors: list[str] = []  # exceptions raised by the responder
        self.max_in_flight = 0
        self._in_flight = 0
        self._queue: deque[Reply] = deque(script)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> ScriptedEndpoint:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.endpoint = self
        self._server = server
        port = server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes stalled / sleeping handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # idle keep-alive handlers are blocked in recv(); unblock them
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> ScriptedEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- script

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Queued replies not used yet."""
        with self._lock:
            return len(self._queue)

    # ---------------------------------------------------------------- used by the handler

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is not None:
            return queued
        return self.responder(request)

    def _enter(self, request: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers or {})
            self.times.append(time.monotonic())
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self, served: float = 0.0) -> None:
        with self._lock:
            self._in_flight -= 1
            self.served.append(served)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)


# ==================================================================== responders

_NUMBERED = re.compile(r"^\s*\[(-?\d+)\]\s?(.*?)\s*$", re.M)


def _numbered_block(request: dict[str, Any], tag: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    block = re.compile(rf"<{tag}>(.*?)</{tag}>", re.S)
    for text in _message_texts(request):
        for m in block.finditer(text):
            out.extend((int(n), s) for n, s in _NUMBERED.findall(m.group(1)))
    return out


def parse_sentences(request: dict[str, Any]) -> list[tuple[int, str]]:
    """The ``[n] sentence`` lines inside ``<article>`` blocks of any message."""
    return _numbered_block(request, "article")


def parse_facts(request: dict[str, Any]) -> list[tuple[int, str]]:
    """The ``[n] fact`` lines inside ``<facts>`` blocks of any message."""
    return _numbered_block(request, "facts")


def is_narrative(request: dict[str, Any]) -> bool:
    """A request for story narratives: the batched schema (LLMNarratives) or the single one (LLMNarrative)."""
    return "LLMNarrative" in json.dumps(request)


def is_batched_narrative(request: dict[str, Any]) -> bool:
    return "LLMNarratives" in json.dumps(request)


_STORY = re.compile(r'<story n="(\d+)">(.*?)</story>', re.S)


def parse_story_facts(request: dict[str, Any]) -> list[tuple[int, list[tuple[int, str]]]]:
    """(story number, its ``[n] fact`` lines) for each ``<story n="k">`` block of a batched narratives request."""
    out: list[tuple[int, list[tuple[int, str]]]] = []
    for text in _message_texts(request):
        for m in _STORY.finditer(text):
            block = re.search(r"<facts>(.*?)</facts>", m.group(2), re.S)
            facts = [(int(n), t) for n, t in _NUMBERED.findall(block.group(1))] if block else []
            out.append((int(m.group(1)), facts))
    return out


def _map_narratives(request: dict[str, Any], fn: Callable[[list[tuple[int, str]], str], str]) -> dict[str, Any]:
    """well_behaved's narratives with ``fn(the story's facts, narrative)`` applied to each (batched or single)."""
    if is_batched_narrative(request):
        return {
            "narratives": [
                {"story": k, "narrative": fn(facts, _narrative(facts)["narrative"])}
                for k, facts in parse_story_facts(request)
            ]
        }
    facts = parse_facts(request)
    return {"narrative": fn(facts, _narrative(facts)["narrative"])}


# Words that belong to a quantity ("five [days]", "tens of [thousands]", "more than [400]"): a headline cut
# right after one would state a different quantity than the sentence, so the cut moves before them.
_QUANTITY_WORDS = frozenset(
    {
        "a",
        "an",
        "about",
        "almost",
        "around",
        "at",
        "least",
        "more",
        "less",
        "than",
        "over",
        "under",
        "nearly",
        "some",
        "of",
        "up",
        "to",
        "just",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "hundreds",
        "thousand",
        "thousands",
        "million",
        "millions",
        "billion",
        "billions",
        "tens",
        "dozen",
        "dozens",
        "half",
    }
)


def _headline(sentence: str, words: int = 12) -> str:
    # Only the sentence's own words, so the headline stays faithful.
    all_tokens = sentence.split()
    tokens = all_tokens[:words]
    if len(all_tokens) > words:
        while len(tokens) > 3 and (
            any(ch.isdigit() for ch in tokens[-1]) or tokens[-1].lower().strip(",.;:") in _QUANTITY_WORDS
        ):
            tokens.pop()
    return " ".join(tokens).rstrip(".,;:!?\"'")


def _narrative(facts: list[tuple[int, str]]) -> dict[str, Any]:
    parts = [f"{text.rstrip('.!?; ')} [{n}]." for n, text in facts[:4]]
    return {"narrative": " ".join(parts)}


def is_digest(request: dict[str, Any]) -> bool:
    return "LLMDigest" in json.dumps(request)


def parse_stories(request: dict[str, Any]) -> list[tuple[int, str]]:
    """The ``[n] title`` lines inside ``<stories>`` blocks (fact lines under them are indented)."""
    return _numbered_block(request, "stories")


def well_behaved(request: dict[str, Any]) -> dict[str, Any]:
    """A strong, faithful model: verbatim sentences, correct ids."""
    if is_digest(request):
        return {"digest": " ".join(f"{t.rstrip('.!?; ')} [{n}]." for n, t in parse_stories(request)[:4])}
    if is_batched_narrative(request):
        return {"narratives": [{"story": k, **_narrative(facts)} for k, facts in parse_story_facts(request)]}
    if is_narrative(request):
        return _narrative(parse_facts(request))
    sents = parse_sentences(request)
    if not sents:
        return {"headline": "", "summary": "", "facts": []}
    numeric = [(i, s) for i, s in sents if re.search(r"\d", s)][:8]
    chosen = numeric or sents[:3]  # an article without figures still has facts
    return {
        "headline": _headline(sents[0][1]),
        "summary": " ".join(s for _, s in sents[:2]),
        "facts": [{"text": s, "sentence_ids": [i]} for i, s in chosen],
    }


_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def _wrong(num: str) -> str:
    """307 -> 370 (swap the last two digits), else +63 (1,000 -> 1,063); never the same value."""
    digits = num.replace(",", "")
    swapped = digits[:-2] + digits[-1] + digits[-2] if len(digits) >= 2 else digits
    value = int(swapped) if swapped != digits and not swapped.startswith("0") else int(digits) + 63
    return f"{value:,}" if "," in num else str(value)


def _falsify(text: str) -> str:
    return _NUMBER.sub(lambda m: _wrong(m.group(0)), text)


def hostile_wrong_numbers(request: dict[str, Any]) -> dict[str, Any]:
    """Like ``well_behaved`` but every number in the facts, summary and narrative is changed."""
    if is_narrative(request):
        return _map_narratives(request, lambda _, text: _falsify_outside_markers(text))
    out = well_behaved(request)
    if "digest" in out:
        return {"digest": _falsify_outside_markers(out["digest"]) + " 4,321 people were hurt [1]."}
    out["summary"] = _falsify(out["summary"])
    for fact in out["facts"]:
        fact["text"] = _falsify(fact["text"])
    return out


def _falsify_outside_markers(text: str) -> str:
    # Keep the [n] citation markers intact: the lie is in the figures, not the references.
    return re.sub(r"\[\d+\]|[^\[]+", lambda m: m.group(0) if m.group(0).startswith("[") else _falsify(m.group(0)), text)


def hostile_bad_ids(request: dict[str, Any]) -> dict[str, Any]:
    """Like ``well_behaved`` but facts cite sentence ids past the end (and -1); narratives cite [n+99]."""
    if is_narrative(request):
        return _map_narratives(request, lambda facts, text: re.sub(r"\[\d+\]", f"[{len(facts) + 99}]", text))
    out = well_behaved(request)
    past_end = len(parse_sentences(request))
    for k, fact in enumerate(out["facts"]):
        fact["sentence_ids"] = [-1] if k == 0 else [past_end + k]
    return out


def hostile_not_json(request: dict[str, Any]) -> str:
    """Chatty prose instead of JSON."""
    sents = parse_sentences(request)
    first = sents[0][1] if sents else "the facts are below."
    return f"Sure! Here is the summary: {first} Let me know if you need anything else."


def hostile_injection(request: dict[str, Any]) -> dict[str, Any]:
    """A fabricated casualty figure, cited to sentence 0 (or fact [1]) as if the source said it."""
    if is_narrative(request):
        return _map_narratives(request, lambda _, text: "10,000 people died [1]. " + text)
    out = well_behaved(request)
    out["summary"] = "10,000 people died. " + out["summary"]
    out["facts"].insert(0, {"text": "10,000 people died", "sentence_ids": [0]})
    return out


def _schema_violation(request: dict[str, Any]) -> dict[str, Any]:
    if is_batched_narrative(request):
        return {"narratives": [{"story": "first", "text": 42}]}
    if is_narrative(request):
        return {"story": 42}
    return {"headline": 5, "facts": "none"}


def _truncated(request: dict[str, Any]) -> Fault:
    text = json.dumps(well_behaved(request))
    return Fault("truncated", content=text[: max(1, len(text) // 2)])


def _invalid_json(request: dict[str, Any]) -> str:
    text = json.dumps(well_behaved(request))
    return text[: max(1, len(text) - 3)] + ",,}"


_MIXED: list[Callable[[dict[str, Any]], Reply]] = [
    lambda r: Fault("status", status=429, retry_after=0.1),
    lambda r: Fault("status", status=500),
    lambda r: Fault("status", status=503),
    lambda r: Fault("reset"),
    _truncated,
    _invalid_json,
    _schema_violation,
    hostile_wrong_numbers,
    hostile_bad_ids,
]

MIXED_FAULT_NAMES = [
    "429",
    "500",
    "503",
    "reset",
    "truncated",
    "invalid_json",
    "schema_violation",
    "wrong_numbers",
    "bad_ids",
]


def mixed_faults(
    every: int = 3, seed: int = 0, on_fault: Callable[[str, dict[str, Any]], None] | None = None
) -> Responder:
    """1 call in ``every`` (the every-th, 2*every-th, ...) misbehaves, cycling through ``MIXED_FAULT_NAMES``
    starting at index ``seed``; the others are ``well_behaved``. Deterministic and thread-safe.
    ``on_fault(name, request)`` is told of each misbehaviour, so a test can check it left a trace."""
    if every < 1:
        raise ValueError("every must be >= 1")
    calls = itertools.count(1)
    faults = itertools.count(seed)
    lock = threading.Lock()

    def respond(request: dict[str, Any]) -> Reply:
        with lock:
            n = next(calls)
            k = next(faults) % len(_MIXED) if n % every == 0 else None
            if k is not None and on_fault is not None:
                on_fault(MIXED_FAULT_NAMES[k], request)
        return well_behaved(request) if k is None else _MIXED[k](request)

    return respond
