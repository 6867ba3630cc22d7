"""One decoded text to one ``Article``: a file's or a fetched page's.

The header line (``date YYYY-MM-DD Title``) gives the date and title; HTML is reduced to its article
text with trafilatura (offsets index into that text); the title falls back to the first line, then the
name. ``load.py`` (files) and ``feeds.py`` (pages) both read their texts here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Sequence

from summarizer.models import Article

HTML_SUFFIXES = frozenset({".html", ".htm"})

_HEADER = re.compile(r"[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})(?:[ \t]+(.*?))?[ \t]*(?:\r\n|\n|\r|$)", re.I)
_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.I | re.S)
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_MAX_TITLE = 150


class Rejected(ValueError):
    """An input that cannot be used; the message is the one-line reason."""


def article_from_text(
    text: str, path: str, *, html: bool | None = None, encoding: str = "utf-8", notes: Sequence[str] = ()
) -> Article:
    """An Article from decoded text (a file's or a fetched page's); HTML is reduced to its article text.

    ``html`` None: decided from the name and the text. Raises ValueError with a one-line reason."""
    if not text.strip():
        raise Rejected("only whitespace, no text")
    notes = list(notes)
    title: str | None = None
    date: dt.date | None = None
    body_start = 0
    if html is None:
        html = os.path.splitext(path)[1].lower() in HTML_SUFFIXES or bool(_HTML_START.match(text))
    if html:
        text, title, date = _from_html(text)
        notes.append("text extracted from HTML with trafilatura")
    else:
        header = _HEADER.match(text)
        if header:
            date = _parse_date(header.group(1), notes)
            title = (header.group(2) or "").strip() or None
            body_start = _skip_space(text, header.end())
            if body_start == len(text):
                raise Rejected("only a header line, no article body")
    if not any(ch.isalpha() for ch in text[body_start:]):
        raise Rejected("no text to summarise (no words, only numbers or symbols)")
    return Article(
        id="",
        path=path,
        title=_clip(title or _first_line_title(text[body_start:]) or _stem(path)),
        date=date,
        text=text,
        body_start=body_start,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        encoding=encoding,
        notes=notes,
    )


def _from_html(html: str) -> tuple[str, str | None, dt.date | None]:
    import trafilatura  # heavy (lxml, htmldate): only when an HTML file shows up

    text = trafilatura.extract(html, include_comments=False)
    if not text or not text.strip():
        # Short pages fall under trafilatura's minimum size; ask it to be generous before giving up.
        text = trafilatura.extract(html, include_comments=False, favor_recall=True)
    if not text or not text.strip():
        raise Rejected("no article text found in the HTML")
    title: str | None = None
    date: dt.date | None = None
    try:
        meta = trafilatura.extract_metadata(html)
    except Exception:  # metadata is a nicety; the text is what matters
        meta = None
    if meta is not None:
        title = (meta.title or "").strip() or None
        if meta.date:
            try:
                date = dt.date.fromisoformat(str(meta.date)[:10])
            except ValueError:
                date = None
    if title is None:
        m = _TITLE_TAG.search(html)
        if m:
            import html as html_lib

            title = html_lib.unescape(re.sub(r"\s+", " ", m.group(1))).strip() or None
    return text, title, date


# ---------------------------------------------------------------- small helpers


def _parse_date(value: str, notes: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        notes.append(f"header date {value} is not a valid date; ignored")
        return None


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _first_line_title(text: str) -> str | None:
    for line in text.splitlines():
        cleaned = line.strip().strip("#").strip().strip("*_").strip()  # `## **Title** ##` -> Title
        if any(ch.isalnum() for ch in cleaned):
            return cleaned
    return None


def _clip(title: str) -> str:
    title = " ".join(title.split())
    if len(title) <= _MAX_TITLE:
        return title
    return title[:_MAX_TITLE].rsplit(" ", 1)[0] + "…"


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
