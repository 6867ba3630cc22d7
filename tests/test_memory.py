"""A big run holds what the later stages need of each article, not its Document, and writes the same brief.

At 100,000 articles the Documents (every sentence) and the checks' memos on them were most of the run's
memory, and brief.json / brief.html were each built as one string before being written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import weakref
from pathlib import Path
from typing import Any

from conftest import AP, BBC, write_lee

from summarizer.models import Article, ArticleEvidence, ArticleResult, Brief, Document
from summarizer.templates import Prompts


def _articles(tmp_path: Path, n: int) -> list[Article]:
    from summarizer.load import load_inputs

    loaded = load_inputs([str(p) for p in write_lee(tmp_path / "in", n)] + [str(AP), str(BBC)])
    assert not loaded.errors
    return loaded.articles


def _faithful(articles: list[Article]) -> tuple[list[Document], list[ArticleResult]]:
    """Each article verified on the scripted endpoint's faithful answer (no HTTP)."""
    from scripted_endpoint import well_behaved

    from summarizer.extract import build_prompt
    from summarizer.models import LLMExtraction
    from summarizer.segment import segment
    from summarizer.verify import verify_extraction

    docs, results = [], []
    for a in articles:
        d = segment(a)
        answer = well_behaved({"messages": [{"role": "user", "content": build_prompt(d, Prompts())[1]}]})
        docs.append(d)
        results.append(verify_extraction(LLMExtraction.model_validate_json(json.dumps(answer)), d, attempt=1))
    return docs, results


def _brief(docs: Any, results: list[ArticleResult]) -> Brief:
    from summarizer.pipeline import Options, build_brief_sync

    brief = build_brief_sync(docs, results, None, Prompts(), Options(narrative=False))
    brief.generated_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return brief


def test_the_run_keeps_no_document_once_its_article_is_verified(tmp_path: Path, monkeypatch: Any) -> None:
    from scripted_endpoint import ScriptedEndpoint, well_behaved

    import summarizer.segment as segmentation
    from summarizer.llm import LLM, Endpoint
    from summarizer.pipeline import Options, segment_and_process

    articles = _articles(tmp_path, 30)
    made: list[weakref.ref[Document]] = []
    real = segmentation.segment

    def tracked(article: Article) -> Document:
        doc = real(article)
        made.append(weakref.ref(doc))
        return doc

    monkeypatch.setattr(segmentation, "segment", tracked)
    with ScriptedEndpoint(well_behaved) as ep:

        async def go() -> tuple[list[ArticleEvidence], list[ArticleResult]]:
            llm = LLM(Endpoint(base_url=ep.base_url, model="scripted", forms=("json",)))
            try:
                return await segment_and_process(articles, llm, Prompts(), Options(concurrency=4))
            finally:
                await llm.close()

        kept, results = asyncio.run(go())
    gc.collect()
    assert len(made) == len(articles)
    assert [r() for r in made] == [None] * len(articles), "a Document outlived its article's processing"
    assert all(isinstance(k, ArticleEvidence) for k in kept)
    assert [k.article.id for k in kept] == [r.article.id for r in results] == [a.id for a in articles]


def test_the_brief_from_kept_evidence_is_the_brief_from_documents(tmp_path: Path) -> None:
    from summarizer.merge import article_evidence

    docs, results = _faithful(_articles(tmp_path, 60))
    kept = [article_evidence(r, d) for r, d in zip(results, docs, strict=True)]
    assert any(k.trimmed for k in kept) and any(k.support for k in kept)  # both paths are exercised
    from_docs = _brief(docs, results)
    assert any(len(s.articles) > 1 for s in from_docs.stories)
    assert _brief(kept, results).model_dump_json() == from_docs.model_dump_json()


def test_brief_json_and_html_are_written_piece_by_piece_with_the_same_bytes(tmp_path: Path) -> None:
    from summarizer.render import json_chunks, write_brief
    from summarizer.render.html import render_html

    articles = _articles(tmp_path, 12)
    brief = _brief(*_faithful(articles))
    assert len(list(json_chunks(brief))) > 10  # streamed, not one string
    by_id = {a.id: a for a in articles}
    paths = write_brief(brief, by_id, tmp_path / "out")
    assert paths[1].read_text(encoding="utf-8") == brief.model_dump_json(indent=2)
    assert paths[2].read_text(encoding="utf-8") == render_html(brief, by_id)
    empty = Brief(title="Brief", generated_at=brief.generated_at)
    assert "".join(json_chunks(empty)) == empty.model_dump_json(indent=2)
    one = empty.model_copy(update={"articles": brief.articles[:1], "rejected": brief.rejected[:2]})
    assert "".join(json_chunks(one)) == one.model_dump_json(indent=2)
