"""Which LLM a run talks to: a replayed recording, a configured endpoint, or the embedded engine.

The embedded engine is started lazily, on the first call that needs it, so a run served entirely
from the cache never starts it; it always stops when the run ends, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from summarizer.models import EngineInfo
from summarizer.templates import Prompts


@dataclass
class Connection:
    """What decides which LLM a run talks to (from the CLI's flags)."""

    base_url: str | None = None
    model: str | None = None
    mode: str | None = None
    provider: str | None = None
    gguf: Path | None = None
    replay: Path | None = None
    record: Path | None = None
    quiet: bool = False


def _say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


@contextlib.contextmanager
def open_llm(req: Connection, prompts: Prompts) -> Iterator[tuple[Any, EngineInfo]]:
    """The LLM client for this run. The embedded engine starts on the first call that needs it (a run
    served entirely from the cache never starts it) and always stops when the run ends."""
    from summarizer.llm import Endpoint, embedded_endpoint, resolve_endpoint
    from summarizer.providers import PROFILES, form_of_request
    from summarizer.replay import recorded_endpoint, vcr_for

    start: Any = None
    priced = False
    with contextlib.ExitStack() as stack:
        if req.replay is not None:
            base, model, body = recorded_endpoint(req.replay)
            # The profile that recorded it: llama.cpp's form means the embedded engine (or a llama.cpp server).
            form = form_of_request(body)
            ep = Endpoint.from_profile(
                PROFILES["llama.cpp" if form == "json_object_schema" else "generic"],
                base_url=base,
                model=model,
                forms=(form,),
                engine=f"replay of {req.replay.name}",
                max_transport_retries=0,
                max_tokens=int(body.get("max_tokens") or 1024),
            )
            stack.enter_context(vcr_for(req.replay, replay=True))
        else:
            found = resolve_endpoint(base_url=req.base_url, model=req.model, mode=req.mode, provider=req.provider)
            if found is None:
                from summarizer.engine import default_gguf, embedded_server

                gguf = req.gguf or default_gguf()
                ep = embedded_endpoint("http://127.0.0.1:0/v1", gguf.name)

                def start() -> str:
                    _say(f"engine: embedded llama.cpp, model {gguf.name} (starting on loopback…)", req.quiet)
                    return str(stack.enter_context(embedded_server(gguf)))

            else:
                ep = found
                priced = True
                _say(f"engine: {ep.description}", req.quiet)
            if req.record is not None:
                req.record.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(vcr_for(req.record, replay=False))
        if req.mode and req.replay is None and found is None:
            from summarizer.providers import MODE_ALIASES

            ep.forms = (cast(Any, MODE_ALIASES.get(req.mode, req.mode)),)
        llm = client(ep, prompts, priced=priced, start=start)
        yield llm, EngineInfo(name=ep.engine, model=ep.model, base_url=None if start else ep.base_url)
        if start is not None and not llm.started:
            _say("engine: embedded llama.cpp not started: every answer came from the cache", req.quiet)


def client(endpoint: Any, prompts: Prompts, *, priced: bool, start: Any = None) -> Any:
    """The LLM client for ``endpoint``: our re-ask text, and prices for a priced (hosted) endpoint.
    ``open_llm`` makes the run's; a worker process of a big run makes its own (``summarizer.sending``)."""
    from summarizer.cost import estimate_cost
    from summarizer.llm import LLM

    def cost(model: str, pt: int, ct: int) -> float:
        return estimate_cost(model, pt, ct) if priced else 0.0

    def reask(problems: list[str]) -> str:
        return prompts.render("reask.user.j2", problems=problems)

    llm = LLM(endpoint, call_log=None, cost=cost, reask=reask, start=start)
    llm.priced = priced
    return llm
