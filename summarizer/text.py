"""Text primitives shared by verify, reconcile, factcheck and merge: the one home of what a word is.

* :data:`WORD` — a word: letters with inner apostrophes and hyphens ("Kyiv's", "two-thirds").
* :data:`STOP_WORDS` — function words that carry no claim of their own; :data:`NUMBER_WORDS` — number
  words, whose meaning the number check owns.
* :func:`lemma` — simplemma's English lemma, cached ("prisoners" -> "prisoner", "freed" -> "free");
  :func:`is_proper` — whether the lexicon knows a word as a name.
* :func:`content_words` — the lemmas of a text's content words (cached per text); :func:`stem` and
  :func:`content_stems` — their Snowball stems, for derived forms a lemmatizer keeps apart.
* :data:`MARKER` and :func:`marker_ids` — citation markers as models write them: ``[1]``, ``[1, 2]``,
  ``[1][2]``, ``[^3]``, ``[2-4]``; :func:`cited_sentences` gives each sentence its markers, a marker
  after the full stop belonging to the sentence before it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def wordlist(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``, in order: how word lists are written here."""
    return tuple(text.split())


def wordset(text: str) -> frozenset[str]:
    return frozenset(wordlist(text))


STOP_WORDS = wordset(
    """a an and are as at be been being but by for from had has have having he her hers him his i in into is it
    its me my of on onto or our ours she that the their theirs them there these they this those to was we
    were which while who whom whose will would with not no nor also after before than then over under about
    more most some such up out all any each other per via new did do does done doing can could may might must
    shall should so if when where what how why because since during across between near both including said
    says say told according just very only even much many own same too yet here now still already being upon
    against among off down again further once am through throughout within without towards toward around
    behind beyond along amid despite anyone anybody anything everyone everybody everything someone somebody
    something else ever"""
)
CARDINALS = wordlist(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand
    million billion trillion"""
)
ORDINALS = wordlist(
    """first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth
    fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth fiftieth sixtieth
    seventieth eightieth ninetieth hundredth thousandth millionth"""
)
# Number words: their meaning is the number check's, so they are not content words.
NUMBER_WORDS = frozenset(CARDINALS + ORDINALS) | {"dozen", "half"}


def words(text: str) -> list[str]:
    """Words of ``text``; a hyphenated word also yields its parts ("four-storey": four-storey, four, storey)."""
    out: list[str] = []
    for w in WORD.findall(text):
        out.append(w)
        if "-" in w:
            out += [p for p in w.split("-") if p]
    return out


def normal(word: str) -> str:
    """Lower case, curly apostrophe made straight, possessive and edge punctuation dropped."""
    w = word.lower().replace("’", "'").strip("'-")
    return w[:-2] if w.endswith("'s") else w


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """simplemma's English lemma of ``word`` (normalised first). Cached: lookups dominate verify's cost."""
    import simplemma

    w = normal(word)
    return str(simplemma.lemmatize(w, lang="en")).lower() if w else w


@functools.lru_cache(maxsize=16384)
def is_proper(word: str) -> bool:
    """Whether a capitalised word is a name even at a sentence start: the lexicon spells its lemma
    capitalised ("Russia", "Saturday") or does not know it ("Gateshead"); "Former" is no name."""
    import simplemma

    w = normal(word)
    return not simplemma.is_known(w, lang="en") or str(simplemma.lemmatize(w, lang="en"))[:1].isupper()


def is_content(word: str) -> bool:
    w = normal(word)
    return len(w) > 2 and w not in STOP_WORDS and w not in NUMBER_WORDS


@functools.lru_cache(maxsize=65536)
def content_lemma(word: str) -> str:
    """The lemma of a content word, "" for any other word. Cached: every sentence read is read word by word."""
    return lemma(word) if is_content(word) else ""


@functools.lru_cache(maxsize=65536)
def stem(word_lemma: str) -> str:
    """The Snowball (Porter 2) stem of a lemma: ties what a lemmatizer keeps apart ("beginning" / "begin",
    "liberation" / "liberate"). Only ever a second chance after the lemmas differ."""
    return _stemmer().stemWord(word_lemma)


@functools.cache
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=16384)
def content_stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in content_words(text))


@functools.lru_cache(maxsize=16384)
def content_words(text: str) -> frozenset[str]:
    """Lemmas of the content words of ``text``. Cached: a sentence is read for every claim citing it."""
    return frozenset(map(content_lemma, words(text))) - _NOTHING


_NOTHING = frozenset({""})


@functools.lru_cache(maxsize=16384)
def word_forms(text: str) -> frozenset[str]:
    """The words of ``text`` lower-cased: a word of a claim found here has its lemma among ``text``'s (both
    are read from the lower-cased word), so most claims are checked before any lemma of ``text`` is made."""
    return frozenset(w.lower() for w in words(text))


# One citation marker: [1], [1, 2], [1; 3], [2-4], [^1]; several in a row are separate matches.
MARKER = re.compile(r"\[\^?(\d+)((?:\s*[,;–-]\s*\^?\d+)*)\]")
_MARKER_RUN = re.compile(r"^(?:\s*" + MARKER.pattern + r")+")


def marker_ids(text: str) -> list[int]:
    """Every id cited by the markers in ``text``, in order, ranges expanded ("[2-4]" -> 2, 3, 4)."""
    ids: list[int] = []
    for m in MARKER.finditer(text):
        prev = int(m.group(1))
        ids.append(prev)
        for sep, num in re.findall(r"\s*([,;–-])\s*\^?(\d+)", m.group(2)):
            n = int(num)
            ids += list(range(prev + 1, n + 1)) if sep in "–-" and n > prev else [n]
            prev = n
    return ids


def strip_markers(text: str) -> str:
    """``text`` without its markers (and without the space a marker leaves before punctuation)."""
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def cited_sentences(text: str, split: Callable[[str], list[tuple[int, int]]]) -> list[tuple[str, list[int]]]:
    """(sentence without markers, ids it cites) for each sentence of ``text``.

    Markers that open a sentence span ("x. [1] Next", "x.[1] Next") belong to the sentence before: that
    is how models and our own composed narrative place them ("… each. [1][2]").
    """
    out: list[tuple[str, list[int]]] = []
    for s, e in split(text):
        part = text[s:e]
        lead = _MARKER_RUN.match(part)
        if lead and out:
            out[-1][1].extend(marker_ids(lead.group(0)))
            part = part[lead.end() :]
        # A marker glued after the stop ("x.[1]") may open the next span or end this one.
        body = strip_markers(part)
        # A stray stop after a marker ('… Memorandum." [4].') is no sentence; a figure alone ("10,000.") is.
        if not re.search(r"[A-Za-z0-9]", body):
            continue
        out.append((body, marker_ids(part)))
    return out
