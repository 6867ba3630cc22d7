from __future__ import annotations

from conftest import AP, BBC

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
