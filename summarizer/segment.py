"""segment: split an article into sentences with exact character offsets.

syntok does the hard part (abbreviations such as Mr. and U.K., decimals, thousands separators,
quotes); we only turn its tokens back into spans of the original text.

syntok's tokenizer is most of its cost (~4 µs a token: a generator and a Unicode regex per word).
:func:`tokens` gives the same tokens with a fast path for the common case, a plain ASCII word with
only edge punctuation; every other word goes through syntok's own code. ``tests/test_segment.py``
compares the two on real texts and on generated awkward ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from summarizer.models import Article, Document, Sentence

if TYPE_CHECKING:
    from syntok.tokenizer import Token, Tokenizer

# A lower-case letter followed by a capital: syntok splits the word there ("iPhone"), so no fast path.
_CASE_TURN = re.compile(r"[a-z][A-Z]")
_TOKENIZER: list[Tokenizer] = []


def _tokenizer() -> Tokenizer:
    if not _TOKENIZER:
        from syntok.tokenizer import Tokenizer

        _TOKENIZER.append(Tokenizer(replace_not_contraction=False))  # as segmenter.analyze makes it
    return _TOKENIZER[0]


def tokens(paragraph: str, base_offset: int = 0) -> list[Token]:
    """``list(Tokenizer(replace_not_contraction=False).tokenize(paragraph, base_offset))``, faster.

    The loop is syntok's ``Tokenizer.tokenize``; a word that is ASCII letters and digits without a
    lower-to-upper turn is the one case done here (syntok's separator regex cannot match inside it).
    """
    from syntok.tokenizer import Token

    tok = _tokenizer()
    cls = type(tok)
    text = " " * base_offset + paragraph if base_offset > 0 else paragraph
    out: list[Token] = []
    append = out.append
    offset = base_offset
    for mo in cls._spaces.finditer(text):
        m_start, m_end = mo.span()
        start = m_start
        while start < m_end and not text[start].isalnum():
            start += 1
        if start == m_end:
            append(Token(text[offset:m_start], mo.group(0), m_start))
            offset = m_end
            continue
        end = m_end
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if start > m_start:
            out.extend(_prefix_tokens(text, offset, m_start, start))
            offset = start
        word = text[start:end]
        if word.isascii() and word.isalnum() and _CASE_TURN.search(word) is None:
            append(Token(text[offset:start], word, start))
        else:
            out.extend(tok._split_word(text[offset:start], word, start))
        tail = text[end:m_end]
        if tail.startswith("..."):
            append(Token("", "...", end))
            end += 3
            tail = tail[3:]
        for idx, c in enumerate(tail):
            append(Token("", c, idx + end))
        offset = m_end
    if offset < len(text):
        append(Token(text[offset:], "", len(text)))
    return out


def _prefix_tokens(text: str, offset: int, m_start: int, start: int) -> Iterator[Token]:
    """syntok's ``_split_nonword_prefix``: one token per symbol before the word."""
    from syntok.tokenizer import Token

    for i, c in enumerate(text[m_start:start]):
        yield Token(text[offset:m_start] if i == 0 else "", c, m_start + i)


@functools.cache
def _breaks() -> frozenset[str]:
    """What can end a sentence for syntok (its terminals and brackets) or a paragraph: a text with none of
    them is one sentence, as syntok finds it (tests/test_segment.py compares the two on corpus text)."""
    from syntok._segmentation_states import State

    marks = State.terminals | State.opening_brackets | State.closing_brackets
    return frozenset({c for c in marks if len(c) == 1} | {"\n", "\r"})


def split_sentences(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in ``text[start:]``, as offsets into ``text``."""
    body = text[start:]
    core = body.rstrip()
    if not core:
        return []
    lead = len(body) - len(body.lstrip())
    # A headline, a short claim: no state machine needed when nothing but its last marks can end a
    # sentence. It must start with a letter or digit (syntok takes some characters, a zero-width space,
    # for spacing). The span runs to the text's end (trailing white space ends in an empty token there),
    # except after a final mark, which syntok may read as an abbreviation's ("t. "): that goes to syntok.
    if body[lead].isalnum() and _breaks().isdisjoint(core.rstrip(".!?")) and (core == body or core[-1] not in ".!?"):
        return [(start + lead, len(text))]
    return _syntok_spans(text, start)


def _syntok_spans(text: str, start: int) -> list[tuple[int, int]]:
    from syntok import segmenter

    spans: list[tuple[int, int]] = []
    # segmenter.analyze, with our tokenizer: paragraphs, then syntok's sentence state machine.
    for p_offset, paragraph in segmenter.preprocess_with_offsets(text[start:]):
        for sentence in segmenter.segment(iter(tokens(paragraph, p_offset))):
            if not sentence:
                continue
            first, last = sentence[0], sentence[-1]
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
