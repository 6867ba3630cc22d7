from __future__ import annotations

import pytest
from conftest import AP, BBC, lee_corpus

from summarizer.load import load_inputs
from summarizer.models import Article
from summarizer.segment import segment, split_sentences


def _article(text: str) -> Article:
    return Article(id="a1", path="x.txt", title="t", text=text, sha256="0")


def test_offsets_index_the_text_exactly(seed_docs) -> None:  # type: ignore[no-untyped-def]
    for doc in seed_docs:
        assert len(doc.sentences) > 15
        for i, s in enumerate(doc.sentences):
            assert s.id == i
            assert doc.article.text[s.start : s.end] == s.text
            assert s.start >= doc.article.body_start


def test_header_line_is_not_a_sentence(seed_docs) -> None:  # type: ignore[no-untyped-def]
    for doc in seed_docs:
        assert not doc.sentences[0].text.startswith("date ")


def test_abbreviations_and_numbers_do_not_split() -> None:
    text = (
        "U.K. Foreign Secretary David Lammy posted online. Mr. Klitschko said 2.5 million people and "
        "1,000 soldiers were affected. The U.S. envoy arrived at 4.30pm."
    )
    spans = split_sentences(text)
    sentences = [text[s:e] for s, e in spans]
    assert sentences == [
        "U.K. Foreign Secretary David Lammy posted online.",
        "Mr. Klitschko said 2.5 million people and 1,000 soldiers were affected.",
        "The U.S. envoy arrived at 4.30pm.",
    ]


def test_quotes_stay_with_their_sentence() -> None:
    text = "“There are already 10 injured,” Kyiv Mayor Vitali Klitschko said early Sunday, per AP. Next one."
    doc = segment(_article(text))
    assert doc.sentences[0].text.startswith("“There are already 10 injured,”")
    assert doc.sentences[0].text.endswith("per AP.")
    assert doc.sentences[1].text == "Next one."


def test_real_seed_sentences() -> None:
    loaded = load_inputs([str(AP), str(BBC)])
    ap, bbc = (segment(a) for a in loaded.articles)
    assert any(s.text.startswith("U.K. Foreign Secretary") or "U.K. Foreign Secretary" in s.text for s in ap.sentences)
    assert any(
        s.text == "There were at least five people injured in the area, the administration said." for s in bbc.sentences
    )


def test_crlf_offsets() -> None:
    text = "First line here.\r\n\r\nSecond sentence is here. Third one!\r\n"
    doc = segment(_article(text))
    assert [s.text for s in doc.sentences] == ["First line here.", "Second sentence is here.", "Third one!"]
    for s in doc.sentences:
        assert text[s.start : s.end] == s.text


def _syntok_tokens(paragraph: str, offset: int) -> list[tuple[str, str, int]]:
    from syntok.tokenizer import Tokenizer

    tok = Tokenizer(replace_not_contraction=False)
    return [(t.spacing, t.value, t.offset) for t in tok.tokenize(paragraph, offset)]


def _ours(paragraph: str, offset: int) -> list[tuple[str, str, int]]:
    from summarizer.segment import tokens

    return [(t.spacing, t.value, t.offset) for t in tokens(paragraph, offset)]


def test_fast_tokenizer_gives_syntoks_tokens_on_real_texts() -> None:
    """Our tokenizer is syntok's with a fast path: the tokens (spacing, value, offset) must be the same."""
    texts = [AP.read_text(encoding="utf-8"), BBC.read_text(encoding="utf-8"), *lee_corpus()]
    for k, text in enumerate(texts):
        assert _ours(text, 0) == _syntok_tokens(text, 0)
        assert _ours(text, k % 7) == _syntok_tokens(text, k % 7)  # paragraphs after the first have offsets


def test_fast_tokenizer_gives_syntoks_tokens_on_awkward_text() -> None:
    import random

    rng = random.Random(15)
    pieces = [
        "word", "Word", "WORD", "iPhone", "McDonald", "x", "I", "307", "2.5", "1,000", "U.K.", "Mr.", "don't",
        "Kyiv's", "two-thirds", "e-mail", "a_b", "(", ")", "[1]", '"', "“Quote”", "‘s", "...", "end.", "end...",
        "?!", ";", ",", "—", "–", "-", "café", "Zürich", "naïve", "ʼn", "´", "\u00ad", "\u2010", "x\u200by",
        "10km", "F-16", "127th", "3pm.", "(a)", "end.)", ".”", "!!!", "½", "²", "٣", "中文", "ﬁ",
        '"Word,"', "(word)", "word...", "word...)", "word?!", "iPhone,", "(McDonald's", "A.", "AB", "aB.", "9a",
    ]  # fmt: skip
    # \x1c and \x1f are str.isspace() but not Unicode White_Space, which syntok splits on.
    spaces = [" ", "  ", "\n", "\t", "\u00a0", " \n ", "", "\x0b", "\x0c", "\r", "\x1c", "\x1f"]
    for _ in range(6000):
        n = rng.randint(1, 12)
        text = "".join(rng.choice(pieces) + rng.choice(spaces) for _ in range(n))
        offset = rng.choice([0, 0, 3])
        assert _ours(text, offset) == _syntok_tokens(text, offset), repr(text)


def test_sentences_are_syntoks_on_real_texts() -> None:
    """split_sentences is syntok's analyze, span for span."""
    from syntok import segmenter

    for text in [AP.read_text(encoding="utf-8"), BBC.read_text(encoding="utf-8"), *lee_corpus()]:
        expected = []
        for paragraph in segmenter.analyze(text):
            for sentence in paragraph:
                toks = list(sentence)
                if toks and text[toks[0].offset : toks[-1].offset + len(toks[-1].value)].strip():
                    expected.append((toks[0].offset, toks[-1].offset + len(toks[-1].value)))
        assert split_sentences(text) == expected


def test_sentence_states_are_syntoks_on_awkward_text() -> None:
    """Our state loop (segment.sentences) cuts syntok's tokens where syntok's own segmenter does: brackets
    (skipped or not, long or short), quotes after terminals, abbreviations, enumerations, lists."""
    import random

    from syntok import segmenter

    from summarizer.segment import sentences, tokens

    rng = random.Random(7)
    pieces = [
        "word", "Word", "The", "However", "he", "307", "1,000", "U.K.", "Mr.", "Dr.", "No.", "No", "1.", "a.",
        "IV.", "Jan.", "12", ".", "!", "?", "...", ";", ":", ",", "(", ")", "[", "]", "{", "}", '"', "'", "”",
        "(see", "above)", "(A. Author et al.)", "(This is one. It is two.)", "etc.", "e.g.", "i.e.", "x",
        "Kyiv", "said.", 'said."', "said.)", "(1)", "(a)", "-", "—", "2.5", "p.m.", "St.", "Fig.", "3pm.",
    ]  # fmt: skip
    long_bracket = "(" + " ".join(["Word"] * 30) + ". The end.)"
    for _ in range(4000):
        words = [rng.choice(pieces) for _ in range(rng.randint(1, 25))]
        if rng.random() < 0.05:
            words.insert(rng.randrange(len(words) + 1), long_bracket)
        text = " ".join(words)
        ours = [[(t.offset, t.value) for t in s] for s in sentences(iter(tokens(text)))]
        theirs = [[(t.offset, t.value) for t in s] for s in segmenter.segment(iter(tokens(text)))]
        assert ours == theirs, repr(text)


def test_one_sentence_fast_path_is_syntoks_span() -> None:
    """A text with no terminal, bracket or line break is one sentence without syntok's state machine (a
    headline, a claim, a summary sentence): the same span syntok gives, on pieces of real text and on
    awkward ones."""
    import random

    from summarizer.segment import _breaks, _syntok_spans

    rng = random.Random(12)
    texts = [AP.read_text(encoding="utf-8"), BBC.read_text(encoding="utf-8"), *lee_corpus()]
    pieces = []
    for text in texts:
        for _ in range(20):
            a = rng.randrange(len(text))
            piece = text[a : a + rng.randint(0, 160)]
            pieces += [piece, piece + rng.choice([".", "!", "?", "...", "?!", ". ", " t. ", '."', " U.S."])]
    words = ["Kyiv", "307", "1,000", "don't", "two-thirds", "café", "—", "-", ",", "“Quote”", "'", "´", "x\u200by"]
    spaces = [" ", "  ", "\t", "\u00a0", ""]
    pieces += ["".join(rng.choice(words) + rng.choice(spaces) for _ in range(rng.randint(1, 8))) for _ in range(2000)]
    fast = [p for p in pieces if p.strip() and p.lstrip()[0].isalnum() and _breaks().isdisjoint(p.rstrip(" .!?"))]
    assert len(fast) > 1500  # candidates for the path (one more mark inside, or an abbreviation, goes to syntok)
    for p in fast:
        for start in (0, min(2, len(p))):
            assert split_sentences(p, start) == _syntok_spans(p, start), repr(p)
    assert split_sentences("Ukraine war: 307 freed") == [(0, 22)]
    assert split_sentences("Russia and Ukraine swap 307 prisoners.") == [(0, 38)]
    assert split_sentences("   ") == [] and split_sentences("") == []


def test_syntoks_own_segmenter_runs_where_our_state_loop_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The state loop reads syntok's private names: under a syntok whose states differ (a missing name, or
    other cuts) segment.sentences falls back to syntok's own segmenter, with the same sentences."""
    from syntok import segmenter
    from syntok._segmentation_states import End

    from summarizer import segment as seg

    text = lee_corpus()[3]
    expected = split_sentences(text)

    def missing(state: object) -> object:
        raise AttributeError("_State__queue")

    def other_cuts(state: object) -> object:
        return End(iter(()), [], [])

    for broken in (missing, other_cuts):
        monkeypatch.setattr(seg, "_inner", broken)
        seg._states_fit.cache_clear()
        try:
            assert not seg._states_fit()
            assert split_sentences(text) == expected
            assert list(seg.sentences(iter(seg.tokens("One. Two.")))) == list(
                segmenter.segment(iter(seg.tokens("One. Two.")))
            )
        finally:
            seg._states_fit.cache_clear()
    monkeypatch.undo()
    assert seg._states_fit()
