"""Reconcile the verified facts of one story across its sources, quantity by quantity.

Rules (all deterministic):

* Two quantities state *the same figure* when :func:`summarizer.quantities.relation` calls them
  ``same`` or ``equivalent`` and they count the same thing: the counted words (the words right after
  the number, plus an event word just before it such as "injuring") share a crude stem, e.g.
  "14 ballistic missiles" ~ "14 missiles" but not "14 people". When the counted words differ
  ("307 prisoners" vs "307 soldiers") only a distinctive figure links them (exact, >= 100, not a
  multiple of 50: 307, 390, 245; not 250 or 1,000); when they are missing, a distinctive figure or
  similar wording (Jaccard of content stems >= ``CONTEXT_LINK``) does.
* Facts from *different* articles sharing such a figure merge into one :class:`BriefFact` carrying
  every citation, provided one side states every counted figure of the other (so the text shown loses
  nothing) and nothing in them contradicts. The text shown is the covering fact's; when both cover
  each other, the first fact's (articles in natural id order a1, a2, ..., a10; facts in their order).
  Facts without counted figures merge only when nearly identical and with the same years/dates.
* Two quantities from different articles with the same counted words that ``relation`` calls
  ``different`` are a :class:`Conflict` ("10 injured" vs "at least 15 people injured") when they count
  an event (injured, killed, missing) or the two facts are worded alike (>= ``CONFLICT_CONTEXT``):
  "307 prisoners returned" vs "1,000 prisoners to be swapped" are two figures, not a contradiction.
  Bounds are ``relation``'s job: "at least 15" vs 18 is compatible, not a conflict.
* Years, dates, times and ordinals are not counted quantities: no merges or conflicts are built on them.
* BriefFact ids f1, f2, ... follow first appearance; citations are kept as verified (deduplicated).
* ``agreement`` lists equivalent phrasings with article ids,
  e.g. "1,000-kilometer [a1] ≈ roughly 620-mile [a2]"; conflict notes name articles the same way.
  Renderers map ``[a1]`` to their own markers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from summarizer.models import Article, ArticleResult, BriefFact, Citation, Conflict, ConflictValue, Fact
from summarizer.text import STOP_WORDS, WORD, lemma, normal, wordset

if TYPE_CHECKING:
    from summarizer.quantities import Quantity

_NOT_COUNTED = frozenset({"year", "date", "time", "ordinal"})
DISTINCTIVE_SIG_DIGITS = 3
# Jaccard of content stems above which a round figure with unknown counted words still links two facts.
CONTEXT_LINK = 0.25
# Same counted words but not an event count: the facts must be worded this alike to contradict.
CONFLICT_CONTEXT = 0.3
# Facts without counted quantities merge only when nearly identical.
TEXT_MERGE = 0.6

_WORD = WORD
_BOUNDARY = re.compile(r"[,.;:!?()\[\]\"“”—–]")
# Words that end the counted phrase ("307 prisoners of war" -> "prisoners").


_words = wordset
_STOP = STOP_WORDS
_BE = _words("were was are is been being be reportedly already now still more than")
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


def _content_stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in _STOP_OR_GENERIC}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _counted(text: str, q: Quantity) -> tuple[frozenset[str], str]:
    """Stems of what ``q`` counts, and a readable label ("injured", "ballistic missiles")."""
    stems: list[str] = []
    shown: list[str] = []

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
        add(m.group())
        taken += 1
    before = _WORD.findall(text[: q.start])
    if before and _stem(before[-1]) in _EVENT:  # "injuring at least five people"
        add(before[-1])
    return frozenset(stems), " ".join(w for w in shown)


@dataclass
class _Mention:
    q: Quantity
    key: frozenset[str]
    label: str
    # _same_thing against other mentions of this reconcile call, by id(other): the pair loops ask again and again.
    same: dict[int, str | None] = field(default_factory=dict, repr=False)


@dataclass
class _Item:
    order: int
    article: str
    fact: Fact
    mentions: list[_Mention] = field(default_factory=list)
    stems: set[str] = field(default_factory=set)
    other_figures: list[str] = field(default_factory=list)  # years, dates, times, ordinals as written


def _natural(article_id: str) -> tuple[str, int, str]:
    m = re.match(r"^(\D*)(\d+)(.*)$", article_id)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (article_id, -1, "")


def _distinctive(q: Quantity) -> bool:
    """A figure unlikely to recur by chance within one story: exact, >= 100 and not round (307, 390, 245)."""
    if q.qualifier != "exact" or q.value < 100:
        return False
    return q.sig_digits >= DISTINCTIVE_SIG_DIGITS or q.value % 50 != 0


def _may_be_same(qa: Quantity, qb: Quantity) -> bool:
    """A cheap necessary condition for ``relation`` to say ``same`` or ``equivalent``.

    Other kinds are incomparable; outside measures (whose units convert) a same or rounded figure is within
    5% of the other (``quantities._ROUNDING_LIMIT``), so anything further apart is not worth comparing.
    """
    if qa.kind != qb.kind:
        return False
    if qa.kind == "measure":
        return True
    va, vb = qa.value, qb.value
    return not abs(va - vb) > 0.051 * max(abs(va), abs(vb))


def _same_thing(ma: _Mention, mb: _Mention, a: _Item, b: _Item) -> str | None:
    """``same``/``equivalent`` when the two mentions state one figure of one counted thing, else None.

    ``a`` and ``b`` are the items of ``ma`` and ``mb``, so the answer is memoised per pair of mentions.
    """
    k = id(mb)
    memo = ma.same
    if k in memo:
        return memo[k]
    out = memo[k] = _same_thing_uncached(ma, mb, a, b) if _may_be_same(ma.q, mb.q) else None
    return out


def _same_thing_uncached(ma: _Mention, mb: _Mention, a: _Item, b: _Item) -> str | None:
    from summarizer.quantities import relation

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


def _contradict(ma: _Mention, mb: _Mention, a: _Item, b: _Item) -> bool:
    """Different values for one counted thing: same counted words, and either an event count
    ("injured", "killed") or facts worded alike ("307 prisoners" returned vs "1,000 prisoners" agreed
    is two figures, not a contradiction)."""
    from summarizer.quantities import relation

    if not ma.key or ma.key != mb.key or relation(ma.q, mb.q) != "different":
        return False
    if any(_same_thing(ma, y, a, b) for y in b.mentions) or any(_same_thing(x, mb, a, b) for x in a.mentions):
        return False  # "307 ... 390 prisoners" twice: each figure is matched, 307 vs 390 is no dispute
    return bool(ma.key & _EVENT) or _jaccard(a.stems, b.stems) >= CONFLICT_CONTEXT


def _covered(member: _Item, rep: _Item) -> bool:
    """Every counted figure of ``member`` is stated by ``rep``: showing rep's text loses nothing."""
    if member is rep:
        return True
    if not member.mentions or not rep.mentions:
        return not member.mentions and not rep.mentions
    return all(any(_same_thing(m, r, member, rep) for r in rep.mentions) for m in member.mentions)


def _linked(a: _Item, b: _Item) -> bool:
    if a.mentions and b.mentions:
        return any(_same_thing(ma, mb, a, b) for ma in a.mentions for mb in b.mentions)
    # Facts without counted figures: nearly the same words and the same years/dates, if any.
    return (
        not a.mentions
        and not b.mentions
        and a.other_figures == b.other_figures
        and _jaccard(a.stems, b.stems) >= TEXT_MERGE
    )


def _group(items: list[_Item]) -> list[tuple[int, list[int]]]:
    """(representative, members) groups; members state nothing their representative does not."""
    rep = list(range(len(items)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(items))}
    owner = list(range(len(items)))  # item -> key of its group in ``members``
    for i, a in enumerate(items):
        for j in range(i + 1, len(items)):
            b = items[j]
            gi, gj = owner[i], owner[j]
            if gi == gj or a.article == b.article or not _linked(a, b):
                continue
            mi, mj = members[gi], members[gj]
            if any(
                _contradict(x, y, items[u], items[v])
                for u in mi
                for v in mj
                for x in items[u].mentions
                for y in items[v].mentions
            ):
                continue
            ri, rj = items[rep[gi]], items[rep[gj]]
            if all(_covered(items[v], ri) for v in mj):
                new_rep = rep[gi]
                if all(_covered(items[u], rj) for u in mi):
                    new_rep = min(rep[gi], rep[gj])  # they say the same: the first one speaks
            elif all(_covered(items[u], rj) for u in mi):
                new_rep = rep[gj]
            else:
                continue  # each says something the other does not: keep both facts
            keep, drop = min(gi, gj), max(gi, gj)
            members[keep] = sorted(mi + mj)
            del members[drop]
            rep[keep] = new_rep
            for k in members[keep]:
                owner[k] = keep
    return [(rep[g], ms) for g, ms in sorted(members.items())]


def _agreement(items: list[_Item], ms: list[int]) -> list[str]:
    out: list[str] = []
    for n, u in enumerate(ms):
        for v in ms[n + 1 :]:
            a, b = items[u], items[v]
            if a.article == b.article:
                continue
            for ma in a.mentions:
                for mb in b.mentions:
                    if _same_thing(ma, mb, a, b) != "equivalent":
                        continue
                    # A figure both facts state exactly is matched by that, not by a look-alike.
                    if any(_same_thing(ma, y, a, b) == "same" for y in b.mentions) or any(
                        _same_thing(x, mb, a, b) == "same" for x in a.mentions
                    ):
                        continue
                    line = f"{ma.q.text} [{a.article}] ≈ {mb.q.text} [{b.article}]"
                    if line not in out:
                        out.append(line)
    return out


def _quote_for(fact: Fact, q: Quantity) -> Citation:
    """The fact's citation whose quote states the figure (the first one if none does verbatim)."""
    for c in fact.citations:
        if q.text in c.quote:
            return c
    return fact.citations[0]


def reconcile(
    results: Sequence[ArticleResult], articles: Mapping[str, Article]
) -> tuple[list[BriefFact], list[Conflict]]:
    """Merge the facts of one story's articles; report figures the sources disagree on."""
    from summarizer.quantities import cached_quantities

    dates: dict[str, dt.date | None] = {}
    items: list[_Item] = []
    for res in sorted(results, key=lambda r: _natural(r.article.id)):
        aid = res.article.id
        art = articles.get(aid)
        dates[aid] = art.date if art is not None and art.date is not None else res.article.date
        for fact in res.facts:
            if not fact.citations:
                continue  # unverifiable; the verifier should not let these through
            item = _Item(order=len(items), article=aid, fact=fact, stems=_content_stems(fact.text))
            for q in cached_quantities(fact.text):
                if q.kind in _NOT_COUNTED:
                    item.other_figures.append(q.text)
                    continue
                key, label = _counted(fact.text, q)
                item.mentions.append(_Mention(q, key, label))
            items.append(item)

    brief_facts: list[BriefFact] = []
    fact_of_item: dict[int, str] = {}
    for rep, members in _group(items):
        fid = f"f{len(brief_facts) + 1}"
        citations: list[Citation] = []
        seen: set[tuple[str, int, int]] = set()
        sources: list[str] = []
        for i in members:
            fact_of_item[i] = fid
            it = items[i]
            if it.article not in sources:
                sources.append(it.article)
            for c in it.fact.citations:
                if (c.article, c.start, c.end) not in seen:
                    seen.add((c.article, c.start, c.end))
                    citations.append(c)
        brief_facts.append(
            BriefFact(
                id=fid,
                text=items[rep].fact.text,
                citations=citations,
                sources=sources,
                corroboration=len(sources),
                single_source=len(sources) == 1,
                agreement=_agreement(items, members),
                origin="llm" if any(items[i].fact.origin == "llm" for i in members) else "extractive",
            )
        )

    return brief_facts, _conflicts(items, fact_of_item, dates)


def _conflicts(items: list[_Item], fact_of_item: dict[int, str], dates: Mapping[str, dt.date | None]) -> list[Conflict]:

    # Nodes are (item, mention) pairs; edges are contradictions on the same counted thing.
    nodes: list[tuple[int, int]] = [(i, k) for i, it in enumerate(items) for k in range(len(it.mentions))]
    parent = list(range(len(nodes)))
    in_conflict: set[int] = set()

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, (i, k) in enumerate(nodes):
        ma = items[i].mentions[k]
        if not ma.key:
            continue
        for y in range(x + 1, len(nodes)):
            j, m = nodes[y]
            mb = items[j].mentions[m]
            if items[i].article == items[j].article:
                continue
            if _contradict(ma, mb, items[i], items[j]):
                in_conflict.update((x, y))
                rx, ry = find(x), find(y)
                parent[max(rx, ry)] = min(rx, ry)

    comps: dict[int, list[int]] = {}
    for x in sorted(in_conflict):
        comps.setdefault(find(x), []).append(x)

    conflicts: list[Conflict] = []
    for members in sorted(comps.values(), key=lambda c: c[0]):
        values: list[ConflictValue] = []
        for x in members:
            i, k = nodes[x]
            it = items[i]
            q = it.mentions[k].q
            values.append(
                ConflictValue(
                    value=q.text,
                    article=it.article,
                    date=dates.get(it.article),
                    citation=_quote_for(it.fact, q),
                    fact=fact_of_item[i],
                )
            )
        label = items[nodes[members[0]][0]].mentions[nodes[members[0]][1]].label
        latest, note = _latest(values)
        conflicts.append(Conflict(label=label, values=values, latest=latest, note=note))
    return conflicts


def _latest(values: list[ConflictValue]) -> tuple[str | None, str]:
    dated = {v.article: v.date for v in values if v.date is not None}
    if not dated:
        return None, "The reports carry no dates."
    newest = max(dated.values())
    top = sorted({a for a, d in dated.items() if d == newest}, key=_natural)
    articles = {v.article for v in values}
    if len(top) == len(articles):
        return None, f"All reports are dated {newest.isoformat()}."
    if len(top) > 1:
        return None, "Latest reports: " + ", ".join(f"[{a}]" for a in top) + f" ({newest.isoformat()})."
    return top[0], f"The latest report is [{top[0]}] ({newest.isoformat()})."


class FigureComparer:
    """Figures of facts compared with the rules :func:`reconcile` applies within a story. Public for
    ``summarizer.changes``, which compares the figures of two briefs. One comparer per comparison:
    it memoises per fact, as reconcile does within one call."""

    def __init__(self) -> None:
        self._items: dict[str, _Item] = {}

    def _item(self, text: str) -> _Item:
        from summarizer.quantities import cached_quantities

        item = self._items.get(text)
        if item is None:
            item = _Item(order=0, article="", fact=Fact(id="", text=text, citations=[]), stems=_content_stems(text))
            for q in cached_quantities(text):
                if q.kind in _NOT_COUNTED:
                    item.other_figures.append(q.text)
                else:
                    item.mentions.append(_Mention(q, *_counted(text, q)))
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
        if _same_thing(ma, mb, a, b):
            return "same"
        return "conflict" if _contradict(ma, mb, a, b) else "other"
