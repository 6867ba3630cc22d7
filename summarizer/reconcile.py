"""Reconcile the verified facts of one story across its sources, quantity by quantity.

Rules (all deterministic):

* Two facts from *different* articles state the same thing when they hold quantities that
  :func:`summarizer.quantities.relation` calls ``same`` or ``equivalent`` and that count the same thing:
  the counted words (the words right after the number, plus an event word just before it such as
  "injuring") share a crude stem, e.g. "14 ballistic missiles" ~ "14 missiles" but not "14 people".
  When the counted words are missing or differ, a distinctive figure (3+ significant digits: 307, 390)
  still links the facts; so do round figures when the two facts share enough wording.
  Linked facts merge (transitively) into one :class:`BriefFact` carrying every citation.
  Facts without counted quantities merge only when their wording is nearly the same.
* Two quantities from different articles that count the same thing (same counted words) and that
  ``relation`` calls ``different`` are a :class:`Conflict`: "10 injured" vs "at least 15 people injured".
  Bounds are ``relation``'s job: "at least 15" vs 18 is compatible, not a conflict.
* Years, dates, times and ordinals are not counted quantities: no merges or conflicts are built on them.
* Articles are taken in natural id order (a1, a2, ..., a10); a merged fact shows the text of its first
  fact; BriefFact ids f1, f2, ... follow first appearance. Citations are kept as verified (deduplicated).
* ``agreement`` lists equivalent phrasings with article ids,
  e.g. "1,000-kilometer [a1] ≈ roughly 620-mile [a2]"; conflict notes name articles the same way.
  Renderers map ``[a1]`` to their own markers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from summarizer.models import Article, ArticleResult, BriefFact, Citation, Conflict, ConflictValue, Fact

if TYPE_CHECKING:
    from summarizer.quantities import Quantity

_NOT_COUNTED = frozenset({"year", "date", "time", "ordinal"})
DISTINCTIVE_SIG_DIGITS = 3
# Jaccard of content stems above which a round figure with unknown counted words still links two facts.
CONTEXT_LINK = 0.25
# Facts without counted quantities merge only when nearly identical.
TEXT_MERGE = 0.6

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_BOUNDARY = re.compile(r"[,.;:!?()\[\]\"“”—–]")
# Words that end the counted phrase ("307 prisoners of war" -> "prisoners").


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_STOP = _words(
    """of and or in on at from to with by for as that who which than since into onto over after before
    during across between under near per each both but while when where said says say had has have
    having do did does not no so if its their his her them they it this these those there here the a an
    would could will may might can should must also including"""
)
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


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w in _CANON:
        return _CANON[w]
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def _content_stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in _STOP | _GENERIC}


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


@dataclass
class _Item:
    order: int
    article: str
    fact: Fact
    mentions: list[_Mention] = field(default_factory=list)
    stems: set[str] = field(default_factory=set)


def _natural(article_id: str) -> tuple[str, int, str]:
    m = re.match(r"^(\D*)(\d+)(.*)$", article_id)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (article_id, -1, "")


def _counted_quantities(text: str) -> list[Quantity]:
    from summarizer.quantities import extract_quantities

    return [q for q in extract_quantities(text) if q.kind not in _NOT_COUNTED]


def _distinctive(q: Quantity) -> bool:
    return q.sig_digits >= DISTINCTIVE_SIG_DIGITS


def _link(a: _Item, b: _Item) -> tuple[bool, list[str]]:
    """Whether two facts from different articles state the same quantity; agreement strings if so."""
    from summarizer.quantities import relation

    linked = False
    agreement: list[str] = []
    for ma in a.mentions:
        for mb in b.mentions:
            rel = relation(ma.q, mb.q)
            if rel == "different" and ma.key and ma.key == mb.key:
                return False, []  # they contradict each other: keep them apart, a conflict will show it
            if rel not in ("same", "equivalent"):
                continue
            if ma.key & mb.key:
                same = True
            elif ma.key and mb.key:
                same = _distinctive(ma.q) and _distinctive(mb.q)
            else:
                same = _distinctive(ma.q) or _jaccard(a.stems, b.stems) >= CONTEXT_LINK
            if same:
                linked = True
                if rel == "equivalent":
                    agreement.append(f"{ma.q.text} [{a.article}] ≈ {mb.q.text} [{b.article}]")
    return linked, agreement


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
            for q in _counted_quantities(fact.text):
                key, label = _counted(fact.text, q)
                item.mentions.append(_Mention(q, key, label))
            items.append(item)

    # Union-find over facts; links only between different articles.
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    agreements: dict[int, list[str]] = {}
    for i, a in enumerate(items):
        for j in range(i + 1, len(items)):
            b = items[j]
            if a.article == b.article:
                continue
            if a.mentions and b.mentions:
                ok, agree = _link(a, b)
            else:
                ok, agree = (
                    (not a.mentions and not b.mentions and _jaccard(a.stems, b.stems) >= TEXT_MERGE),
                    [],
                )
            if ok:
                ri, rj = find(i), find(j)
                root = min(ri, rj)
                parent[max(ri, rj)] = root
                agreements.setdefault(i, []).extend(agree)

    groups: dict[int, list[int]] = {}
    for i in range(len(items)):
        groups.setdefault(find(i), []).append(i)

    brief_facts: list[BriefFact] = []
    fact_of_item: dict[int, str] = {}
    for members in sorted(groups.values(), key=lambda g: g[0]):
        fid = f"f{len(brief_facts) + 1}"
        citations: list[Citation] = []
        seen: set[tuple[str, int, int]] = set()
        sources: list[str] = []
        agreement: list[str] = []
        for i in members:
            fact_of_item[i] = fid
            it = items[i]
            if it.article not in sources:
                sources.append(it.article)
            for c in it.fact.citations:
                if (c.article, c.start, c.end) not in seen:
                    seen.add((c.article, c.start, c.end))
                    citations.append(c)
            for s in agreements.get(i, []):
                if s not in agreement:
                    agreement.append(s)
        first = items[members[0]].fact
        brief_facts.append(
            BriefFact(
                id=fid,
                text=first.text,
                citations=citations,
                sources=sources,
                corroboration=len(sources),
                single_source=len(sources) == 1,
                agreement=agreement,
                origin="llm" if any(items[i].fact.origin == "llm" for i in members) else "extractive",
            )
        )

    return brief_facts, _conflicts(items, fact_of_item, dates)


def _conflicts(
    items: list[_Item], fact_of_item: dict[int, str], dates: Mapping[str, dt.date | None]
) -> list[Conflict]:
    from summarizer.quantities import relation

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
            if items[i].article == items[j].article or ma.key != mb.key:
                continue
            if relation(ma.q, mb.q) == "different":
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
    return top[0], f"[{top[0]}]'s report ({newest.isoformat()}) is the latest."
