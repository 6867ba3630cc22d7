"""render: the brief as files — brief.md, brief.json and brief.html.

Only verified or extractive text reaches these files; all article and LLM text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from summarizer.models import Article, Brief

FORMATS = ("md", "json", "html")


def render_json(brief: Brief) -> str:
    return "".join(json_chunks(brief))


# Brief's long lists: written item by item, so a brief of 100,000 articles is never one string in memory.
_STREAMED = ("articles", "results", "stories", "rejected")


def json_chunks(brief: Brief) -> Iterator[str]:
    """``brief.model_dump_json(indent=2)``, piece by piece.

    The brief without its long lists is dumped whole; each list is then written an item at a time, each
    item's own dump indented to its depth (JSON strings hold no raw newline, so every line is shifted).
    """
    skeleton = brief.model_copy(update={name: [] for name in _STREAMED}).model_dump_json(indent=2)
    pos = 0
    for name in _STREAMED:
        items = getattr(brief, name)
        slot = f'\n  "{name}": []'
        at = skeleton.index(slot, pos) + len(slot) - 1  # at the "]"
        if not items:
            continue
        yield skeleton[pos : at - 1] + "[\n    "
        for k, item in enumerate(items):
            if k:
                yield ",\n    "
            yield item.model_dump_json(indent=2).replace("\n", "\n    ")
        yield "\n  "
        pos = at
    yield skeleton[pos:]


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
        chunks: Iterator[str]
        if fmt == "md":
            chunks = iter([render_markdown(brief, max_facts=shown)])
        elif fmt == "json":
            chunks = json_chunks(brief)
        elif fmt == "html":
            from summarizer.render.html import html_chunks

            chunks = html_chunks(brief, articles, max_facts=shown)
        else:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        # Written as it is made: the JSON and HTML of a big run are hundreds of MiB as one string.
        with path.open("w", encoding="utf-8") as out:
            out.writelines(chunks)
        written.append(path)
    return written
