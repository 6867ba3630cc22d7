"""Reconcile the verified facts of one story across its sources, quantity by quantity.

Rules (all deterministic):

* Two quantities state *the same figure* when :func:`summarizer.quantities.relation` calls them
  ``same`` or ``equivalent`` and they count the same thing: the counted words (the words right after
  the number, plus an event word just before it such as "injuring") share a crude stem, e.g.
  "14 ballistic missiles" ~ "14 missiles" but not "14 people". When the counted words differ
  ("307 prisoners" vs "307 soldiers") only a distinctive figure links them (exact, >= 100, not a
  multiple of 50: 307, 390, 245; not 250 or 1,000); when they are missing, a distinctive figure or
  similar wording (Jaccard of content stems >= ``CONTEXT_LINK``) does.
* Two facts are linked when, from different articles, they share such a figure or state the same
  event (same names, most of the smaller fact's content words: :func:`same_event`); from one article,
  when one nearly repeats the other (:func:`near_duplicate`). Linked facts merge into one
  :class:`BriefFact` carrying every citation, provided one side states every counted figure of the
  other (so the text shown loses nothing) and nothing in them contradicts: facts whose figures differ
  stay apart and feed the conflicts. The text shown is the covering fact's; when both cover each
  other, the shorter one's (on a tie the first: articles in natural id order a1, a2, ..., a10).
* Each counted figure of a fact lists the sources that state it (``BriefFact.figures``), from every
  fact of the story: a merged sentence may carry figures only one source gives.
* Two quantities from different articles with the same counted words that ``relation`` calls
  ``different`` are a :class:`Conflict` ("10 injured" vs "at least 15 people injured") when they count
  an event (injured, killed, missing) or the two facts are worded alike (>= ``CONFLICT_CONTEXT``):
  "307 prisoners returned" vs "1,000 prisoners to be swapped" are two figures, not a contradiction.
  Bounds are ``relation``'s job: "at least 15" vs 18 is compatible, not a conflict.
* Years, dates, times and ordinals are not counted quantities: no merges or conflicts are built on them.
* Facts are ranked (:func:`rank_key`): corroboration, conflict involvement, figures, position in the
  article, recency; ids f1, f2, ... follow that rank. Citations are kept as verified (deduplicated).
* A source sentence that no fact of its article quotes (``support``) may join another source's fact by
  the same rules, adding its source and citation; it never becomes a fact of its own.
* Near-linear work: facts are indexed by (quantity kind, counted noun), by distinctive figure and by
  their rarest words; only facts sharing an index bucket are compared, and a bucket compares with at
  most ``BUCKET_CAP`` groups. ``ReconcileStats`` counts the comparisons.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from summarizer.models import (
    Agreement,
    Article,
    ArticleResult,
    BriefFact,
    Citation,
    Conflict,
    ConflictValue,
    Document,
    Fact,
    Figure,
    FigureMention,
)
from summarizer.quantities import ROUNDING_LIMIT, TOKEN_KINDS, relation
from summarizer.text import STOP_WORDS, WORD, lemma, normal, wordset

if TYPE_CHECKING:
    from summarizer.quantities import Quantity

_NOT_COUNTED = frozenset(TOKEN_KINDS)  # matched by value, never counted
DISTINCTIVE_SIG_DIGITS = 3
# Jaccard of content stems above which a round figure with unknown counted words still links two facts.
CONTEXT_LINK = 0.25
# Same counted words but not an event count: the facts must be worded this alike to contradict.
CONFLICT_CONTEXT = 0.3
# Same event from two sources: this share of the smaller fact's content stems is in the other, and at
# least SHARED_STEMS of them (measured on the seeds and the ABC texts: benchmarks/bench_glance.py).
SAME_EVENT = 0.75
SHARED_STEMS = 4
# ... or this share with a run of this many content words in the same order.
PHRASE_SHARE = 0.5
PHRASE_RUN = 4
# One source repeating itself (a title line and its first sentence): nearly all of the smaller fact.
NEAR_DUPLICATE = 0.85
# Index buckets: each item is filed under its rarest content stems too, and a bucket offers at most
# this many groups to compare with (the newest), which bounds the work on a story of any size.
RARE_STEMS = 4
BUCKET_CAP = 24
# Distinct values kept per (counted thing, value) when looking for contradictions.
PER_VALUE = 3

# ---------------------------------------------------------------- text primitives (one place)

_WORD = WORD
_BOUNDARY = re.compile(r"[,.;:!?()\[\]\"“”—–]")
# Words that end the counted phrase ("307 prisoners of war" -> "prisoners").


_words = wordset
_STOP = STOP_WORDS
_BE = _words("were was are is been being be have has had reportedly already now still more than")
# Modifiers and generic heads that say nothing about *what* is counted.
_GENERIC = _words(
    """people person persons others other individuals more additional further some about around total
    another new already least most"""
)
# Crude canonical forms for the things news reports count; everything else is crudely stemmed.
_CANON = {
    **dict.fromkeys(["injured", "injuring", "injuries", "injury", "wounded", "wounding", "hurt"], "injured"),
    **dict.fromkeys(["killed", "killing", "dead", "died", "deaths", "death", "fatalities", "kill"], "killed"),
    **dict.fromkeys(["prisoners", "prisoner", "pows", "pow", "detainees", "captives"], "prisoners"),
    **dict.fromkeys(["missing"], "missing"),
}
_EVENT = frozenset({"injured", "killed", "missing"})


@functools.lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    w = normal(word)
    return _CANON.get(w) or lemma(w)


_STOP_OR_GENERIC = _STOP | _GENERIC


@dataclass(frozen=True)
class EventTerms:
    """What :func:`same_event` compares: content stems, the names among them, and their order."""

    stems: frozenset[str]
    names: frozenset[str]
    sequence: tuple[str, ...]


# text.WORD of three letters or more: the words event_terms keeps (a shorter run matches nothing at all).
_EVENT_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]{2,}")


@functools.lru_cache(maxsize=65536)
def _event_stem(word: str) -> str | None:
    """The stem ``event_terms`` keeps for a word of three letters or more; None for a stop or generic word."""
    return None if word.lower() in _STOP_OR_GENERIC else _stem(word)


@functools.lru_cache(maxsize=65536)
def event_terms(text: str) -> EventTerms:
    # Memoised (EventTerms is frozen): wire copies and support sentences repeat a story's texts.
    # One pass over the words: this runs for every fact and support sentence of every story.
    sequence: list[str] = []
    names: set[str] = set()
    # A word at the very start of the text is no name for being capitalised.
    first = 1 if _EVENT_WORD.match(text) is not None else 0
    for k, w in enumerate(_EVENT_WORD.findall(text)):
        s = _event_stem(w)
        if s is None:
            continue
        sequence.append(s)
        if k >= first and w[0].isupper():
            names.add(s)
    return EventTerms(frozenset(sequence), frozenset(names), tuple(sequence))


def _jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


# ---------------------------------------------------------------- mentions and items


def _counted(text: str, q: Quantity) -> tuple[frozenset[str], str, int]:
    """Stems of what ``q`` counts, a readable label ("injured", "ballistic missiles"), and where the
    figure's phrase ends in ``text`` ("14 ballistic missiles", "307 more soldiers", "six missiles")."""
    stems: list[str] = []
    shown: list[str] = []
    phrase_end = q.end
    open_phrase = True

    def add(word: str) -> None:
        s = _stem(word)
        if s not in stems:
            stems.append(s)
            shown.append(s if s in _EVENT or s == "prisoners" else word.lower())

    after = text[q.end :]
    cut = _BOUNDARY.search(after)
    taken = 0
    for m in _WORD.finditer(after[: cut.start()] if cut else after):
        w = m.group().lower()
        if w in _BE or w in _GENERIC:
            continue  # "10 people were injured", "307 more soldiers"
        if w in _STOP or taken >= 3:
            break
        if open_phrase:
            phrase_end = q.end + m.end()
            # The phrase stops at a plural noun, a participle or after two words: "250 Shahed drones",
            # "117 thwarted", "1,000-kilometer front line".
            verb = m.group()[0].islower() and w.endswith(("ed", "ing"))
            open_phrase = taken < 1 and not (len(w) > 3 and (w.endswith("s") or verb))
        add(m.group())
        taken += 1
    before = _WORD.findall(text[: q.start])
    if before and _stem(before[-1]) in _EVENT:  # "injuring at least five people"
        add(before[-1])
    return frozenset(stems), " ".join(w for w in shown), phrase_end


@functools.lru_cache(maxsize=65536)
def _fact_figures(
    text: str,
) -> tuple[tuple[tuple[Quantity, frozenset[str], str, int], ...], tuple[str, ...], tuple[tuple[object, ...], ...]]:
    """A fact text's counted figures (quantity, counted stems, label, phrase end), its other figures as
    written, and its figure buckets; memoised per text: wire copies and support sentences repeat a story's
    texts."""
    from summarizer.quantities import cached_quantities

    counted: list[tuple[Quantity, frozenset[str], str, int]] = []
    other: list[str] = []
    for q in cached_quantities(text):
        if q.kind in _NOT_COUNTED:
            other.append(q.text)
        else:
            counted.append((q, *_counted(text, q)))
    return tuple(counted), tuple(other), _figure_keys(counted)


@dataclass(eq=False)
class _Mention:
    q: Quantity
    key: frozenset[str]
    label: str
    phrase_end: int  # end of "six missiles" in the fact's text
    # _same_thing against other mentions of this reconcile call, by id(other): the pair loops ask again and again.
    same: dict[int, str | None] = field(default_factory=dict, repr=False)

    @property
    def sig(self) -> tuple[object, ...]:
        q = self.q
        return (q.kind, q.unit, q.qualifier, q.value, q.low, q.high)


@dataclass(eq=False)
class _Item:
    order: int
    article: str
    fact: Fact
    mentions: list[_Mention] = field(default_factory=list)
    terms: EventTerms = EventTerms(frozenset(), frozenset(), ())
    other_figures: list[str] = field(default_factory=list)  # years, dates, times, ordinals as written
    # A source sentence no fact of its article quotes: it may corroborate a fact, never be one.
    support: bool = False
    figure_keys: tuple[tuple[object, ...], ...] = ()  # _figure_keys of the mentions

    @property
    def stems(self) -> frozenset[str]:
        return self.terms.stems


@dataclass
class ReconcileStats:
    """Work done by one :func:`reconcile` call: pair comparisons of figures and of facts."""

    figure_comparisons: int = 0
    fact_comparisons: int = 0
    merges: int = 0

    @property
    def comparisons(self) -> int:
        return self.figure_comparisons + self.fact_comparisons


_NATURAL = re.compile(r"^(\D*)(\d+)(.*)$")


@functools.lru_cache(maxsize=65536)
def _natural(article_id: str) -> tuple[str, int, str]:
    m = _NATURAL.match(article_id)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (article_id, -1, "")


def distinctive_value(value: float) -> bool:
    """A value unlikely to recur by chance within one story: >= 100 and not a multiple of 50 (307, 390, 245)."""
    return value >= 100 and value % 50 != 0


def _distinctive(q: Quantity) -> bool:
    """An exact figure with a distinctive value (or written with 3+ significant digits)."""
    if q.qualifier != "exact" or q.value < 100:
        return False
    return q.sig_digits >= DISTINCTIVE_SIG_DIGITS or distinctive_value(q.value)


def _may_be_same(qa: Quantity, qb: Quantity) -> bool:
    """A cheap necessary condition for ``relation`` to say ``same`` or ``equivalent``.

    Other kinds are incomparable; outside measures (whose units convert) a same or rounded figure is within
    5% of the other (``quantities.ROUNDING_LIMIT``), so anything further apart is not worth comparing.
    """
    if qa.kind != qb.kind:
        return False
    if qa.kind == "measure":
        return True
    va, vb = qa.value, qb.value
    # A hair over the limit: the check runs on the larger value, relation on the claimed one.
    return not abs(va - vb) > (ROUNDING_LIMIT + 0.001) * max(abs(va), abs(vb))


class _Reconciler:
    """One story's items, the memoised pair relations, and the work counters."""

    def __init__(self, items: list[_Item], stats: ReconcileStats) -> None:
        self.items = items
        self.stats = stats

    # ---- figure relations

    def same_thing(self, ma: _Mention, mb: _Mention, a: _Item, b: _Item) -> str | None:
        """``same``/``equivalent`` when the two mentions state one figure of one counted thing, else None."""
        k = id(mb)
        memo = ma.same
        if k in memo:
            return memo[k]
        if not _may_be_same(ma.q, mb.q):
            out = None
        else:
            self.stats.figure_comparisons += 1
            out = _same_thing_uncached(ma, mb, a, b)
        memo[k] = out
        return out

    def contradict(self, ma: _Mention, mb: _Mention, a: _Item, b: _Item) -> bool:
        """Different values for one counted thing: same counted words, and either an event count
        ("injured", "killed") or facts worded alike ("307 prisoners" returned vs "1,000 prisoners" agreed
        is two figures, not a contradiction)."""
        if not ma.key or ma.key != mb.key:
            return False
        self.stats.figure_comparisons += 1
        if relation(ma.q, mb.q) != "different":
            return False
        if any(self.same_thing(ma, y, a, b) for y in b.mentions) or any(
            self.same_thing(x, mb, a, b) for x in a.mentions
        ):
            return False  # "307 ... 390 prisoners" twice: each figure is matched, 307 vs 390 is no dispute
        return bool(ma.key & _EVENT) or _jaccard(a.stems, b.stems) >= CONFLICT_CONTEXT

    def covered(self, member: _Item, rep: _Item) -> bool:
        """Every counted figure of ``member`` is stated by ``rep``: showing rep's text loses nothing."""
        if member is rep or not member.mentions:
            return True
        if not rep.mentions:
            return False
        return all(any(self.same_thing(m, r, member, rep) for r in rep.mentions) for m in member.mentions)

    def linked(self, a: _Item, b: _Item) -> bool:
        self.stats.fact_comparisons += 1
        if a.article == b.article:
            return near_duplicate(a.terms, b.terms) and _same_tokens(a, b)
        if a.mentions and b.mentions and any(self.same_thing(x, y, a, b) for x in a.mentions for y in b.mentions):
            return True
        return same_event(a.terms, b.terms) and _same_tokens(a, b)


def _same_tokens(a: _Item, b: _Item) -> bool:
    # Years and dates are not counted, but "in 2022" vs "in 2014" is not one event.
    return not a.other_figures or not b.other_figures or bool(set(a.other_figures) & set(b.other_figures))


def _same_thing_uncached(ma: _Mention, mb: _Mention, a: _Item, b: _Item) -> str | None:
    rel = relation(ma.q, mb.q)
    if rel not in ("same", "equivalent"):
        return None
    qa, qb = ma.q, mb.q
    if rel == "equivalent" and qa.unit == qb.unit and qa.qualifier == qb.qualifier == "exact":
        return None  # "250 drones" and "245 drones" are two exact counts, not one figure rounded
    if ma.key & mb.key:
        ok = True
    elif ma.key and mb.key:  # "307 prisoners" vs "307 soldiers": only a distinctive figure links them
        ok = _distinctive(ma.q) and _distinctive(mb.q)
    else:
        ok = _distinctive(ma.q) or _distinctive(mb.q) or _jaccard(a.stems, b.stems) >= CONTEXT_LINK
    return rel if ok else None


def _overlap(a: AbstractSet[str], b: AbstractSet[str]) -> tuple[int, float]:
    shared = len(a & b)
    return shared, shared / min(len(a), len(b)) if a and b else 0.0


def _longest_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest run of content stems the two statements share, in the same order."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for k, y in enumerate(b, start=1):
            if x == y:
                cur[k] = prev[k - 1] + 1
                best = max(best, cur[k])
        prev = cur
    return best


def same_event(x: EventTerms, y: EventTerms) -> bool:
    """Two statements of one event: the same entities (when both name any, they share one and every name
    the smaller one gives is in the other) and the same predicate: at least ``SHARED_STEMS`` of their other
    content stems shared, and either ``SAME_EVENT`` of the smaller one's or ``PHRASE_SHARE`` of them with
    a shared run of ``PHRASE_RUN`` ("debris fell on a shopping mall and residential buildings"). Names are
    left out of the word count: "New South Wales" in two sentences is one shared place, not three words."""
    words_x, words_y = x.stems - x.names, y.stems - y.names
    shared, share = _overlap(words_x, words_y)
    if share < PHRASE_SHARE or shared < (SHARED_STEMS if words_x != words_y else SHARED_STEMS - 1):
        return False  # the same words throughout ("A difficult night for all of us") need one fewer
    if share < SAME_EVENT and _longest_run(x.sequence, y.sequence) < PHRASE_RUN:
        return False
    if not x.names or not y.names:
        return True  # one names no one: "debris fell on a mall" (AP) ~ "... in Obolon district of Kyiv" (BBC)
    small_names, other = (x.names, y.stems) if len(words_x) <= len(words_y) else (y.names, x.stems)
    return small_names <= other and bool(x.names & y.names)


def near_duplicate(x: EventTerms, y: EventTerms) -> bool:
    """One source saying one thing twice: the smaller statement is (nearly) contained in the other."""
    shared, share = _overlap(x.stems, y.stems)
    return shared >= SHARED_STEMS and share >= NEAR_DUPLICATE and same_event(x, y)


# ---------------------------------------------------------------- grouping


@dataclass
class _Group:
    rep: int
    members: list[int]
    articles: set[str] = field(default_factory=set)
    # counted thing -> figure signature -> a few (item, mention) that state it: contradiction look-ups.
    figures: dict[frozenset[str], dict[tuple[object, ...], list[tuple[int, _Mention]]]] = field(default_factory=dict)

    def add_figures(self, items: list[_Item], idx: int) -> None:
        for m in items[idx].mentions:
            if m.key:
                slot = self.figures.setdefault(m.key, {}).setdefault(m.sig, [])
                if len(slot) < PER_VALUE:
                    slot.append((idx, m))


def _figure_keys(counted: Sequence[tuple[Quantity, frozenset[str], str, int]]) -> tuple[tuple[object, ...], ...]:
    """The buckets a text's counted figures file it under: each counted stem, each distinctive value."""
    keys: list[tuple[object, ...]] = []
    for q, key, _, _ in counted:
        keys += [("noun", q.kind, s) for s in sorted(key)]
        if _distinctive(q):
            keys.append(("value", q.kind, q.value))
    return tuple(dict.fromkeys(keys))


def _bucket_keys(item: _Item, rare: Sequence[str]) -> list[tuple[object, ...]]:
    if not rare:
        return list(item.figure_keys)
    return list(dict.fromkeys([*item.figure_keys, *(("word", s) for s in rare)]))


def _group(r: _Reconciler) -> list[_Group]:
    """Groups (representative, members) whose members state nothing their representative does not."""
    items = r.items
    df: dict[str, int] = {}
    for it in items:
        for s in it.stems:
            df[s] = df.get(s, 0) + 1
    owner = list(range(len(items)))  # item -> id of its group (the smallest item index in it)
    groups: dict[int, _Group] = {}
    buckets: dict[tuple[object, ...], list[int]] = {}

    def find(x: int) -> int:
        while owner[x] != x:
            owner[x] = owner[owner[x]]
            x = owner[x]
        return x

    for j, b in enumerate(items):
        groups[j] = _Group(rep=j, members=[j], articles={b.article})
        groups[j].add_figures(items, j)
        # Sorting (df, stem) pairs is the (df[s], s) key order without a key call per stem.
        rare = [s for _, s in sorted([(df[s], s) for s in b.stems if df[s] > 1])[:RARE_STEMS]]
        keys = _bucket_keys(b, rare)
        candidates: set[int] = set()
        for key in keys:
            candidates.update(find(g) for g in buckets.get(key, ())[-BUCKET_CAP:])
        if b.support:
            _support(r, j, sorted(candidates), groups, owner, find)
            continue  # never filed in a bucket: a sentence links no two facts
        for g in sorted(candidates):
            gj = find(j)
            g = find(g)
            if g == gj or g not in groups:
                continue
            ga, gb = groups[g], groups[gj]
            if not (r.linked(items[ga.rep], b) or (ga.members[0] != ga.rep and r.linked(items[ga.members[0]], b))):
                continue
            if _contradicts(r, ga, gb):
                continue
            ri, rj = items[ga.rep], items[gb.rep]
            if r.covered(rj, ri):
                new_rep = ga.rep
                if r.covered(ri, rj):
                    # They say the same: the shorter one speaks (the first one on a tie).
                    new_rep = min(ga.rep, gb.rep, key=lambda k: (len(items[k].fact.text), k))
            elif r.covered(ri, rj):
                new_rep = gb.rep
            else:
                continue  # each says something the other does not: keep both facts
            keep, drop = (ga, gb) if len(ga.members) >= len(gb.members) else (gb, ga)
            keep.members = sorted(keep.members + drop.members)
            keep.articles |= drop.articles
            keep.rep = new_rep
            for sigs in drop.figures.items():
                for sig, entries in sigs[1].items():
                    slot = keep.figures.setdefault(sigs[0], {}).setdefault(sig, [])
                    slot += entries[: max(0, PER_VALUE - len(slot))]
            root, gone = min(g, gj), max(g, gj)
            groups[root] = keep
            del groups[gone]
            owner[gone] = root
            r.stats.merges += 1
        root = find(j)
        for key in keys:
            lst = buckets.setdefault(key, [])
            if not lst or find(lst[-1]) != root:
                lst.append(root)
    return [groups[g] for g in sorted(groups) if not items[groups[g].rep].support]


def _support(
    r: _Reconciler,
    j: int,
    candidates: Sequence[int],
    groups: dict[int, _Group],
    owner: list[int],
    find: Callable[[int], int],
) -> None:
    """File support sentence ``j`` under the first fact it corroborates: another source's fact stating the
    same event or figure, which states everything the sentence does (so the fact's text still covers it)."""
    items = r.items
    b = items[j]
    for g in candidates:
        g = find(g)
        ga = groups.get(g)
        if ga is None or g == j or b.article in ga.articles or items[ga.rep].support:
            continue
        rep = items[ga.rep]
        if not r.linked(rep, b) or not r.covered(b, rep) or _contradicts(r, ga, groups[j]):
            continue
        ga.members.append(j)
        ga.articles.add(b.article)
        del groups[j]
        owner[j] = g
        r.stats.merges += 1
        return


def _contradicts(r: _Reconciler, ga: _Group, gb: _Group) -> bool:
    small, large = (ga, gb) if len(ga.members) <= len(gb.members) else (gb, ga)
    items = r.items
    for key, sigs in small.figures.items():
        other = large.figures.get(key)
        if not other:
            continue
        for entries in sigs.values():
            for u, x in entries:
                for ys in other.values():
                    for v, y in ys:
                        if items[u].article != items[v].article and r.contradict(x, y, items[u], items[v]):
                            return True
    return False


# ---------------------------------------------------------------- figures, agreement, conflicts


def _quote_for(fact: Fact, q: Quantity) -> Citation:
    """The fact's citation whose quote states the figure (the first one if none does verbatim)."""
    for c in fact.citations:
        if q.text in c.quote:
            return c
    return fact.citations[0]


def _agreement(r: _Reconciler, g: _Group) -> list[Agreement]:
    """Figures the representative and a member state in different units or roundings."""
    items = r.items
    out: list[Agreement] = []
    seen: set[tuple[str, str, str, str]] = set()
    rep = items[g.rep]
    for v in g.members:
        other = items[v]
        if other.article == rep.article:
            continue
        a, b = (rep, other) if _natural(rep.article) <= _natural(other.article) else (other, rep)
        for ma in a.mentions:
            for mb in b.mentions:
                if r.same_thing(ma, mb, a, b) != "equivalent":
                    continue
                # A figure both facts state exactly is matched by that, not by a look-alike.
                if any(r.same_thing(ma, y, a, b) == "same" for y in b.mentions) or any(
                    r.same_thing(x, mb, a, b) == "same" for x in a.mentions
                ):
                    continue
                k = (ma.q.text, a.article, mb.q.text, b.article)
                if k in seen:
                    continue
                seen.add(k)
                out.append(
                    Agreement(
                        first=FigureMention(text=ma.q.text, article=a.article, citation=_quote_for(a.fact, ma.q)),
                        second=FigureMention(text=mb.q.text, article=b.article, citation=_quote_for(b.fact, mb.q)),
                    )
                )
    return out


def _figures(r: _Reconciler, g: _Group, index: Mapping[tuple[object, ...], list[int]]) -> list[Figure]:
    """The representative's counted figures, each with every source in the story that states it."""
    items = r.items
    rep = items[g.rep]
    out: list[Figure] = []
    for m in rep.mentions:
        sources: dict[str, Citation] = {rep.article: _quote_for(rep.fact, m.q)}
        candidates = set(g.members)
        for key in [("noun", m.q.kind, s) for s in m.key] + [("value", m.q.kind, m.q.value)]:
            candidates.update(index.get(key, ())[: BUCKET_CAP * 4])
        for v in sorted(candidates):
            other = items[v]
            if other.article in sources:
                continue
            stated = next((y for y in other.mentions if r.same_thing(m, y, rep, other)), None)
            if stated is not None:
                sources[other.article] = _quote_for(other.fact, stated.q)
        ordered = sorted(sources, key=_natural)
        out.append(
            Figure(
                text=rep.fact.text[m.q.start : m.phrase_end],
                value=m.q.value,
                start=m.q.start,
                end=m.q.end,
                sources=ordered,
                citations=[sources[a] for a in ordered],
            )
        )
    return out


def _conflicts(r: _Reconciler, fact_of_item: Mapping[int, int]) -> list[tuple[str, list[tuple[int, _Mention]]]]:
    """Connected components of contradictions: (label, [(item, mention)]) in first-appearance order."""
    items = r.items
    nodes: list[tuple[int, _Mention]] = [
        (i, m) for i, it in enumerate(items) if not it.support for m in it.mentions if m.key
    ]
    parent = list(range(len(nodes)))
    in_conflict: set[int] = set()

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # counted thing -> figure signature -> the first few nodes stating it, from distinct articles. A node
    # is compared with those only, and one not kept follows the kept nodes of its value into their conflict.
    by_key: dict[frozenset[str], dict[tuple[object, ...], list[int]]] = {}
    followers: list[tuple[int, list[int]]] = []
    for x, (i, ma) in enumerate(nodes):
        sigs = by_key.setdefault(ma.key, {})
        for sig, ys in sigs.items():
            if sig == ma.sig:
                continue
            for y in ys:
                j, mb = nodes[y]
                if items[i].article == items[j].article or fact_of_item[i] == fact_of_item[j]:
                    continue
                if r.contradict(mb, ma, items[j], items[i]):
                    in_conflict.update((x, y))
                    rx, ry = find(x), find(y)
                    parent[max(rx, ry)] = min(rx, ry)
        slot = sigs.setdefault(ma.sig, [])
        if len(slot) < PER_VALUE and all(items[nodes[y][0]].article != items[i].article for y in slot):
            slot.append(x)
        else:
            followers.append((x, slot))
    for x, slot in followers:
        for y in slot:
            if y in in_conflict:
                in_conflict.add(x)
                rx, ry = find(x), find(y)
                parent[max(rx, ry)] = min(rx, ry)
                break

    comps: dict[int, list[int]] = {}
    for x in sorted(in_conflict):
        comps.setdefault(find(x), []).append(x)
    out = []
    for members in sorted(comps.values(), key=lambda c: c[0]):
        label = nodes[members[0]][1].label
        out.append((label, [nodes[x] for x in members]))
    return out


def rank_key(fact: BriefFact, position: int, newest: dt.date | None) -> tuple[float, ...]:
    """Sort key (ascending) of a story's facts: more sources, in a conflict, with figures, earlier in its
    article, more recent."""
    recency = newest.toordinal() if newest else 0
    return (-fact.corroboration, -int(fact.in_conflict), -int(bool(fact.figures)), position, -recency)


def reconcile(
    results: Sequence[ArticleResult],
    articles: Mapping[str, Article],
    *,
    support: Mapping[str, Sequence[Fact]] | None = None,
    stats: ReconcileStats | None = None,
) -> tuple[list[BriefFact], list[Conflict]]:
    """Merge the facts of one story's articles; report figures the sources disagree on.

    ``support``: per article, source sentences none of its facts quote (verbatim, so verified). One that
    states another source's fact adds its source and citation to that fact; it never becomes a fact itself.
    """

    stats = stats if stats is not None else ReconcileStats()
    dates: dict[str, dt.date | None] = {}
    items: list[_Item] = []
    ordered = sorted(results, key=lambda r: _natural(r.article.id))
    # Facts first, support sentences after: a sentence joins a fact that already has its group.
    pending = [(res.article.id, f, False) for res in ordered for f in res.facts]
    pending += [(res.article.id, f, True) for res in ordered for f in (support or {}).get(res.article.id, ())]
    for res in ordered:
        art = articles.get(res.article.id)
        dates[res.article.id] = art.date if art is not None and art.date is not None else res.article.date
    for aid, fact, is_support in pending:
        if not fact.citations:
            continue  # unverifiable; the verifier should not let these through
        counted, other, figure_keys = _fact_figures(fact.text)
        item = _Item(
            order=len(items),
            article=aid,
            fact=fact,
            mentions=[_Mention(*c) for c in counted],  # fresh per item: a mention memoises by id
            terms=event_terms(fact.text),
            other_figures=list(other),
            support=is_support,
            figure_keys=figure_keys,
        )
        items.append(item)

    r = _Reconciler(items, stats)
    groups = _group(r)
    fact_of_item: dict[int, int] = {i: n for n, g in enumerate(groups) for i in g.members}
    index: dict[tuple[object, ...], list[int]] = {}
    for i, it in enumerate(items):
        for bucket in _bucket_keys(it, ()):
            index.setdefault(bucket, []).append(i)
    components = _conflicts(r, fact_of_item)
    conflicted = {fact_of_item[i] for _, nodes in components for i, _ in nodes}

    drafts: list[tuple[tuple[float, ...], int, BriefFact]] = []
    for n, g in enumerate(groups):
        citations: list[Citation] = []
        seen: set[tuple[str, int, int]] = set()
        sources: list[str] = []
        for i in g.members:
            it = items[i]
            if it.article not in sources:
                sources.append(it.article)
            for c in it.fact.citations:
                if (c.article, c.start, c.end) not in seen:
                    seen.add((c.article, c.start, c.end))
                    citations.append(c)
        merged = BriefFact(
            id="",
            text=items[g.rep].fact.text,
            citations=citations,
            sources=sources,
            corroboration=len(sources),
            single_source=len(sources) == 1,
            figures=_figures(r, g, index),
            agreement=_agreement(r, g),
            in_conflict=n in conflicted,
            origin="llm" if any(items[i].fact.origin == "llm" for i in g.members) else "extractive",
        )
        position = min(c.sentence for c in citations)
        newest = max((d for a in sources if (d := dates.get(a)) is not None), default=None)
        drafts.append((rank_key(merged, position, newest), n, merged))
    drafts.sort(key=lambda d: (d[0], d[1]))
    fact_id: dict[int, str] = {}
    brief_facts: list[BriefFact] = []
    for k, (_, n, merged) in enumerate(drafts, start=1):
        merged.id = f"f{k}"
        fact_id[n] = merged.id
        brief_facts.append(merged)

    conflicts: list[Conflict] = []
    for label, nodes in components:
        values = [
            ConflictValue(
                value=m.q.text,
                article=items[i].article,
                date=dates.get(items[i].article),
                citation=_quote_for(items[i].fact, m.q),
                fact=fact_id[fact_of_item[i]],
            )
            for i, m in nodes
        ]
        latest, newest, top = _latest(values)
        conflicts.append(Conflict(label=label, values=values, latest=latest, newest=newest, latest_reports=top))
    return brief_facts, conflicts


def _latest(values: list[ConflictValue]) -> tuple[str | None, dt.date | None, list[str]]:
    """(the one latest article or None, the newest date, the articles dated so)."""
    dated = {v.article: v.date for v in values if v.date is not None}
    if not dated:
        return None, None, []
    newest = max(dated.values())
    top = sorted({a for a, d in dated.items() if d == newest}, key=_natural)
    latest = top[0] if len(top) == 1 and len({v.article for v in values}) > 1 else None
    return latest, newest, top


# ---------------------------------------------------------------- trimming quoted sentences

_CLAUSE = re.compile(r"\s*(?:[,;]|\s[–—-])\s+")
_ATTRIBUTION = re.compile(r"(?i)\b(?:said|says|according|told|reported|reports|per|citing|quoting)\b")
MIN_TRIM_WORDS = 6


def _carries(q: Quantity) -> bool:
    # "the two sides", "one of the largest": small number words are grammar more than figures.
    return q.kind not in _NOT_COUNTED and not (q.value <= 2 and not any(ch.isdigit() for ch in q.text))


def trim_quote(fact: Fact, doc: Document) -> Fact:
    """A verbatim (extractive) fact cut to the clauses that carry its figures, when verify passes the cut.

    Only leading or trailing clauses that hold no counted figure (bar "one"/"two" in words) and no
    attribution ("officials said") are dropped; the rest must start with a capital letter and keep every
    figure. The citation then points at the clause span: ``text[start:end] == quote`` still holds.
    """
    from summarizer.quantities import cached_quantities
    from summarizer.verify import check_fact

    if fact.origin != "extractive" or len(fact.citations) != 1 or fact.citations[0].quote != fact.text:
        return fact
    c = fact.citations[0]
    text = fact.text
    figures = [q.text for q in cached_quantities(text) if _carries(q)]
    if not figures:
        return fact
    cuts = [0]
    for m in _CLAUSE.finditer(text):
        cuts += [m.start(), m.end()]
    cuts.append(len(text))
    spans = [(cuts[k], cuts[k + 1]) for k in range(0, len(cuts), 2)]  # clause (start, end) pairs
    best: tuple[int, int] | None = None
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            s, e = spans[i][0], spans[j][1]
            if (s, e) == (0, len(text)):
                continue
            cand = text[s:e]
            if not cand[:1].isupper() or len(cand.split()) < MIN_TRIM_WORDS:
                continue
            if _ATTRIBUTION.search(text[:s]) or _ATTRIBUTION.search(text[e:]):
                continue
            if [q.text for q in cached_quantities(cand) if _carries(q)] != figures:
                continue
            if best is None or e - s < best[1] - best[0]:
                best = (s, e)
    if best is None:
        return fact
    s, e = best
    cand = text[s:e]
    if not check_fact(cand, [c.sentence], doc).ok:
        return fact
    start, end = c.start + s, c.start + e
    quote = doc.article.text[start:end]
    if quote != cand:  # the citation's offsets do not index this text: keep the whole sentence
        return fact
    cite = c.model_copy(update={"start": start, "end": end, "quote": quote})
    return fact.model_copy(update={"text": cand, "citations": [cite]})


def thinly_backed(fact: BriefFact) -> list[Figure]:
    """The figures of ``fact`` that fewer sources state than the fact as a whole."""
    return [f for f in fact.figures if len(f.sources) < fact.corroboration]


class FigureComparer:
    """Figures of facts compared with the rules :func:`reconcile` applies within a story. Public for
    ``summarizer.changes``, which compares the figures of two briefs. One comparer per comparison:
    it memoises per fact, as reconcile does within one call."""

    def __init__(self) -> None:
        self._items: dict[str, _Item] = {}
        self._rules = _Reconciler([], ReconcileStats())

    def _item(self, text: str) -> _Item:
        item = self._items.get(text)
        if item is None:
            counted, other, figure_keys = _fact_figures(text)
            item = _Item(
                order=0,
                article="",
                fact=Fact(id="", text=text, citations=[]),
                mentions=[_Mention(*c) for c in counted],
                terms=event_terms(text),
                other_figures=list(other),
                figure_keys=figure_keys,
            )
            self._items[text] = item
        return item

    def figures(self, text: str) -> list[tuple[Quantity, frozenset[str], str]]:
        """The counted figures of a fact (years, dates, times, ordinals left out), each with what it
        counts: (quantity, crude stems, readable label), e.g. (10, {"injured"}, "injured")."""
        return [(m.q, m.key, m.label) for m in self._item(text).mentions]

    def compare(self, text_a: str, qa: Quantity, text_b: str, qb: Quantity) -> str:
        """``same`` (one figure of one counted thing), ``conflict`` (the same thing, a different value) or
        ``other``, for the figure ``qa`` of the fact ``text_a`` and ``qb`` of ``text_b``."""
        a, b = self._item(text_a), self._item(text_b)
        ma = next((m for m in a.mentions if m.q.start == qa.start), None)
        mb = next((m for m in b.mentions if m.q.start == qb.start), None)
        if ma is None or mb is None:
            return "other"
        if self._rules.same_thing(ma, mb, a, b):
            return "same"
        return "conflict" if self._rules.contradict(ma, mb, a, b) else "other"
