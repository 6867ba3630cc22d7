"""merge: verified per-article results -> stories with reconciled facts, conflicts and a narrative.

Pure assembly, no LLM: stories come from ``cluster``, facts and conflicts from ``reconcile`` (quoted
sentences trimmed to their clause first; sentences no fact quotes passed along as support), and the
narrative and digest are composed deterministically from the facts (:func:`compose_narrative`, checked
by :func:`check_narrative` like any narrative). ``write`` may replace them with LLM-written text, which
must pass ``check_narrative`` / ``check_cited_text`` here first.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from summarizer.models import (
    Article,
    ArticleEvidence,
    ArticleRef,
    ArticleResult,
    BriefFact,
    Citation,
    Conflict,
    ConflictValue,
    Document,
    Fact,
    Sentence,
    Story,
    outlet_name,
)


def check_narrative(text: str, facts: Sequence[BriefFact]) -> list[str]:
    """Problems with a narrative whose [n] markers index ``facts`` (1-based). Empty list: it passes."""
    return check_cited_text(text, [f.text for f in facts], "fact")


def check_cited_text(text: str, items: Sequence[str], noun: str) -> list[str]:
    """Every sentence cites [n] items that exist, and each of its parts is supported by them.

    A marker after the full stop belongs to the sentence before it ("… each. [1][2]").
    """
    from summarizer.segment import split_sentences
    from summarizer.text import cited_sentences
    from summarizer.verify import claim_problems

    problems: list[str] = []
    if not text.strip():
        return ["narrative is empty"]
    context = " ".join(items)
    for sentence, marks in cited_sentences(text, split_sentences):
        bad = [m for m in marks if not 1 <= m <= len(items)]
        if bad:
            problems.append(f"marker [{bad[0]}] does not exist; {noun}s are [1] to [{len(items)}]")
            continue
        if not marks:
            problems.append(f"sentence cites no {noun}: {sentence[:80]!r}")
            continue
        cited = list(dict.fromkeys(marks))
        evidence = [(f"{noun} [{m}]", items[m - 1]) for m in cited]
        problems += [str(p) for p in claim_problems(sentence, evidence, context=context)]
    return problems


def conflict_line(c: Conflict, fact_index: Mapping[str, int]) -> str:
    """'injured: 10 [1] (25 May) vs at least 15 [2] (24 May)' with markers indexing the story's facts."""
    parts = []
    for v in c.values:
        mark = f" [{fact_index[v.fact]}]" if v.fact is not None and v.fact in fact_index else ""
        when = f" ({v.date.day} {v.date:%b})" if v.date else ""
        parts.append(f"{v.value}{mark}{when}")
    return f"{c.label}: " + " vs ".join(parts)


NARRATIVE_FIGURES = 4
TITLE_CHARS = 110
_ACCORDING = re.compile(r"(?i)\baccording to ((?:[\w’'-]+ ?){1,4}?)(?=[,.;]|$)")
_SAID = re.compile(r"((?:[A-Z][\w’'-]*,? ){1,5})(?:said|says|told)\b")


def _who(sources: Sequence[str], outlets: Mapping[str, str]) -> str:
    """'AP and BBC' when the (up to 3) sources have outlet names, else '2 sources' / 'one source'."""
    names = [outlets.get(a, "") for a in sources]
    if all(names) and len(names) <= 3:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return "one source" if len(sources) == 1 else f"{len(sources)} sources"


def _listing(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _attribution(text: str) -> str:
    """', citing local officials' / ', quoting Kyiv Mayor Vitali Klitschko' when the fact names its source."""
    m = _ACCORDING.search(text)
    if m:
        return f", citing {m.group(1).strip()}"
    m = _SAID.search(text)
    if m and m.start() > 0:
        return f", quoting {m.group(1).strip().rstrip(',')}"
    return ""


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?", "”", '"')) else text + "."


def narrative_evidence(facts: Sequence[BriefFact], outlets: Mapping[str, str]) -> list[BriefFact]:
    """The facts as a composed narrative may cite them: each with the outlets that report it (and whether
    sources differ on it), so that "BBC reported …" is checked against the fact's own data like any word."""
    return [
        f.model_copy(
            update={
                "text": f"{_who(f.sources, outlets)} reported: {f.text}" + (" Sources differ." if f.in_conflict else "")
            }
        )
        for f in facts
    ]


def compose_narrative(
    facts: Sequence[BriefFact], conflicts: Sequence[Conflict], outlets: Mapping[str, str] | None = None
) -> str:
    """Deterministic stand-in for the LLM narrative, 2-4 sentences built from the ranked facts: what the
    sources agree on, then where they differ (who reports what), then what only one source says.

    Each sentence cites its facts and is kept only if :func:`check_narrative` passes it against the facts
    and their outlets; if none passes, the best-corroborated facts stand in verbatim.
    """
    outlets = outlets or {}
    index = {f.id: i for i, f in enumerate(facts, start=1)}
    evidence = narrative_evidence(facts, outlets)
    sentences: list[str] = []

    # 1. What several sources agree on (no conflict touching it): their shared figures, or the top fact.
    agreed = [(i, f) for i, f in enumerate(facts, start=1) if f.corroboration > 1 and not f.in_conflict]
    figures: list[str] = []
    marks: list[int] = []
    for i, f in agreed:
        for fig in f.figures:
            if len(fig.sources) > 1 and len(figures) < NARRATIVE_FIGURES and fig.text not in figures:
                figures.append(fig.text)
                if i not in marks:
                    marks.append(i)
    if agreed and figures:
        who = _who(agreed[0][1].sources, outlets)
        sentences.append(f"{who} report {_listing(figures)} {''.join(f'[{i}]' for i in marks)}.")
    elif agreed:
        i, f = agreed[0]
        sentences.append(f"{_who(f.sources, outlets)} report: {_sentence(f.text)[:-1]} [{i}].")
    elif facts:
        sentences.append(f"{_sentence(facts[0].text)[:-1]} [1].")

    # 2. Where they differ, who says what.
    for c in conflicts[:2]:
        by_value: dict[str, list[ConflictValue]] = {}
        for v in c.values:
            if v.fact is not None and v.fact in index:
                by_value.setdefault(v.value, []).append(v)
        parts = []
        for value, vs in list(by_value.items())[:3]:
            k = index[str(vs[0].fact)]
            source = _who(list(dict.fromkeys(v.article for v in vs)), outlets)
            verb = "reported" if len(vs) == 1 else "report"
            parts.append(f"{source} {verb} {value} {c.label} [{k}]{_attribution(facts[k - 1].text)}")
        if len(parts) > 1:
            sentences.append(f"Sources differ on the {c.label}: " + ", while ".join(parts) + ".")

    # 3. What only one source says: per outlet, its single-source fact with the most precise figure.
    from summarizer.reconcile import distinctive_value

    def precision(f: BriefFact) -> tuple[int, int]:
        return (
            sum(distinctive_value(g.value) for g in f.figures),
            sum(any(ch.isdigit() for ch in g.text) for g in f.figures),
        )

    single = [(i, f) for i, f in enumerate(facts, start=1) if f.single_source and not f.in_conflict and f.figures]
    best: dict[str, tuple[int, BriefFact]] = {}
    for i, f in sorted(single, key=lambda t: (tuple(-x for x in precision(t[1])), t[0])):
        best.setdefault(f.sources[0], (i, f))
    clauses = []
    for a, (i, f) in list(best.items())[:2]:
        fig = max(f.figures, key=lambda g: (distinctive_value(g.value), any(ch.isdigit() for ch in g.text)))
        clauses.append(f"only {_who([a], outlets)} reports {fig.text} [{i}]")
    if clauses:
        text = ", and ".join(clauses)
        sentences.append(text[0].upper() + text[1:] + ".")

    composed = " ".join(sentences[:4])
    if composed and not check_narrative(composed, evidence):
        return composed  # the usual case: one check for the whole paragraph
    kept = [s for s in sentences[:4] if not check_narrative(s, evidence)]
    return " ".join(kept) if kept else _verbatim(facts, conflicts)


def _verbatim(facts: Sequence[BriefFact], conflicts: Sequence[Conflict]) -> str:
    """The best-corroborated facts, verbatim, each with its marker; then the conflicts."""
    index = {f.id: i for i, f in enumerate(facts, start=1)}
    ranked = sorted(index.items(), key=lambda kv: (-facts[kv[1] - 1].corroboration, kv[1]))[:3]
    sentences = [f"{_sentence(facts[i - 1].text)} [{i}]" for _, i in sorted(ranked, key=lambda kv: kv[1])]
    for c in conflicts:
        sentences.append(f"Sources differ on {conflict_line(c, index)}.")
    return " ".join(sentences)


def cut_title(title: str, limit: int = TITLE_CHARS) -> str:
    """``title`` on one line, cut at a word (never mid-word) with an ellipsis when longer than ``limit``."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    head = title[: limit + 1].rsplit(" ", 1)[0] if " " in title[: limit + 1] else title[:limit]
    return head.rstrip(" ,;:–—-") + "…"


def story_title(results: Sequence[ArticleResult]) -> str:
    """The verified LLM headline of the latest report that has one; else the shortest lead (the articles'
    own title lines, verbatim). Cut at a word when long."""
    latest = sorted(results, key=lambda r: r.article.date or dt.date.min, reverse=True)
    for r in latest:
        if r.headline:
            return cut_title(r.headline)
    leads = [r.article.title for r in results if r.article.title.strip()]
    if not leads:
        return cut_title(latest[0].article.title)
    return cut_title(min(leads, key=lambda t: (len(t.split()), t)))


def story_outlets(articles: Sequence[ArticleRef]) -> dict[str, str]:
    """Article id -> outlet name (the article's own, else read from its file name), only when the story's
    outlets have distinct names (else names mislead)."""
    names = {a.id: a.outlet or outlet_name(a.path) for a in articles}
    known = [n for n in names.values() if n]
    if len(known) != len(names) or len(set(known)) != len(known):
        return {}
    return names


SUPPORT_MIN_WORDS = 6


def _support_candidates(result: ArticleResult, doc: Document) -> list[Sentence]:
    from summarizer.verify import addresses_the_model

    cited = {c.sentence for f in result.facts for c in f.citations}
    return [
        s
        for s in doc.sentences
        if s.id not in cited
        and len(s.text.split()) >= SUPPORT_MIN_WORDS
        and s.text.rstrip()[-1:] in ".!?”\"'’"
        and not addresses_the_model(s.text)
    ]


def support_sentences(result: ArticleResult, doc: Document) -> list[Fact]:
    """An article's prose sentences that none of its facts quote, verbatim: they may corroborate another
    source's fact ("debris fell on a shopping mall"), as figure-free sentences are no fact of their own."""
    return [
        Fact(id=f"{doc.article.id}-s{s.id}", text=s.text, citations=[doc.quote(s.id)], origin="extractive")
        for s in _support_candidates(result, doc)
    ]


def article_evidence(result: ArticleResult, doc: Document) -> ArticleEvidence:
    """What the later stages need of ``doc`` (see :class:`ArticleEvidence`), so the Document can go."""
    from summarizer.reconcile import trim_quote

    trimmed = {}
    for k, fact in enumerate(result.facts):
        cut = trim_quote(fact, doc)
        if cut is not fact:
            trimmed[k] = cut
    support = [(s.id, s.start, s.end) for s in _support_candidates(result, doc)]
    return ArticleEvidence(article=doc.article, support=support, trimmed=trimmed)


def _support_facts(evidence: ArticleEvidence) -> list[Fact]:
    """``support_sentences`` again, from the kept spans."""
    a = evidence.article
    out = []
    for sid, start, end in evidence.support:
        text = a.text[start:end]
        cite = Citation(article=a.id, sentence=sid, start=start, end=end, quote=text)
        out.append(Fact(id=f"{a.id}-s{sid}", text=text, citations=[cite], origin="extractive"))
    return out


def evidence_for(
    results: Sequence[ArticleResult], docs: Iterable[Document | ArticleEvidence]
) -> dict[str, ArticleEvidence]:
    """Article id -> its evidence; Documents (callers that still hold them) are reduced here."""
    by_id = {r.article.id: r for r in results}
    out: dict[str, ArticleEvidence] = {}
    for d in docs:
        aid = d.article.id
        if isinstance(d, ArticleEvidence):
            out[aid] = d
        elif aid in by_id:
            out[aid] = article_evidence(by_id[aid], d)
        else:
            out[aid] = ArticleEvidence(article=d.article)
    return out


def build_stories(
    results: Sequence[ArticleResult], docs: Mapping[str, ArticleEvidence] | Mapping[str, Document]
) -> list[Story]:
    """Cluster, reconcile and order; narratives are composed here and may be replaced by the LLM's.

    ``docs``: article id -> its :class:`ArticleEvidence` (or its Document, reduced here)."""
    kept = evidence_for(results, docs.values())
    stories = StoryBuilder([kept[r.article.id].article for r in results])
    for r in results:
        stories.add(kept[r.article.id], r)
    return stories.finish()


class StoryBuilder:
    """Stories built as their articles' results come in: ``add`` each (evidence, result), then ``finish``.

    Stories are clustered on the articles' texts alone, so the groups are known before any result is
    in, and a story is reconciled as soon as its last article is done. A big run's stories are thus
    merged while other articles are still at the provider (``pipeline``), not all after the last one;
    ``finish`` orders them as :func:`build_stories` always has."""

    def __init__(
        self,
        articles: Sequence[Article],
        on_story: Callable[[Story], None] | None = None,
        *,
        compose: bool = True,
        top: int = 0,
        on_top: Callable[[list[Story]], None] | None = None,
        on_sources_done: Callable[[], None] | None = None,
    ) -> None:
        self._articles = {a.id: a for a in articles}
        self._on_story = on_story  # each story as it is built (write.NarrativeWriter.add)
        # Once the ``top`` heaviest stories are built, in the order finish() will give them (the digest's:
        # write.NarrativeWriter.ask_digest); once every story of two or more sources is (.flush).
        self._top, self._on_top, self._on_sources_done = top, on_top, on_sources_done
        self._ranked: list[int] = []
        self._multi_left = 0
        # False: the stories' composed narratives are left to the caller, once it knows which the LLM's
        # narratives replace (pipeline.build_brief composes the rest; a third of a story's CPU, profiled).
        self._compose = compose
        self._groups: list[list[str]] | None = None  # clustered on the first add (off the start-up path)
        self._group_of: dict[str, int] = {}
        self._done: dict[str, tuple[ArticleEvidence, ArticleResult]] = {}
        self._missing: list[int] = []
        self._built: dict[int, Story] = {}
        self._thread: threading.Thread | None = None  # clustering, from prepare()
        self._clustered: list[list[list[str]]] = []  # what the thread found
        self._lock = threading.Lock()  # order() may run in another thread (sending.Senders.run)
        self._early: list[tuple[ArticleEvidence, ArticleResult]] = []  # added before the groups were in

    def _texts(self) -> list[tuple[str, str]]:
        return [(aid, a.text[a.body_start :]) for aid, a in self._articles.items()]

    def prepare(self) -> None:
        """Cluster in a thread from now on (the texts are all it needs): the event loop meanwhile takes the
        first answers (``add`` holds them until the groups are in) instead of waiting for the clustering and,
        in a fresh process, sklearn's import (~0.9 s). Only once any worker process is forked."""
        from summarizer.cluster import cluster_articles

        if self._groups is not None or self._thread is not None:
            return
        texts, found = self._texts(), self._clustered
        self._thread = threading.Thread(
            target=lambda: found.append(cluster_articles(texts)), name="summarizer-cluster", daemon=True
        )
        self._thread.start()

    def _pending(self) -> bool:
        """The groups are still being found (prepare's thread)."""
        return self._groups is None and self._thread is not None and self._thread.is_alive()

    def _cluster(self) -> list[list[str]]:
        from summarizer.cluster import cluster_articles

        if self._groups is None:
            if self._thread is not None:
                self._thread.join()
            with self._lock:
                if self._groups is None:
                    # The thread's groups; if it raised, clustering again here raises it where it is seen.
                    groups = self._clustered[0] if self._clustered else cluster_articles(self._texts())
                    self._group_of = {aid: g for g, ids in enumerate(groups) for aid in ids}
                    self._missing = [len(ids) for ids in groups]
                    weights = [self._weight(ids) for ids in groups]
                    self._ranked = sorted(range(len(weights)), key=lambda g: -weights[g])  # stable: finish()'s
                    self._multi_left = sum(len(ids) > 1 for ids in groups)
                    self._groups = groups  # last: another thread seeing it sees the rest
        return self._groups

    def _weight(self, ids: list[str]) -> float:
        """The weight a story of these articles gets (``_story``): known from the articles, before any result."""
        from summarizer.cluster import story_weight

        return story_weight(len(ids), max((d for a in ids if (d := self._articles[a].date)), default=None))

    def order(self) -> list[int]:
        """The articles' positions (as given) story by story, heaviest story first (finish()'s order), each
        story's articles as given: run in this order (sending.Senders.run), every story is complete as early
        as it can be, the digest's stories and those worth a narrative first, and a run ends on stories of one
        source, which no LLM writes (their last answers are not followed by a story-writing call)."""
        groups = self._cluster()
        at = {aid: i for i, aid in enumerate(self._articles)}
        return [at[a] for g in self._ranked for a in sorted(groups[g], key=at.__getitem__)]

    def add(self, evidence: ArticleEvidence, result: ArticleResult) -> None:
        if self._pending():
            self._early.append((evidence, result))  # built once the groups are in, by a later add or finish
            return
        groups = self._cluster()
        self._add_early(groups)
        self._add(evidence, result, groups)

    def _add_early(self, groups: list[list[str]]) -> None:
        """The results held while the groups were being found, in the order they came."""
        early, self._early = self._early, []
        for evidence, result in early:
            self._add(evidence, result, groups)

    def _add(self, evidence: ArticleEvidence, result: ArticleResult, groups: list[list[str]]) -> None:
        aid = result.article.id
        if aid not in self._group_of or aid in self._done:
            raise ValueError(f"{aid}: not an article of this brief, or added twice")
        self._done[aid] = (evidence, result)
        g = self._group_of[aid]
        self._missing[g] -= 1
        if self._missing[g] == 0:
            story = self._built[g] = self._story(groups[g])
            story.id = f"g{g}"  # until finish() numbers the stories in their order
            if self._on_story is not None:
                self._on_story(story)
            self._hooks(len(groups[g]) > 1)

    def _hooks(self, multi: bool) -> None:
        if self._on_top is not None and self._top > 0 and len(self._ranked) > 1:  # one story: no digest
            top = [self._built.get(g) for g in self._ranked[: self._top]]
            if all(top):
                on_top, self._on_top = self._on_top, None
                on_top([s for s in top if s is not None])
        self._multi_left -= multi
        if multi and self._multi_left == 0 and self._on_sources_done is not None:
            self._on_sources_done()

    def _story(self, group: list[str]) -> Story:
        from summarizer.cluster import story_weight
        from summarizer.reconcile import reconcile

        members = [self._done[a][1] for a in group]
        kept = {a: self._done[a][0] for a in group}
        # Quoted sentences are cut to the clause carrying their figures where verify passes the cut.
        trimmed = [
            r.model_copy(update={"facts": [ev.trimmed.get(k, f) for k, f in enumerate(r.facts)]})
            if (ev := kept.get(r.article.id)) is not None
            else r
            for r in members
        ]
        support = (
            {r.article.id: _support_facts(kept[r.article.id]) for r in members if r.article.id in kept}
            if len(members) > 1
            else None  # one source: nothing to corroborate
        )
        articles = {a: self._articles[a] for a in group}
        facts, conflicts = reconcile(trimmed, articles, support=support)
        latest = max((r.article.date for r in members if r.article.date), default=None)
        sources = len({r.article.id for r in members})
        outlets = story_outlets([r.article for r in members])
        return Story(
            id="",
            title=story_title(members),
            summary=compose_narrative(facts, conflicts, outlets) if self._compose else "",
            summary_origin="composed",
            articles=[r.article.id for r in members],
            facts=facts,
            conflicts=conflicts,
            outlets=outlets,
            weight=story_weight(sources, latest),
        )

    def finish(self) -> list[Story]:
        """Every story, heaviest first, numbered s1, s2, … (an article never added is left out)."""
        groups = self._cluster()
        self._add_early(groups)
        for g, ids in enumerate(groups):
            if g not in self._built:
                present = [a for a in ids if a in self._done]
                if present:
                    self._built[g] = self._story(present)
        stories = [self._built[g] for g in sorted(self._built)]
        stories.sort(key=lambda s: -s.weight)
        for i, s in enumerate(stories, start=1):
            s.id = f"s{i}"
        return stories


def digest(stories: Sequence[Story]) -> str:
    """'Today in N stories: …' built from story titles and source counts only (one story: its heading
    is right below, so only the counts)."""
    if not stories:
        return "No stories today."

    def counts(s: Story) -> str:
        n = len(s.articles)
        k = len(s.conflicts)
        differ = f"; sources differ on {k} figure{'s' if k != 1 else ''}" if k else ""
        return f"{n} source{'s' if n != 1 else ''}{differ}"

    if len(stories) == 1:
        return f"Today in 1 story ({counts(stories[0])})."
    parts = [f"{s.title} ({counts(s)})" for s in stories[:8]]
    return f"Today in {len(stories)} stories: " + "; ".join(parts) + "."
