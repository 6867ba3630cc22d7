"""summarizer: news articles in, one consolidated brief out, every figure checked against its source.

The public surface is ``__all__``; everything else is private and may change. Names resolve lazily
(PEP 562), so ``import summarizer`` (and ``summarizer --help``) loads no heavy library.

    from summarizer import load_inputs, verify_summary
    loaded = load_inputs(["examples/"])
    report = verify_summary("Each side returned 307 prisoners.", [(a.id, a.text) for a in loaded.articles])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # stages
    "load_inputs": "summarizer.load",
    "verify_extraction": "summarizer.verify",
    "verify_summary": "summarizer.factcheck",
    "segment_and_process": "summarizer.pipeline",
    "build_brief": "summarizer.pipeline",
    "Options": "summarizer.pipeline",
    "write_brief": "summarizer.render",
    "Prompts": "summarizer.templates",
    # the LLM seam
    "LLM": "summarizer.llm",
    "Endpoint": "summarizer.llm",
    "resolve_endpoint": "summarizer.llm",
    "embedded_endpoint": "summarizer.llm",
    "Profile": "summarizer.providers",
    "PROFILES": "summarizer.providers",
    "detect_profile": "summarizer.providers",
    "ResultCache": "summarizer.cache",
    # the contracts between stages
    "Article": "summarizer.models",
    "ArticleResult": "summarizer.models",
    "Brief": "summarizer.models",
    "BriefFact": "summarizer.models",
    "Citation": "summarizer.models",
    "Conflict": "summarizer.models",
    "Document": "summarizer.models",
    "Fact": "summarizer.models",
    "InputError": "summarizer.models",
    "LoadResult": "summarizer.models",
    "Rejection": "summarizer.models",
    "Sentence": "summarizer.models",
    "Story": "summarizer.models",
    "Usage": "summarizer.models",
}

__all__ = [
    "LLM",
    "PROFILES",
    "Article",
    "ArticleResult",
    "Brief",
    "BriefFact",
    "Citation",
    "Conflict",
    "Document",
    "Endpoint",
    "Fact",
    "InputError",
    "LoadResult",
    "Options",
    "Profile",
    "Prompts",
    "Rejection",
    "ResultCache",
    "Sentence",
    "Story",
    "Usage",
    "build_brief",
    "detect_profile",
    "embedded_endpoint",
    "load_inputs",
    "resolve_endpoint",
    "segment_and_process",
    "verify_extraction",
    "verify_summary",
    "write_brief",
]

if TYPE_CHECKING:
    from summarizer.cache import ResultCache
    from summarizer.factcheck import verify_summary
    from summarizer.llm import LLM, Endpoint, embedded_endpoint, resolve_endpoint
    from summarizer.load import load_inputs
    from summarizer.models import (
        Article,
        ArticleResult,
        Brief,
        BriefFact,
        Citation,
        Conflict,
        Document,
        Fact,
        InputError,
        LoadResult,
        Rejection,
        Sentence,
        Story,
        Usage,
    )
    from summarizer.pipeline import Options, build_brief, segment_and_process
    from summarizer.providers import PROFILES, Profile, detect_profile
    from summarizer.render import write_brief
    from summarizer.templates import Prompts
    from summarizer.verify import verify_extraction


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
