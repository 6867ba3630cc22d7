"""The public surface (``summarizer.__all__``), tested as httpx tests its own: the list is deliberate."""

from __future__ import annotations

import subprocess
import sys

import summarizer

EXPECTED = {
    "load_inputs", "verify_extraction", "verify_summary", "segment_and_process", "build_brief",
    "Options", "write_brief", "Prompts", "LLM", "Endpoint", "resolve_endpoint", "embedded_endpoint", "Profile",
    "PROFILES", "detect_profile", "ResultCache", "Article", "ArticleResult", "Brief", "BriefFact", "Citation",
    "Conflict", "Document", "Fact", "InputError", "LoadResult", "Rejection", "Sentence", "Story", "Usage",
}  # fmt: skip


def test_all_is_the_declared_surface() -> None:
    assert set(summarizer.__all__) == EXPECTED


def test_every_public_name_resolves_documented_and_from_its_home() -> None:
    for name in summarizer.__all__:
        value = getattr(summarizer, name)
        assert not name.startswith("_")
        if callable(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
            assert value.__module__.startswith("summarizer."), name


def test_unknown_names_raise_attribute_error() -> None:
    try:
        summarizer.not_a_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_name" in str(exc)
    else:
        raise AssertionError("a missing name resolved")


def test_import_summarizer_loads_no_heavy_library() -> None:
    code = (
        "import sys, summarizer; heavy = {'openai', 'instructor', 'sklearn', 'pydantic', 'httpx', 'vcr'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
