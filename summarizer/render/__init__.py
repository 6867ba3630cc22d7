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
    brief: Brief, articles: Mapping[str, Article], out_dir: Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write brief.md / brief.json / brief.html (as ``formats`` asks) into ``out_dir``; returns the paths."""
    from summarizer.render.markdown import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        path = out_dir / f"brief.{fmt}"
        if fmt == "md":
            text = render_markdown(brief)
        elif fmt == "json":
            text = render_json(brief)
        elif fmt == "html":
            from summarizer.render.html import render_html

            text = render_html(brief, articles)
        else:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
