"""The parts of a claim that can be wrong while its words look right: names, polarity, modality, speaker, roles.

All deterministic and built from the text itself (no NER model):

* **Entities.** Capitalised spans (and acronyms such as ``U.K.``) must be grounded in the cited text, or
  in the article when the cited text refers to them (a pronoun, a shared word such as a surname or "the
  ministry"). Spellings match through rapidfuzz and a consonant skeleton (Zelenskyy/Zelensky,
  Kyiv/Kiev), demonyms through shared stems (Ukraine/Ukrainian, Britain/British), acronyms through
  initials (U.N./United Nations) and a few country names (U.K./Britain). Honorifics (Mr, Dr) are not
  names.
* **Negation.** A claim may not add a negation its evidence lacks, nor drop one that governs a verb the
  claim states.
* **Modality.** "may close" does not support "will close" or "closed".
* **Attribution.** A speaker the claim names ("Russia said") must be a speaker in the cited text.
* **Roles.** Two names around a deed ("Russia freed 307 Ukrainians") may not stand the other way round in
  the cited text ("Ukraine freed 307 Russians").
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

from summarizer.text import STOP_WORDS, is_content, is_proper, lemma, normal, wordset

_TOKEN = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Za-z][A-Za-z'’-]*")
_HONORIFICS = wordset("""mr mrs ms miss dr sir dame lord lady prof st mx""")
_CONNECTORS = wordset("""of de van von der den al bin la le du da del""")
# Country names that share no letters with their usual abbreviation.
_ALIASES = {
    "uk": ("britain", "great britain", "united kingdom", "british"),
    "us": ("america", "united states", "american", "usa"),
    "usa": ("america", "united states", "american"),
    "utd": ("united",),
    "ii": ("second",),  # World War II / the Second World War
    "iii": ("third",),
}
_ALIAS_OF = {name: key for key, names in _ALIASES.items() for name in names}
_DEMONYM_SUFFIXES = ("ian", "ean", "an", "n", "ish", "ese", "i", "ic", "er", "ern")
_PERSON = re.compile(r"(?:wo)?m[ae]n$")
_PRONOUNS = wordset("""he she they it his her their its him them we our this these those who""")
_SENT_END = ".!?:\"“'‘(—–-"


@functools.lru_cache(maxsize=65536)
def _key(token: str) -> str:
    return normal(token).replace(".", "")


def _lower_cased(text: str) -> bool:
    """Text with no capitals at all (XSum's): a word the lexicon does not know is then taken for a name."""
    return not any(c.isupper() for c in text)


@functools.lru_cache(maxsize=8192)
def entity_spans(text: str) -> tuple[tuple[str, ...], ...]:
    """Runs of capitalised tokens (connectors such as "of" inside), as normalised tokens; honorifics dropped."""
    spans: list[list[str]] = []
    run: list[str] = []
    last_end = -10
    lowered = _lower_cased(text)
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        gap = text[last_end : m.start()]
        contiguous = last_end >= 0 and gap.strip() == "" and "\n" not in gap
        key = _key(tok)
        named = lowered and len(key) > 2 and "-" not in key and is_proper(key)
        capital = (tok[0].isupper() or named) and key not in STOP_WORDS
        if capital and not lowered:
            i = m.start() - 1
            while i >= 0 and text[i].isspace():  # the last character before it (no copy of the prefix)
                i -= 1
            initial = i < 0 or text[i] in _SENT_END
            if initial and not is_proper(tok):
                capital = False
        if capital and key not in _HONORIFICS:
            if not (run and contiguous):
                if run:
                    spans.append(run)
                run = []
            run.append(key)
        elif run and contiguous and key in _CONNECTORS and tok.islower():
            run.append(key)
        elif key in _HONORIFICS and tok[0].isupper():
            pass  # "Mr Klitschko": the title joins nothing
        else:
            if run:
                spans.append(run)
            run = []
        last_end = m.end()
    if run:
        spans.append(run)
    return tuple(tuple(t for t in s if t not in _CONNECTORS) for s in spans if any(t not in _CONNECTORS for t in s))


@functools.lru_cache(maxsize=4096)
def _vocabulary(text: str) -> tuple[frozenset[str], frozenset[str], str, tuple[str, ...]]:
    """(normalised tokens, their lemmas, lower-cased text, capitalised tokens) of an evidence text; its
    acronyms are :func:`_acronyms`, made only when a token is not found here (a whole article's names cost)."""
    toks = [m.group(0) for m in _TOKEN.finditer(text)]
    # "Saint-Germain" also grounds "Saint - Germain" (tokenised text) and "Germain".
    tok_keys = list(map(_key, toks))
    keys = frozenset(tok_keys) | frozenset(_key(p) for t in toks if "-" in t for p in t.split("-") if p)
    lowered = _lower_cased(text)
    caps = tuple(sorted({k for t, k in zip(toks, tok_keys, strict=True) if t[0].isupper() or (lowered and len(t) > 3)}))
    return keys, frozenset(map(lemma, keys)), " " + " ".join(tok_keys) + " ", caps


@functools.lru_cache(maxsize=4096)
def _token_forms(text: str) -> frozenset[str]:
    """The tokens of ``text`` lower-cased: the first, cheap test of :func:`token_grounded`."""
    return frozenset(t.lower() for t in _TOKEN.findall(text))


@functools.lru_cache(maxsize=4096)
def _acronyms(text: str) -> frozenset[str]:
    """The initials of the multi-word names of ``text`` ("Environment Agency" -> "ea")."""
    return frozenset("".join(s[0] for s in span) for span in entity_spans(text) if len(span) > 1)


@functools.cache
def _demonyms() -> dict[str, frozenset[str]]:
    """Each place's people and each people's place, both ways, lower-cased ("scottish" -> {"scotland"},
    "dutch" -> {"netherlands"}, "netherlands" -> {"dutch"}), from countryinfo's data: 256 countries and
    territories, Scotland and Wales among them. Read once, when a name is found no other way."""
    from countryinfo import CountryInfo

    pairs: dict[str, set[str]] = {"england": {"english"}, "english": {"england"}}  # not in its data
    for info in CountryInfo.all().values():
        place, people = _key(info.get("name") or ""), info.get("demonym") or ""
        for d in re.split(r"[,/]", people):
            d = " ".join(_key(t) for t in _TOKEN.findall(d))
            if place and d and d != place:
                pairs.setdefault(d, set()).add(place)
                pairs.setdefault(place, set()).add(d)
    return {k: frozenset(v) for k, v in pairs.items()}


def _skeleton(word: str) -> str:
    return word[0] + re.sub(r"[aeiouy]", "", word[1:]) if word else word


def _demonym(a: str, b: str) -> bool:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    if n < 4:
        return False
    ra, rb = a[n:], b[n:]
    return (ra in _DEMONYM_SUFFIXES or rb in _DEMONYM_SUFFIXES or ra + rb == "") and len(ra) <= 4 and len(rb) <= 4


def token_grounded(token: str, text: str) -> bool:
    """Whether a name token of a claim is stated by ``text`` in any of its usual spellings."""
    if token in _token_forms(text) and _key(token) == token:
        return True  # stated as written: a token's key is its lower-cased form's
    keys, lemmas, low, caps = _vocabulary(text)
    if token in keys or lemma(token) in lemmas or token in _acronyms(text):
        return True
    alias = _ALIAS_OF.get(token)
    names = _ALIASES.get(token, ()) + ((alias,) if alias else ()) + _ALIASES.get(alias or "", ())
    if any(f" {n} " in low for n in names):
        return True
    # A people for its place and back: Scottish / Scotland, Dutch / Netherlands, an Irishman / Ireland.
    people = (token, _PERSON.sub("", token))  # "irishman" -> irish; "german" is tried as written too
    if any(f" {n} " in low for p in people for n in _demonyms().get(p, ())):
        return True
    if len(token) < 4:
        return False
    from rapidfuzz import fuzz, process

    for cand, score, _ in process.extract(token, caps, scorer=fuzz.ratio, score_cutoff=60, limit=5):
        if score >= 85 and len(token) >= 5:
            return True  # Zelenskyy / Zelensky
        if score >= 70 and _skeleton(cand) == _skeleton(token):
            return True  # Kyiv / Kiev
        if _demonym(token, cand):
            return True  # Ukraine / Ukrainian
    for cand in caps:
        short, long = sorted((token, cand), key=len)
        short = short[:-1] if short.endswith("s") and not short.endswith("ss") else short  # Hibs; not Ross
        if len(short) >= 3 and len(long) >= len(short) + 3 and long.startswith(short):
            return True  # Hibs / Hibernian, Man / Manchester
    return False


def _refers(cited: str, span: Sequence[str], context: str) -> bool:
    """Whether the cited text points at an entity named elsewhere in the article: a pronoun, one of its words
    (a surname), or "the X" where X follows a mention of it in the article ("Russia's defence ministry" ...
    "the ministry")."""
    keys = _vocabulary(cited)[0]
    if keys & _PRONOUNS or _acronyms(cited) & _PRONOUNS or any(token_grounded(t, cited) for t in span):
        return True
    described = {lemma(w) for w in re.findall(r"(?i)\bthe\s+([a-z][\w'-]*)", cited)}
    if not described:
        return False
    toks = [_key(t) for t in _TOKEN.findall(context)]
    heads = {lemma(w) for i, t in enumerate(toks) if t in span for w in toks[i + 1 : i + 4]}
    return bool(described & heads)


def entity_problems(claim: str, cited: str, context: str = "") -> tuple[list[str], frozenset[str]]:
    """(problems, lemmas of the names that were grounded) for the names of ``claim``."""
    problems: list[str] = []
    grounded: set[str] = set()
    for span in entity_spans(claim):
        missing = [t for t in span if not token_grounded(t, cited)]
        # The article is read only when the cited text points at the name; the reason says which was read.
        read_article = bool(missing and context and _refers(cited, span, context))
        if read_article:
            missing = [t for t in missing if not token_grounded(t, context)]
        grounded.update(lemma(t) for t in span if t not in missing)
        if missing:
            where = "the cited text or the article" if read_article else "the cited text"
            problems.append(f"{' '.join(span)!r}: {', '.join(missing)} not in {where}")
    return problems, frozenset(grounded)


# ----------------------------------------------------------------------------- polarity

# Any of these in a claim whose evidence has no negation at all is an added negation. "No 1" / "No. 10" is a
# rank, not a negation.
_NO = r"no\b(?!\.?\s*\d)"
_NEG = re.compile(
    rf"(?i)\b(?:not|never|{_NO}|none|nobody|nothing|neither|nor|cannot)\b|n['’]t\b"
    r"|\b(?:den(?:y|ies|ied|ying)|fail(?:s|ed|ing)?\s+to|refus(?:e|es|ed|ing)\s+to)\b"
)
# A dropped negation is read only from these: "denied murder" or "without charge" govern too loosely.
_STRICT_NEG = re.compile(rf"(?i)\b(?:not|never|{_NO})\b|n['’]t\b")
_NEGATED = re.compile(rf"(?i)(?:\b(?:not|never|{_NO})\b|n['’]t\b).{{0,40}}")  # a cue and what it governs


def _governed(text: str, cue: re.Pattern[str]) -> set[str]:
    """Lemmas of the content words right after each ``cue`` (past auxiliaries): what it negates or hedges."""
    out: set[str] = set()
    for m in cue.finditer(text):
        for w in _TOKEN.findall(text[m.end() : m.end() + 40])[:4]:
            if is_content(w):
                out.add(lemma(w))
                break
    return out


def _quoted(claim: str, cue: re.Match[str], source: str) -> bool:
    """Whether the source states the claim's negated phrase word for word ("'Not long to go now'")."""
    phrase = _TOKEN.findall(claim[cue.start() : cue.end() + 30])[:3]
    return len(phrase) >= 2 and f" {' '.join(_key(t) for t in phrase)} " in _vocabulary(source)[2]


@functools.lru_cache(maxsize=16384)
def _negation(text: str) -> re.Match[str] | None:
    return _NEG.search(text)


# "No-one has invested more in Thiago than Guardiola" says "Guardiola has invested more than anyone": a negative
# subject of a comparative negates no verb when the claim compares with everyone.
_NONE_MORE = re.compile(
    r"(?i)\b(?:no[- ]?one|nobody|none|nothing)\b[^.;:]{0,60}?\b(?:more|less|fewer|better|worse|[a-z]{3,}er)\b"
    r"[^.;:]{0,60}?\bthan\b"
)
_THAN_ANY = re.compile(r"(?i)\bthan\s+(?:any(?:one|body|thing|\s+other)?|every(?:one|body|thing))\b")


def negation_problems(claim: str, cited: str, context: str = "", items: Sequence[str] = ()) -> list[str]:
    """A negation the claim adds (unless the cited text or the article states that negated phrase word for
    word), or one of the cited text's it drops from a verb the claim states. ``items`` are the cited sentences
    one by one: a verb one of them negates may be stated plainly by another that is at least as close to the
    claim ("to lose five derbies" beside "never lost five straight matches")."""
    claim_neg = _negation(claim)
    if claim_neg and not _negation(cited) and not _quoted(claim, claim_neg, f"{cited} {context}"):
        return [f"the claim says {claim_neg.group(0)!r}; the cited text states no negation"]
    if claim_neg:
        return []
    claim_lemmas = _vocabulary(claim)[1]
    if _THAN_ANY.search(claim):
        cited, items = _NONE_MORE.sub(" ", cited), [_NONE_MORE.sub(" ", t) for t in items]
    dropped = {w for w in _governed(cited, _STRICT_NEG) if w in claim_lemmas}
    if dropped and len(items) > 1:

        def overlap(text: str) -> int:
            return len(claim_lemmas & _vocabulary(text)[1])

        for w in list(dropped):
            negating = max((overlap(t) for t in items if w in _governed(t, _STRICT_NEG)), default=0)
            if any(overlap(t) >= negating and w in _vocabulary(_NEGATED.sub(" ", t))[1] for t in items):
                dropped.discard(w)
    if dropped:
        return [f"the cited text negates {', '.join(sorted(dropped))}; the claim does not"]
    return []


# ----------------------------------------------------------------------------- casualties

# Who died and who was hurt: news's most dangerous swap ("has died" where the sentence says "was seriously
# injured"), and a word apart, so a deterministic check can see it. Lemmas (text.lemma).
_DEATH = wordset("die dead death kill fatal fatally fatality drown deceased slay slain")
_HURT = wordset("injure injury wound hurt")


def _casualty_words(text: str) -> tuple[list[str], list[str]]:
    """(the death words of ``text``, its injury words), as written."""
    toks = _TOKEN.findall(text)
    return [t for t in toks if lemma(t) in _DEATH], [t for t in toks if lemma(t) in _HURT]


def casualty_problems(claim: str, cited: str) -> list[str]:
    """A death the cited text tells as an injury, or an injury it tells as a death: the claim's casualty
    words of one kind where the cited text has only the other. A negated claim ("no one was killed") is the
    negation check's."""
    if _negation(claim):
        return []
    died, hurt = _casualty_words(claim)
    if not died and not hurt:
        return []
    cited_died, cited_hurt = _casualty_words(cited)
    if died and cited_hurt and not cited_died:
        return [f"the claim says {died[0]!r}; the cited text says {cited_hurt[0]!r}, not that anyone died"]
    if hurt and not died and cited_died and not cited_hurt:
        return [f"the claim says {hurt[0]!r}; the cited text says {cited_died[0]!r}"]
    return []


# ----------------------------------------------------------------------------- modality

# Possibility, report, allegation or intent; lower case only ("May" is also a month). "would" is left out: in
# reported speech it is the future ("he said he would leave" -> "he will leave"). "more likely to" compares.
_INTENT = r"(?:want|hope|aim|plan|pledge|vow|promise|intend|threaten|propose|seek)(?:s|ed|d|ned)?\s+to|sought\s+to"
_HEDGE = re.compile(
    r"\b(?:may|(?i:might|could|possibly|perhaps|(?<!more\s)(?<!less\s)(?<!most\s)(?:un)?likely|probably|"
    r"reportedly|allegedly|alleged|suspected(?:\s+of)?|on\s+suspicion\s+of|accused\s+of|charged\s+with|"
    r"on\s+charges?|(?:believed|thought|said|understood|rumou?red)\s+to|considering|"
    rf"(?:is|are|was|were)\s+(?:expected|set)\s+to|{_INTENT}|if|unless|whether))\b"
)
# Before a word, these make it a noun ("the end") or an infinitive ("to launch"): no fact stated.
_NOT_STATED_AFTER = wordset("""the a an this that its their his her our your each every to""")
# Words one of which every hedge holds: most sentences have none, and the regex is costly (~60 µs a sentence).
_HEDGE_WORDS = wordset(
    """may might could possibly perhaps likely unlikely probably reportedly allegedly alleged suspected suspicion
    accused charged charge charges believed thought understood rumoured rumored considering expected set want
    wants wanted hope hopes hoped aim aims aimed plan plans planned pledge pledges pledged vow vows vowed promise
    promises promised intend intends intended threaten threatens threatened propose proposes proposed seek seeks
    sought if unless whether"""
)
_LOWER_WORD = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=16384)
def _hedged(text: str) -> bool:
    low = text.lower()
    if "said to" not in low and _HEDGE_WORDS.isdisjoint(_LOWER_WORD.findall(low)):
        return False
    return _HEDGE.search(text) is not None


def _as_verb(claim: str, word_lemma: str) -> bool:
    """Whether ``claim`` states a word of this lemma as a fact: not as a noun after a determiner ("the end"),
    nor as an infinitive ("the go-ahead to launch" states no launch)."""
    toks = _TOKEN.findall(claim)
    return any(
        lemma(t) == word_lemma and not (i and _key(toks[i - 1]) in _NOT_STATED_AFTER) for i, t in enumerate(toks)
    )


def modality_problems(claim: str, cited: str) -> list[str]:
    """A possibility in the evidence stated as a fact: the hedged word appears in the claim with no hedge."""
    if _hedged(claim) or not _hedged(cited):
        return []
    claim_lemmas = _vocabulary(claim)[1]
    for m in _HEDGE.finditer(cited):
        # A figure right after the hedge is what it hedges ("thought to be about 70,000 coins"): the number
        # check reads that hedge itself.
        window = re.split(r"\d", cited[m.end() : m.end() + 30], maxsplit=1)[0]
        for t in list(_TOKEN.finditer(window))[:3]:
            w = t.group(0)
            # A name after the hedge is who it is about ("if Israel agreed"), not what is hedged.
            if not is_content(w) or w[:1].isupper():
                continue
            if lemma(w) in claim_lemmas and _as_verb(claim, lemma(w)):
                said = " ".join(cited[m.start() : m.end() + t.end()].split())  # as written: "could be sold"
                return [f"the cited text says {said!r}; the claim states it as fact"]
            break
    return []


# ----------------------------------------------------------------------------- attribution

_SAY = (
    r"(?:said|says|say|told|announced|claimed|claims|stated|confirmed|reported|reports|added|insisted|warned|"
    r"answered|replied|wrote|tweeted|explained|argued|admitted|revealed|suggested|noted)"
)
_NAME = r"(?:[A-Z][\w'’.-]*\s+){0,4}[A-Z][\w'’.-]*"
_SPEAKER_BEFORE = re.compile(rf"({_NAME})\s+(?:has\s+|have\s+|had\s+)?{_SAY}\b")
# "according to X"; and inverted ", said X." (the name then ends the clause; "says Kendall has" is no speaker).
_SPEAKER_AFTER = re.compile(
    rf"\baccording\s+to\s+(?:the\s+)?({_NAME})|[,\"”’]\s*{_SAY}\s+(?:the\s+)?({_NAME})\s*(?=[.,;]|$)"
)
_SPEECH = re.compile(rf"\b(?:according\s+to|{_SAY})\b")
_CLAUSE_END = re.compile(r"[.!?][\"”’']?\s+")


def _last_sentence_start(text: str) -> int:
    """Where the last sentence of ``text`` starts: after its last full stop (or ! ?) and the space after it."""
    ends = list(_CLAUSE_END.finditer(text))
    return ends[-1].end() if ends else 0


@functools.lru_cache(maxsize=16384)
def _quotes_someone(text: str) -> bool:
    return _SPEECH.search(text) is not None


def speakers(text: str) -> list[list[str]]:
    """Named speakers of ``text`` (proper names only: "the Frenchman", "locals", "sources" are descriptions)."""
    out: list[list[str]] = []
    for rx in (_SPEAKER_BEFORE, _SPEAKER_AFTER):
        for m in rx.finditer(text):
            name = m.group(m.lastindex or 1)
            start = m.start(m.lastindex or 1)
            # A name runs across full stops ("U.S."), so one sentence's end may lead it: "… La Liga. They say".
            if rx is _SPEAKER_BEFORE:
                cut = _last_sentence_start(name)
                start, name = start + cut, name[cut:]
            span = [_key(t) for t in _TOKEN.findall(name) if is_proper(t)]
            span = [t for t in span if t not in _HONORIFICS and t not in STOP_WORDS]
            # "The Frenchman says": a description, like "the striker"; "the Kremlin said" names its speaker.
            described = (len(span) == 1 and span[0].endswith(("man", "men")) and
                         re.search(r"(?i)\bthe\s+\S+$", f" {text[:start]}{name}"))  # fmt: skip
            if span and not described:
                out.append(span)
    return out


def _subject_window(text: str, at: int) -> str:
    """The 40 characters before a speech verb, from its own sentence only: in "… top of La Liga. They say",
    "La Liga" is not who says."""
    window = text[max(0, at - 40) : at]
    return window[_last_sentence_start(window) :]


def _names_a_speaker(text: str) -> bool:
    """Whether a speech verb of ``text`` has a name in its subject ("Ukraine's air force said"), unlike "the
    council said" or "they say"."""
    return bool(speakers(text)) or any(entity_spans(_subject_window(text, m.start())) for m in _SPEECH.finditer(text))


def attribution_problems(claim: str, cited: str) -> list[str]:
    """The claim's named speaker must be named near a speech verb of the cited text (60 characters either side).
    When the cited text names no speaker ("the council said", "they say"), who spoke is the entity check's."""
    if not _quotes_someone(cited):
        return []  # the cited text quotes no one: the entity check covers the name
    said = speakers(claim) if _quotes_someone(claim) else []
    if not said:
        return []  # no speaker named
    regions = " ".join(cited[max(0, m.start() - 60) : m.end() + 60] for m in _SPEECH.finditer(cited))
    for span in said:
        if not any(token_grounded(t, regions) for t in span) and _names_a_speaker(cited):
            return [f"the claim attributes it to {' '.join(span)!r}; the cited text does not name them as its source"]
    return []


# ----------------------------------------------------------------------------- roles

# Verbs whose two sides may trade places ("Chelsea drew with Arsenal", "Russia and Ukraine exchanged").
_SYMMETRIC = wordset(
    """meet play draw face marry exchange swap trade tie talk agree sign fight clash join share split
    negotiate compete debate partner merge unite link compare match rival border neighbour"""
)
# Past forms that are verbs whatever follows (no tagger here: "season", "top" or "son" between two names is
# no deed). Regular pasts ("freed", "arrested") are read from their ending.
_PAST = wordset(
    """beat won lost hit shot struck caught sent sold bought led took gave told threw stole drove sank
    overtook overcame defeated"""
)
_NEAR = 5  # tokens from the verb to each name in the cited text (a number is no token)


def _acted(token: str) -> bool:
    return token in _PAST or (len(token) > 4 and token.endswith("ed") and is_content(token) and lemma(token) != token)


@functools.lru_cache(maxsize=8192)
def _placed(text: str) -> tuple[tuple[str, ...], tuple[tuple[int, tuple[str, ...]], ...], tuple[str, ...]]:
    """(token keys, (position, name) for each capitalised name, the tokens' lemmas) of ``text``; cached: a
    sentence is cited by several claims."""
    toks = tuple(_key(t) for t in _TOKEN.findall(text))
    out: list[tuple[int, tuple[str, ...]]] = []
    at = 0
    for span in entity_spans(text):
        for k in range(at, len(toks)):
            if toks[k] == span[0]:
                out.append((k, span))
                at = k + len(span)
                break
    return toks, tuple(out), tuple(lemma(t) for t in toks)


def _same_name(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two names are one (token_grounded's spellings), tried only where a spelling can meet: the same
    first letter, or an alias (U.K./Britain). Missing one can only keep the role check quiet."""
    if not set(a).isdisjoint(b):
        return True
    text = " ".join(b)
    initials = {n[:1] for n in b}
    return any((t[:1] in initials or t in _ALIAS_OF or t in _ALIASES) and token_grounded(t, text) for t in a)


def _in_order(low: str, first: str, deeds: Sequence[str], second: str) -> bool:
    """Whether lower-cased ``low`` has ``first``, then one of ``deeds``, then ``second`` (plain searches)."""
    at = low.find(first)
    if at < 0:
        return False
    for deed in deeds:
        k = low.find(deed, at + len(first))
        if k >= 0 and low.find(second, k + len(deed)) >= 0:
            return True
    return False


def role_problems(claim: str, cited: Sequence[str]) -> list[str]:
    """Who did what to whom: two names on either side of a deed, the other way round in the cited text and
    never the claim's way ("Russia freed 307 Ukrainians" from "Ukraine freed 307 Russians"). Passives ("by")
    and verbs whose sides may trade places are left alone."""
    toks, names, _ = _placed(claim)
    if len(names) < 2 or "by" in toks:
        return []
    for (i, a), (j, b) in itertools.pairwise(names):
        deeds = [t for t in toks[i + len(a) : j] if _acted(t) and lemma(t) not in _SYMMETRIC]
        if not deeds or any(_in_order(text.lower(), a[0], deeds, b[0]) for text in cited):
            continue  # no deed, or a cited sentence has it the claim's way word for word (most claims)
        if _same_name(a, b) or _same_name(b, a):
            continue
        verbs = {lemma(t) for t in deeds}
        straight: set[str] = set()
        swapped: set[str] = set()
        for text in cited:
            etoks, enames, lemmas = _placed(text)
            if "by" in etoks:
                continue
            for k, w in enumerate(lemmas):
                if w not in verbs:
                    continue
                # Only names close on both sides: "the goals that Rayo have scored this season have come from
                # Bueno" is no "Rayo scored Bueno".
                before = [n for p, n in enames if k - _NEAR <= p < k]
                after = [n for p, n in enames if k < p <= k + _NEAR]
                if not before or not after:
                    continue
                if any(_same_name(a, n) for n in before) and any(_same_name(b, n) for n in after):
                    straight.add(w)
                if any(_same_name(b, n) for n in before) and any(_same_name(a, n) for n in after):
                    swapped.add(w)
        for v in sorted(swapped - straight):
            return [
                f"who did what is swapped: the claim has {' '.join(a)!r} … {v} … {' '.join(b)!r}, "
                f"the cited text {' '.join(b)!r} … {v} … {' '.join(a)!r}"
            ]
    return []


# A person's age where it is bound to the name: "Abdelkrim Elmezayen, 8," and "the 13-year-old brother,
# identified as Abdelkrim Elmezayen" (a name right after "N-year-old" and up to three lower-case words). The
# ages are the number check's own (quantities: unit "age"); only the name they are bound to is read here.
_AGED_NAME = r"((?:[A-Z][a-z'’-]+[ \t]+){0,2}[A-Z][a-z'’-]+)"
_NAME_THEN_AGE = re.compile(_AGED_NAME + r",[ \t]+$")  # before an age in apposition
# After "N-year-old": no preposition between ("a 25-year-old man from Sheffield" ages no city).
_AGE_THEN_NAME = re.compile(
    r"[ \t]+(?:(?!(?:from|in|of|at|on|to|for|with|and|or)\b)[a-z]+[ \t]+){0,3}?" + _AGED_NAME
    + r"|[^.]{0,40}?\bidentified[ \t]+as[ \t]+" + _AGED_NAME
)  # fmt: skip


def _ages_of(text: str) -> dict[str, set[float]]:
    """Surname -> the ages ``text`` binds to it."""
    from summarizer.quantities import cached_quantities

    out: dict[str, set[float]] = {}
    for q in cached_quantities(text):
        if q.unit != "age":
            continue
        if q.text.endswith("old"):  # "13-year-old": the name after
            m = _AGE_THEN_NAME.match(text, q.end) if "-" in q.text else None
            name = (m.group(1) or m.group(2)) if m else None
        else:  # ", 8,": the name before ("aged 22" binds none)
            m = _NAME_THEN_AGE.search(text, max(0, q.start - 80), q.start) if text[q.end : q.end + 1] == "," else None
            name = m.group(1) if m and not q.text.startswith("aged") else None
        if name is not None:
            out.setdefault(name.split()[-1], set()).add(q.value)
    return out


def age_problems(claim: str, cited: str) -> list[str]:
    """An age given to the wrong person: the claim binds an age to a name the cited text binds only other
    ages to ("Abdelkrim Elmezayen, 8," where Abdelkrim is the 13-year-old and the eight-year-old his brother)."""
    claimed = _ages_of(claim)
    if not claimed:
        return []
    stated = _ages_of(cited)
    for name, ages in claimed.items():
        if name in stated and not ages & stated[name]:
            said = ", ".join(f"{a:g}" for a in sorted(stated[name]))
            return [f"the claim makes {name} {', '.join(f'{a:g}' for a in sorted(ages))}; the cited text says {said}"]
    return []
