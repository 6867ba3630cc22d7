"""segment: split an article into sentences with exact character offsets.

syntok does the hard part (abbreviations such as Mr. and U.K., decimals, thousands separators,
quotes); we only turn its tokens back into spans of the original text.
"""

from __future__ import annotations

from collections.abc import Iterator

from summarizer.models import Article, Document, Sentence


def split_sentences(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in ``text[start:]``, as offsets into ``text``."""
    from syntok import segmenter

    spans: list[tuple[int, int]] = []
    for paragraph in segmenter.analyze(text[start:]):
        for sentence in paragraph:
            tokens = list(sentence)
            if not tokens:
                continue
            first, last = tokens[0], tokens[-1]
            # syntok's token offset points at the token value; its prefix is the preceding whitespace.
            s = start + first.offset
            e = start + last.offset + len(last.value)
            if text[s:e].strip():
                spans.append((s, e))
    return spans


def _merge_fragments(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Glue a closing-quote/bracket-only fragment back onto the sentence before it."""
    pending: tuple[int, int] | None = None
    for s, e in spans:
        if pending is not None and not any(ch.isalnum() for ch in text[s:e]):
            pending = (pending[0], e)
            continue
        if pending is not None:
            yield pending
        pending = (s, e)
    if pending is not None:
        yield pending


def segment(article: Article) -> Document:
    """Number the body's sentences from 0; these ids are what the LLM cites."""
    spans = list(_merge_fragments(article.text, split_sentences(article.text, article.body_start)))
    sentences = [Sentence(id=i, start=s, end=e, text=article.text[s:e]) for i, (s, e) in enumerate(spans)]
    return Document(article=article, sentences=sentences)
