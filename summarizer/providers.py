"""Provider profiles: everything that differs between OpenAI-compatible servers, in one table.

A profile says how to ask a server for schema-constrained output (an ordered list of *forms*, tried in
turn: a 400 moves to the next form, and the form that worked is kept for the endpoint), whether the
system text must be folded into the user turn, what timeouts and output caps fit it, how many calls it
serves at once, and how a Batch API request body looks. Adding a provider quirk is one new entry in
``PROFILES`` (and, if it has a new way to take a schema, one new form in ``structured_request``).

The profile is chosen by ``--provider``, else detected: the URL (api.openai.com, api.anthropic.com),
then what the server answers on loopback-cheap probes (llama.cpp's ``/props``, Ollama's
``/api/version``, vLLM's ``/version``, llama-cpp-python's ``/v1/models``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "FORMS",
    "PROFILES",
    "Form",
    "Profile",
    "detect_profile",
    "form_of_request",
    "profile_named",
]

# How a request asks for structured output:
# - json_schema: response_format {"type": "json_schema", ...} (OpenAI, vLLM, LM Studio, llama-server)
# - json_object_schema: response_format {"type": "json_object", "schema": ...} (llama-cpp-python's server,
#   which rejects json_schema but constrains generation to this schema with a grammar)
# - guided_json: vLLM's extra body field
# - ollama_format: Ollama's "format" field carrying the schema
# - tools: a function call whose parameters are the schema (OpenAI, Anthropic's compatible endpoint)
# - json: plain JSON mode, the schema only in the prompt (the last resort: nothing constrains output)
Form = Literal["json_schema", "json_object_schema", "guided_json", "ollama_format", "tools", "json"]
FORMS: tuple[Form, ...] = ("json_schema", "json_object_schema", "guided_json", "ollama_format", "tools", "json")

# Old --mode names, kept as aliases of the forms.
MODE_ALIASES: dict[str, Form] = {"llama_json": "json_object_schema", "md_json": "json"}


@dataclass(frozen=True)
class Profile:
    name: str
    forms: tuple[Form, ...]
    # Models without a system role (gemma on llama.cpp) get the system text folded into the user turn.
    fold_system: bool = False
    # A local CPU server takes minutes for a long prompt; a hosted API answers in seconds.
    timeout: float = 120.0
    max_tokens: int = 1024
    concurrency: int = 8
    default_model: str = "default"
    local: bool = False
    # A re-ask at temperature 0 gets the very same answer back from a deterministic local server.
    reask_temperature: float = 0.5

    def structured_request(self, form: Form, schema: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
        """(instructor mode name, extra request body) for asking ``form`` with ``schema``."""
        if form == "json_schema":
            return "json_schema", {}
        if form == "tools":
            return "tools", {}
        if form == "json_object_schema":
            # Overrides instructor's bare json_object, so llama.cpp constrains output to the schema.
            return "json", {"response_format": {"type": "json_object", "schema": schema}}
        if form == "guided_json":
            return "json", {"guided_json": schema}
        if form == "ollama_format":
            return "json", {"format": schema}
        return "json", {}

    def batch_body(
        self, *, model: str, system: str, user: str, schema: dict[str, Any], name: str, max_tokens: int
    ) -> dict[str, Any]:
        """One Batch API request body for a chat completion constrained to ``schema``."""
        messages = (
            [{"role": "user", "content": f"{system}\n\n{user}"}]
            if self.fold_system
            else [{"role": "system", "content": system}, {"role": "user", "content": user}]
        )
        body: dict[str, Any] = {"model": model, "temperature": 0, "max_tokens": max_tokens, "messages": messages}
        form = self.forms[0]
        if form == "json_schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        elif form == "tools":
            body["tools"] = [{"type": "function", "function": {"name": name, "parameters": schema}}]
            body["tool_choice"] = {"type": "function", "function": {"name": name}}
        else:
            _, extra = self.structured_request(form, schema, name)
            body["response_format"] = {"type": "json_object"}
            body.update(extra)
            # The schema is also in the prompt, as instructor's JSON mode puts it.
            messages[0]["content"] += "\n\nReturn JSON matching this JSON schema:\n" + json.dumps(schema)
        return body


PROFILES: dict[str, Profile] = {
    "openai": Profile("openai", ("json_schema", "tools", "json"), default_model="gpt-4o-mini"),
    "anthropic": Profile("anthropic", ("tools", "json"), default_model="claude-3-5-haiku-latest"),
    "llama.cpp": Profile(
        "llama.cpp",
        ("json_object_schema", "json_schema", "json"),
        fold_system=True,
        timeout=900.0,
        max_tokens=768,
        concurrency=1,
        local=True,
    ),
    "ollama": Profile("ollama", ("ollama_format", "json_schema", "json"), timeout=900.0, concurrency=1, local=True),
    "vllm": Profile("vllm", ("guided_json", "json_schema", "json"), timeout=300.0, concurrency=64),
    "lmstudio": Profile("lmstudio", ("json_schema", "json"), timeout=900.0, concurrency=1, local=True),
    # An unknown OpenAI-compatible server: the standard form first, then llama.cpp's, then plain JSON.
    "generic": Profile("generic", ("json_schema", "json_object_schema", "json"), timeout=600.0, concurrency=4),
}


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(PROFILES)}") from None


def detect_profile(base_url: str, *, timeout: float = 2.0) -> Profile:
    """The profile for ``base_url``: from the URL when it names a hosted API, else from what the server answers."""
    url = base_url.rstrip("/")
    if "api.openai.com" in url:
        return PROFILES["openai"]
    if "anthropic.com" in url:
        return PROFILES["anthropic"]
    root = url.removesuffix("/v1")
    probes: list[tuple[str, str]] = [
        ("/props", "llama.cpp"),
        ("/api/version", "ollama"),
        ("/version", "vllm"),
    ]
    for path, name in probes:
        data = _get_json(root + path, timeout)
        if isinstance(data, dict) and _looks_like(name, data):
            return PROFILES[name]
    models = _get_json(url + "/models", timeout)
    if isinstance(models, dict) and any(
        isinstance(m, dict) and m.get("owned_by") == "me" for m in models.get("data") or []
    ):
        return PROFILES["llama.cpp"]  # llama-cpp-python's server
    return PROFILES["generic"]


def _get_json(url: str, timeout: float) -> Any:
    """GET ``url`` and parse JSON; None on any failure. (stdlib: a probe needs no TLS context or pool.)"""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read(1_000_000)) if resp.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _looks_like(name: str, data: dict[str, Any]) -> bool:
    if name == "llama.cpp":
        return "default_generation_settings" in data or "chat_template" in data
    return "version" in data


def form_of_request(body: dict[str, Any]) -> Form:
    """Which form a recorded request used (for replaying a cassette with the profile that recorded it)."""
    rf = body.get("response_format") or {}
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        return "json_schema"
    if isinstance(rf, dict) and rf.get("schema"):
        return "json_object_schema"
    if body.get("tools"):
        return "tools"
    if "guided_json" in body:
        return "guided_json"
    if isinstance(body.get("format"), dict):
        return "ollama_format"
    return "json"
