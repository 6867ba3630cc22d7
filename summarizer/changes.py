"""What changed since the previous brief: match stories by what they report, then list the differences.

Matching never looks at titles (a headline is rewritten with every update). A story of the new brief
matches the previous brief's story that

* shares a source with it (the same URL, or the same path for files), or else
* reports the same things: the TF-IDF cosine distance of their facts' text (content words and
  figures of 3+ digits, :func:`summarizer.cluster.cosine_distances`) is at most ``MATCH_DISTANCE``.

0.8 is stricter than clustering's 0.85 within a brief, because a wrong match reports changes that did
not happen, while a missed one only shows a story as new. On gensim's ABC texts (day one = texts
0-149, day two = 150-299; ``python benchmarks/bench_changes.py``) it makes 16 matches: 13 follow one
story (Qantas, shuttle Endeavour, Tora Bora, HIH, the Middle East, the cricket series, ...), 3 are
wrong (e.g. a British murder trial and the Solomon Islands parliament); 0.75 would drop 3 of the
wrong ones and 4 right ones. The seeds (AP one day, BBC the next) are 0.53 apart.
Among several candidates the one with most shared sources, then the closest, wins. Then
``since_last`` is ``new`` (no match), ``updated`` (a new source, or a new or changed figure) or
``unchanged``.

Changes are built only from verified facts of the two briefs, so every figure they show carries a
citation: the after citation indexes this brief; the before citation indexes this brief too when the
same source (with the same text) is still here (``before_article``), else the previous brief.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.models import Article, ArticleRef, Brief, Citation, PreviousBrief, Story, StoryChange

if TYPE_CHECKING:
    from summarizer.quantities import Quantity
    from summarizer.reconcile import FigureComparer

__all__ = [
    "MATCH_DISTANCE",
    "annotate",
    "display_order",
    "find_previous",
    "load_previous",
    "since_counts",
    "source_key",
]

MATCH_DISTANCE = 0.8


def source_key(ref: ArticleRef) -> str:
    """An article's identity across briefs: its URL, else its path (ids are renumbered every run)."""
    return ref.url or ref.path


@dataclass(frozen=True)
class _Figure:
    q: Quantity
    key: frozenset[str]
    label: str
    citation: Citation
    article: str
    fact: str  # the fact's text: the figure's context for reconcile's rules


def _figures(story: Story, rules: FigureComparer) -> list[_Figure]:
    out: list[_Figure] = []
    for f in story.facts:
        if not f.citations:
            continue
        for q, key, label in rules.figures(f.text):
            cite = next((c for c in f.citations if q.text in c.quote), f.citations[0])
            out.append(_Figure(q=q, key=key, label=label, citation=cite, article=cite.article, fact=f.text))
    return out


def _consistent(a: _Figure, b: _Figure) -> bool:
    """Figures of one counted thing that do not contradict: 'dozens injured' after 'at least 15 injured'."""
    from summarizer.quantities import relation

    return bool(a.key & b.key) and relation(a.q, b.q) in ("same", "equivalent", "compatible")


def _story_text(story: Story) -> str:
    return " ".join(f.text for f in story.facts)


@dataclass
class _Side:
    story: Story
    sources: dict[str, str]  # source key -> article id in its brief
    figures: list[_Figure]


def _side(story: Story, refs: Mapping[str, ArticleRef], rules: FigureComparer) -> _Side:
    sources = {source_key(refs[a]): a for a in story.articles if a in refs}
    return _Side(story, sources, _figures(story, rules))


def _score(new: _Side, old: _Side, distance: float) -> tuple[int, float] | None:
    """(shared sources, -distance), or None when the two do not report the same story."""
    shared = len(new.sources.keys() & old.sources.keys())
    if shared or distance <= MATCH_DISTANCE:
        return shared, -distance
    return None


def _changes(
    new: _Side,
    old: _Side,
    refs: Mapping[str, ArticleRef],
    old_refs: Mapping[str, ArticleRef],
    articles: Mapping[str, Article],
    rules: FigureComparer,
) -> list[StoryChange]:
    def compare(a: _Figure, b: _Figure) -> str:
        return rules.compare(a.fact, a.q, b.fact, b.q)

    changes: list[StoryChange] = []
    for key, aid in new.sources.items():
        if key not in old.sources:
            ref = refs[aid]
            by = f" ({ref.outlet})" if ref.outlet else ""
            changes.append(StoryChange(kind="new_source", text=f"new source: {ref.title}{by}", article=aid))
    seen: set[tuple[frozenset[str], str, str]] = set()
    for m in new.figures:
        sig = (m.key, m.q.text, m.article)
        if sig in seen or any(compare(m, p) == "same" for p in old.figures):
            continue
        seen.add(sig)
        label = m.label or "figure"
        differ = [p for p in old.figures if compare(m, p) == "conflict"]
        if differ:
            # Prefer the same source's earlier figure (a report that was revised), else the first one.
            mine = [p for p in differ if source_key(old_refs[p.article]) == source_key(refs[m.article])]
            # A count before a vague amount ("10" over "dozens"), whatever order the facts are ranked in.
            p = min(mine or differ, key=lambda p: p.q.qualifier == "vague")
            before_ref = old_refs.get(p.article)
            before_cite, before_article = _rebase(p.citation, before_ref, new.sources, articles)
            changes.append(
                StoryChange(
                    kind="changed_figure",
                    text=f"{label}: {p.q.text} → {m.q.text}",
                    quantity=label,
                    before=p.q.text,
                    after=m.q.text,
                    article=m.article,
                    after_citation=m.citation,
                    before_citation=before_cite,
                    before_source=before_ref,
                    before_article=before_article,
                )
            )
        elif m.label and not any(_consistent(m, p) for p in old.figures):  # unnamed ('hundreds'): not a change
            changes.append(
                StoryChange(
                    kind="new_figure",
                    text=f"{label}: {m.q.text} (new)",
                    quantity=label,
                    after=m.q.text,
                    article=m.article,
                    after_citation=m.citation,
                )
            )
    return changes


def _rebase(
    c: Citation, ref: ArticleRef | None, here: Mapping[str, str], articles: Mapping[str, Article]
) -> tuple[Citation, str | None]:
    """The previous brief's citation, moved to this brief's id of the same source if its text still holds."""
    if ref is None:
        return c, None
    aid = here.get(source_key(ref))
    art = articles.get(aid) if aid else None
    if aid and art is not None and art.text[c.start : c.end] == c.quote:
        return c.model_copy(update={"article": aid}), aid
    return c, None


def annotate(brief: Brief, previous: Brief, articles: Mapping[str, Article], *, previous_path: str = "") -> None:
    """Set ``since_last``, ``previous`` and ``changes`` on every story of ``brief`` (in place)."""
    from summarizer.cluster import cosine_distances
    from summarizer.reconcile import FigureComparer

    rules = FigureComparer()
    refs = {r.id: r for r in brief.articles}
    old_refs = {r.id: r for r in previous.articles}
    olds = [_side(s, old_refs, rules) for s in previous.stories]
    k = len(previous.stories)
    texts = [_story_text(s) for s in [*previous.stories, *brief.stories]]
    # One TF-IDF fit over both briefs' stories: the idf knows what is common today and yesterday.
    dist = cosine_distances(texts, lead_weight=1) if k and brief.stories and any(t.strip() for t in texts) else None
    for j, story in enumerate(brief.stories):
        new = _side(story, refs, rules)
        scored = []
        for i, o in enumerate(olds):
            d = float(dist[k + j][i]) if dist is not None and texts[k + j].strip() and texts[i].strip() else 1.0
            if (sc := _score(new, o, d)) is not None:
                scored.append((sc, o))
        if not scored:
            story.since_last, story.previous, story.changes = "new", None, []
            continue
        _, best = max(scored, key=lambda t: t[0])
        story.previous = best.story.id
        story.changes = _changes(new, best, refs, old_refs, articles, rules)
        story.since_last = "updated" if story.changes else "unchanged"
    brief.previous = PreviousBrief(
        path=previous_path, generated_at=previous.generated_at, stories=len(previous.stories)
    )


def load_previous(path: Path) -> tuple[Brief | None, str | None]:
    """(the previous brief, None) or (None, why it cannot be used)."""
    from pydantic import ValidationError

    try:
        return Brief.model_validate_json(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, "no such file"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    except ValidationError as exc:
        return None, f"not a brief.json ({exc.error_count()} problem(s), e.g. {exc.errors()[0]['msg']})"


def find_previous(out: Path, explicit: Path | None) -> tuple[Brief | None, Path | None, str | None]:
    """(brief, its path, problem): ``--previous FILE`` if given, else the brief.json already in ``out``.

    No brief.json in ``out`` is no problem (the first run); an unusable one is said once and skipped."""
    path = explicit or out / "brief.json"
    if explicit is None and not path.exists():
        return None, None, None
    previous, why = load_previous(path)
    if why is None:
        return previous, path, None
    if explicit is not None:
        return None, path, f"--previous {path}: {why}"
    return None, path, f"note: {path}: {why}; not compared with it"


def since_counts(brief: Brief) -> str:
    """' (since the last brief: 0 new, 1 updated, 2 unchanged)' for the run's summary line, or ''."""
    if brief.previous is None:
        return ""
    counts = {k: sum(1 for s in brief.stories if s.since_last == k) for k in ("new", "updated", "unchanged")}
    return " (since the last brief: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ")"


def display_order(stories: Sequence[Story]) -> list[tuple[int, Story]]:
    """(number, story) with new and updated stories first and unchanged ones last; numbers stay as in
    ``brief.stories`` so the digest's [n] and the section numbers agree."""
    rank = {"new": 0, "updated": 1, None: 1, "unchanged": 2}
    return sorted(enumerate(stories, start=1), key=lambda t: rank[t[1].since_last])


def since_label(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"
