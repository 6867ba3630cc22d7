"""Pydantic contracts between the pipeline stages.

Data flows one way: load -> segment -> extract -> verify -> cluster -> merge -> render.
Every stage takes and returns these models, so each can be tested (and replaced) on its own.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- load / segment


class Article(BaseModel):
    """One input article, with its text exactly as read (offsets index into ``text``)."""

    id: str = Field(description="Short stable id, e.g. 'a1', used by citations.")
    path: str
    title: str
    date: dt.date | None = None
    text: str = Field(description="The decoded file text, unchanged: citations index into it.")
    body_start: int = Field(0, description="Offset where the body starts (after a header line).")
    sha256: str = Field(description="Content hash of the decoded text; used for dedupe and cache keys.")
    encoding: str = "utf-8"
    notes: list[str] = Field(default_factory=list, description="Handling worth telling the user about.")
    url: str | None = Field(default=None, description="The page it came from (``path`` is then sources/<id>.txt).")
    outlet: str | None = Field(default=None, description="Who published it: the feed's title, else the page's host.")
    undated: bool = Field(default=False, description="No date found; kept by --since anyway, and marked so.")


class ArticleRef(BaseModel):
    """What the brief says about a source article."""

    id: str
    path: str
    title: str
    date: dt.date | None = None
    url: str | None = None
    outlet: str | None = None
    undated: bool = False


def outlet_name(path: str) -> str:
    """Outlet from a file name, for articles that name none: 'ap_2025-05-25.txt' -> 'AP',
    'reuters-kyiv.txt' -> 'Reuters'; '' when the name gives none."""
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    parts = [p for p in re.split(r"[_\-\s.]+", stem) if p]
    while len(parts) > 1 and parts[0].lower() in ("the", "a", "an"):
        parts = parts[1:]  # "the-guardian-…" -> "Guardian"
    if len(parts) < 2 or not parts[0].isalpha():
        return ""  # "article.txt", "12345.txt": no outlet in the name
    head = parts[0]
    return head.upper() if len(head) <= 4 else head.capitalize()


class InputError(BaseModel):
    """An input that could not be used; the rest of the batch goes on."""

    path: str
    reason: str


class LoadResult(BaseModel):
    """What the load stage returns: the readable articles, one error per unusable input, and notes."""

    articles: list[Article] = Field(default_factory=list)
    errors: list[InputError] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Sentence(BaseModel):
    """One sentence of an article: ``article.text[start:end] == text``; ``id`` is what the LLM cites."""

    id: int
    start: int
    end: int
    text: str


class Document(BaseModel):
    """An article split into sentences. Sentence ids are what the LLM cites."""

    article: Article
    sentences: list[Sentence]

    def quote(self, sentence_id: int) -> Citation:
        s = self.sentences[sentence_id]
        return Citation(article=self.article.id, sentence=s.id, start=s.start, end=s.end, quote=s.text)


# ---------------------------------------------------------------- extract (the LLM's schema)


class LLMFact(BaseModel):
    text: str = Field(description="One self-contained factual statement from the article.")
    # Bounds live only in the JSON schema: grammar-constrained engines (llama.cpp) must honour them, while a
    # response that breaks them is still parsed, so verify can keep its good parts.
    sentence_ids: list[int] = Field(
        description="Ids of the numbered sentences that state this fact.",
        json_schema_extra={"minItems": 1, "maxItems": 3},
    )


class LLMExtraction(BaseModel):
    """What the model is asked to return for one article."""

    headline: str = Field(description="A short, factual headline for the article.")
    summary: str = Field(description="Two or three sentences summarising the article.")
    facts: list[LLMFact] = Field(
        description="The key facts, each citing its sentence ids.", json_schema_extra={"minItems": 1, "maxItems": 8}
    )


class LLMNarrative(BaseModel):
    """What the model is asked to return when writing a story's narrative."""

    narrative: str = Field(description="A short paragraph citing facts as [n].")


class LLMStoryNarrative(BaseModel):
    """One story's narrative in an answer that writes several."""

    story: int = Field(description="The story's number n, as in <story n=...>.")
    narrative: str = Field(description="A short paragraph citing that story's facts as [n].")


class LLMNarratives(BaseModel):
    """What the model is asked to return when writing several stories' narratives in one call."""

    narratives: list[LLMStoryNarrative] = Field(description="One entry per story.")


class LLMDigest(BaseModel):
    """What the model is asked to return for the top-of-brief digest."""

    digest: str = Field(description="One to three sentences citing stories as [n].")


# ---------------------------------------------------------------- verify


class Citation(BaseModel):
    """A pointer to one source sentence; ``text[start:end] == quote`` on the article as read."""

    article: str
    sentence: int
    start: int
    end: int
    quote: str


class Fact(BaseModel):
    """A verified fact of one article, with the citations that support it."""

    id: str
    text: str
    citations: list[Citation]
    origin: Literal["llm", "extractive"] = "llm"


class Rejection(BaseModel):
    """LLM output kept out of the brief, and why. This is the audit trail."""

    article: str | None = None
    stage: Literal["extract", "merge", "digest"] = "extract"
    field: str = Field(description="headline | summary | fact | narrative | response")
    content: str
    reasons: list[str]
    attempt: int = 0


class Usage(BaseModel):
    """LLM calls, tokens and estimated cost, summed over retries and re-asks."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


ArticleStatus = Literal["verified", "partial", "extractive"]


class ArticleResult(BaseModel):
    """The verified outcome for one article. Only verified text is in headline/summary/facts."""

    article: ArticleRef
    status: ArticleStatus = Field(
        description="verified: all LLM facts passed; partial: some were rejected; "
        "extractive: no LLM fact passed, the lead sentences stand in."
    )
    headline: str | None = None
    summary: str | None = None
    summary_citations: list[Citation] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    rejected: list[Rejection] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list, description="What happened: retries, re-asks, errors.")
    attempts: int = 0
    usage: Usage = Field(default_factory=Usage)
    cached: bool = False


# ---------------------------------------------------------------- cluster / merge


class ArticleEvidence(BaseModel):
    """What cluster, merge and render need of one article once it is extracted and verified.

    A run keeps this, not the Document: the sentences no fact quotes are kept as spans into the article's
    text (they may corroborate another source's fact), and the facts ``reconcile.trim_quote`` cuts are
    cut while the Document is at hand. At 100,000 articles the Documents and their checks' memos were
    most of the run's memory.
    """

    article: Article
    support: list[tuple[int, int, int]] = Field(
        default_factory=list, description="(sentence id, start, end) of sentences no fact quotes that may support one."
    )
    trimmed: dict[int, Fact] = Field(
        default_factory=dict, description="Position in the result's facts -> that fact cut to its figures' clauses."
    )


class ConflictValue(BaseModel):
    value: str = Field(description="The figure as the source states it, e.g. 'at least 15'.")
    article: str
    date: dt.date | None = None
    citation: Citation
    fact: str | None = Field(None, description="Id of the brief fact that carries this value.")


class Conflict(BaseModel):
    """Sources give the same quantity different values."""

    label: str = Field(description="What is counted, e.g. 'injured'.")
    values: list[ConflictValue]
    latest: str | None = Field(None, description="Article id of the most recent report, when one is newest.")
    newest: dt.date | None = Field(None, description="Date of the newest report; None when none is dated.")
    latest_reports: list[str] = Field(
        default_factory=list, description="Article ids dated ``newest`` (all of them when they tie)."
    )


class Figure(BaseModel):
    """One figure of a fact and the sources that state it: a fact's figures need not share its sources."""

    text: str = Field(description="The figure as the fact states it, with what it counts: 'six missiles'.")
    value: float
    start: int = Field(description="Offset of the figure in the fact's text.")
    end: int
    sources: list[str] = Field(description="Article ids that state this figure (of this counted thing).")
    citations: list[Citation] = Field(description="Per source, the citation that states it.")


class FigureMention(BaseModel):
    """A figure as one source words it."""

    text: str = Field(description="e.g. '1,000-kilometer'.")
    article: str
    citation: Citation


class Agreement(BaseModel):
    """One figure stated in two ways (other units, other rounding): an agreement, not a conflict."""

    first: FigureMention
    second: FigureMention


class BriefFact(BaseModel):
    """A reconciled fact: one statement, every citation that supports it."""

    id: str
    text: str
    citations: list[Citation]
    sources: list[str] = Field(default_factory=list, description="Article ids that support it.")
    corroboration: int = 1
    single_source: bool = True
    figures: list[Figure] = Field(
        default_factory=list, description="The fact's counted figures, each with its sources."
    )
    agreement: list[Agreement] = Field(
        default_factory=list, description="Equivalent statements, e.g. 1,000 km (a1) ≈ 620 miles (a2)."
    )
    in_conflict: bool = Field(False, description="A 'sources differ' entry cites this fact.")
    origin: Literal["llm", "extractive"] = "llm"


SinceLast = Literal["new", "updated", "unchanged"]


class StoryChange(BaseModel):
    """One thing a story reports that the previous brief's matching story did not.

    ``before_*`` describe the previous brief: its citation's ``article`` is an id of *that* brief;
    ``before_article`` is the id of the same source in this brief, when it is still here.
    """

    kind: Literal["new_source", "changed_figure", "new_figure"]
    text: str = Field(description="Readable line built from verified figures, e.g. 'injured: at least 15 → 10'.")
    quantity: str | None = Field(default=None, description="What the figure counts, e.g. 'injured'.")
    before: str | None = None
    after: str | None = None
    article: str | None = Field(default=None, description="This brief's id of the new source or the after figure.")
    after_citation: Citation | None = None
    before_citation: Citation | None = None
    before_source: ArticleRef | None = None
    before_article: str | None = None


class PreviousBrief(BaseModel):
    """The brief this one was compared with."""

    path: str
    generated_at: dt.datetime
    stories: int


class Story(BaseModel):
    """Articles about one event: reconciled facts, conflicts between sources, and a narrative."""

    id: str
    title: str
    summary: str = Field(description="The narrative, with [n] markers that index into ``facts`` (1-based).")
    summary_origin: Literal["llm", "composed"] = "composed"
    articles: list[str] = Field(default_factory=list)
    facts: list[BriefFact] = Field(default_factory=list, description="Ranked: the first are the ones to read.")
    conflicts: list[Conflict] = Field(default_factory=list)
    outlets: dict[str, str] = Field(
        default_factory=dict, description="Article id -> outlet name, when the story's sources have distinct names."
    )
    weight: float = 0.0
    since_last: SinceLast | None = Field(default=None, description="Against the previous brief (None: none).")
    previous: str | None = Field(default=None, description="Id of the matching story in the previous brief.")
    changes: list[StoryChange] = Field(default_factory=list)


class EngineInfo(BaseModel):
    name: str
    model: str
    base_url: str | None = None


class Brief(BaseModel):
    """The whole brief: what every renderer (md, json, html) reads."""

    title: str
    generated_at: dt.datetime
    dates: list[dt.date] = Field(default_factory=list)
    digest: str = Field("", description="Top-of-brief digest; [n] markers index ``stories`` (1-based).")
    digest_origin: Literal["llm", "composed"] = "composed"
    engine: EngineInfo | None = None
    articles: list[ArticleRef] = Field(default_factory=list)
    results: list[ArticleResult] = Field(default_factory=list)
    stories: list[Story] = Field(default_factory=list)
    rejected: list[Rejection] = Field(default_factory=list)
    errors: list[InputError] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    previous: PreviousBrief | None = None
