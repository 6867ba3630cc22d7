"""segment: split an article into sentences with exact character offsets.

syntok does the hard part (abbreviations such as Mr. and U.K., decimals, thousands separators,
quotes); we only turn its tokens back into spans of the original text.

syntok's tokenizer is most of its cost (~4 µs a token: a generator and a Unicode regex per word).
:func:`tokens` gives the same tokens with a fast path for the common case, a plain ASCII word with
only edge punctuation; every other word goes through syntok's own code. :func:`sentences` runs
syntok's sentence states with the step over a plain inner word done in a loop. ``tests/test_segment.py``
compares both with syntok on real texts and on generated awkward ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from syntok._segmentation_states import Begin, End, InnerToken, State
from syntok.tokenizer import Token, Tokenizer

from summarizer.models import Article, Document, Sentence

# A lower-case letter followed by a capital: syntok splits the word there ("iPhone"), so no fast path.
_CASE_TURN = re.compile(r"[a-z][A-Z]")
_TOKENIZER: list[Tokenizer] = []


def _tokenizer() -> Tokenizer:
    if not _TOKENIZER:
        _TOKENIZER.append(Tokenizer(replace_not_contraction=False))  # as segmenter.analyze makes it
    return _TOKENIZER[0]


def tokens(paragraph: str, base_offset: int = 0) -> list[Token]:
    """``list(Tokenizer(replace_not_contraction=False).tokenize(paragraph, base_offset))``, faster.

    The loop is syntok's ``Tokenizer.tokenize``; a word that is ASCII letters and digits without a
    lower-to-upper turn is the one case done here (syntok's separator regex cannot match inside it).
    In an ASCII paragraph one stdlib regex finds such chunks with their edge punctuation.
    """
    text = " " * base_offset + paragraph if base_offset > 0 else paragraph
    out: list[Token] = []
    append = out.append
    offset = base_offset
    if not text.isascii():
        for mo in type(_tokenizer())._spaces.finditer(text):
            _chunk(text, offset, mo.start(), mo.end(), out)
            offset = mo.end()
    else:
        for mo in _ASCII_CHUNK.finditer(text):
            prefix, word, tail = mo.groups()
            m_start, m_end = mo.span()
            if word is None or (
                not (word.islower() or word[1:].islower() or word.isupper() or word.isdigit())
                and _CASE_TURN.search(word)
            ):
                _chunk(text, offset, m_start, m_end, out)
            else:
                start = m_start + len(prefix)
                if prefix:
                    out.extend(_prefix_tokens(text, offset, m_start, start))
                    offset = start
                append(Token(text[offset:start], word, start))
                if len(tail) == 1:  # a comma or a full stop: most tails
                    append(Token("", tail, start + len(word)))
                elif tail:
                    _tail(tail, start + len(word), out)
            offset = m_end
    if offset < len(text):
        append(Token(text[offset:], "", len(text)))
    return out


# An ASCII chunk between white space: edge punctuation around letters and digits (groups 1-3), or any
# other chunk (no groups). syntok's \s is Unicode White_Space: in ASCII, these six.
_ASCII_CHUNK = re.compile(
    r"([^A-Za-z0-9 \t\n\v\f\r]*)([A-Za-z0-9]+)([^A-Za-z0-9 \t\n\v\f\r]*)(?![^ \t\n\v\f\r])|[^ \t\n\v\f\r]+"
)


def _chunk(text: str, offset: int, m_start: int, m_end: int, out: list[Token]) -> None:
    """The tokens of one white-space-separated chunk ``text[m_start:m_end]``, as syntok makes them."""
    start = m_start
    while start < m_end and not text[start].isalnum():
        start += 1
    if start == m_end:
        out.append(Token(text[offset:m_start], text[m_start:m_end], m_start))
        return
    end = m_end
    while end > start and not text[end - 1].isalnum():
        end -= 1
    if start > m_start:
        out.extend(_prefix_tokens(text, offset, m_start, start))
        offset = start
    word = text[start:end]
    if word.isascii() and word.isalnum() and _CASE_TURN.search(word) is None:
        out.append(Token(text[offset:start], word, start))
    else:
        out.extend(_tokenizer()._split_word(text[offset:start], word, start))
    if end < m_end:
        _tail(text[end:m_end], end, out)


def _tail(tail: str, end: int, out: list[Token]) -> None:
    """syntok's tokens for the symbols after a word: "..." as one, then one per symbol."""
    if tail.startswith("..."):
        out.append(Token("", "...", end))
        end += 3
        tail = tail[3:]
    out.extend(Token("", c, idx + end) for idx, c in enumerate(tail))


def _prefix_tokens(text: str, offset: int, m_start: int, start: int) -> Iterator[Token]:
    """syntok's ``_split_nonword_prefix``: one token per symbol before the word."""
    for i, c in enumerate(text[m_start:start]):
        yield Token(text[offset:m_start] if i == 0 else "", c, m_start + i)


@functools.cache
def _breaks() -> frozenset[str]:
    """What can end a sentence for syntok (its terminals and brackets) or a paragraph: a text with none of
    them is one sentence, as syntok finds it (tests/test_segment.py compares the two on corpus text)."""
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


@functools.cache
def _stops() -> tuple[frozenset[str], frozenset[str]]:
    """(the tokens that end InnerToken's moves: terminals and opening brackets; the opening brackets)."""
    return State.terminals | State.opening_brackets | {"("}, State.opening_brackets


def sentences(stream: Iterator[Token]) -> Iterator[list[Token]]:
    """``syntok.segmenter.segment(stream)``, by :func:`_own_states` where this syntok's states are the ones
    it reads, else by syntok itself."""
    if _states_fit():
        return _own_states(stream)
    from syntok import segmenter

    return segmenter.segment(stream)


@functools.cache
def _states_fit() -> bool:
    """Whether :func:`_inner` can read this syntok's states (private names; syntok is pinned, but a newer
    one may be installed): on a paragraph that takes each path, it must cut where syntok does."""
    from syntok import segmenter

    sample = 'Mr. Smith (see the U.K. report above) said "no." (It was 5 p.m. Jan. 3.) Then: rain! No. 10 agreed'
    try:
        ours = [[t.offset for t in s] for s in _own_states(iter(tokens(sample)))]
    except (AttributeError, TypeError):
        return False
    return ours == [[t.offset for t in s] for s in segmenter.segment(iter(tokens(sample)))]


def _own_states(stream: Iterator[Token]) -> Iterator[list[Token]]:
    """``syntok.segmenter.segment(stream)``, faster: syntok's states, with its inner-word step run in a loop.

    Most tokens are words inside a sentence, where syntok's ``InnerToken`` state only moves one token
    from the queue to the history (~10 property calls and a generator turn each); :func:`_inner` does
    those moves in one loop and hands every other step to syntok's own code.
    """
    state: State | None = Begin(stream)
    while state is not None:
        if state.at_sentence:
            history = state.collect_history()
            if history and (len(history) > 1 or history[0].value):
                yield history
        state = _inner(state) if type(state) is InnerToken else next(state, None)


def _inner(state: State) -> State:
    """What ``InnerToken.__next__`` returns once it stops returning itself: the moves over plain tokens
    in one loop, then syntok's terminal step (or ``End``). Reads syntok's private queue and history,
    as its states share them (syntok is pinned; tests compare the result with syntok's on real text)."""
    stops, opening = _stops()
    stream = state._State__stream
    history = state._State__history
    while True:
        queue: list[Token] = state._State__queue  # _skip_bracketed_text swaps it
        if not queue:
            t = next(stream, None)
            if t is None:
                return End(stream, queue, history)
            queue.append(t)
        # _move_and_skip_bracketed_text, reading Token._value (its property costs a call)
        if len(queue) == 1:  # the usual queue: the next token takes the moved one's place
            history.append(queue[0])
            t = next(stream, None)
            if t is None:
                queue.pop()
                continue  # syntok returns itself here; its next step finds the stream empty: End
            queue[0] = t
        else:
            history.append(queue.pop(0))
        if queue[0]._value in stops:
            if queue[0]._value in opening:
                state._skip_bracketed_text()
                queue = state._State__queue
                if not queue:
                    t = next(stream, None)
                    if t is None:
                        continue
                    queue.append(t)
                if queue[0]._value not in stops:
                    continue
            return state._move_and_maybe_extract_terminal()


def _syntok_spans(text: str, start: int) -> list[tuple[int, int]]:
    from syntok import segmenter

    spans: list[tuple[int, int]] = []
    # segmenter.analyze, with our tokenizer and state loop: paragraphs, then syntok's sentence states.
    for p_offset, paragraph in segmenter.preprocess_with_offsets(text[start:]):
        for sentence in sentences(iter(tokens(paragraph, p_offset))):
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
