"""render: the brief as files — brief.md, brief.json and brief.html.

Only verified or extractive text reaches these files; all article and LLM text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from summarizer.models import Article, Brief

FORMATS = ("md", "json", "html")


def render_json(brief: Brief) -> str:
    return brief.model_dump_json(indent=2)


def write_brief(
    brief: Brief,
    articles: Mapping[str, Article],
    out_dir: Path,
    formats: Sequence[str] = FORMATS,
    *,
    max_facts: int | None = None,
) -> list[Path]:
    """Write brief.md / brief.json / brief.html (as ``formats`` asks) into ``out_dir``; returns the paths.

    ``max_facts``: facts shown per story in brief.md (and before the fold in brief.html)."""
    from summarizer.render.markdown import MAX_FACTS, render_markdown

    shown = MAX_FACTS if max_facts is None else max_facts

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        path = out_dir / f"brief.{fmt}"
        if fmt == "md":
            text = render_markdown(brief, max_facts=shown)
        elif fmt == "json":
            text = render_json(brief)
        elif fmt == "html":
            from summarizer.render.html import render_html

            text = render_html(brief, articles, max_facts=shown)
        else:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
