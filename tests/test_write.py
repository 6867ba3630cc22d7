"""Story writing against a SCRIPTED endpoint (tests/scripted_endpoint.py plays the model, it is not one):
several stories' narratives share one call, and each is verified, re-asked and cached on its own."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import lee_corpus
from scripted_endpoint import ScriptedEndpoint, is_batched_narrative, is_digest, is_narrative, well_behaved

import summarizer.write
from summarizer.run import BriefRequest, run_brief

BATCH = 3


def two_sources_each(folder: Path, n: int) -> list[Path]:
    """``n`` real ABC texts, each as two distinct articles (its own header line): ``n`` two-source stories."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, body in enumerate(lee_corpus()[:n]):
        for copy in range(2):
            p = folder / f"a{i:03d}_{copy}.txt"
            p.write_text(f"date 2001-12-24 Copy {copy} ({i}): {' '.join(body.split()[:8])}\n\n{body}\n", "utf-8")
            paths.append(p)
    return paths


def brief(inputs: list[Path], url: str, out: Path, cache: Path) -> dict[str, Any]:
    req = BriefRequest(
        inputs=[str(p) for p in inputs], out=out, base_url=url, cache_path=cache,
        model="scripted", mode="json", concurrency=1, narrative=True, quiet=True,
    )  # fmt: skip
    assert run_brief(req) == 0
    return dict(json.loads((out / "brief.json").read_text(encoding="utf-8")))


def narrated(b: dict[str, Any]) -> list[dict[str, Any]]:
    """The stories worth an LLM narrative (write.worth_narrating): two sources or more, two facts or more."""
    return [s for s in b["stories"] if len(set(s["articles"])) >= 2 and len(s["facts"]) >= 2]


def story_titles(request: dict[str, Any]) -> list[str]:
    user = request["messages"][-1]["content"]
    return re.findall(r"^Story: (.*)$", user, re.M)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summarizer.write, "NARRATIVE_BATCH", BATCH)
    monkeypatch.setattr(summarizer.write, "NARRATIVE_BATCH_CHARS", 10**9)  # only the story count splits


def test_narratives_share_calls_and_a_rerun_makes_none(tmp_path: Path, small_batches: None) -> None:
    paths = two_sources_each(tmp_path / "in", 7)
    db = tmp_path / "c.sqlite3"
    with ScriptedEndpoint(well_behaved) as ep:
        first = brief(paths, ep.base_url, tmp_path / "o1", db)
        calls = [q for q in ep.requests if is_narrative(q)]
    stories = narrated(first)
    assert len(stories) >= 5
    assert len(calls) == math.ceil(len(stories) / BATCH)
    assert all(is_batched_narrative(q) and len(story_titles(q)) <= BATCH for q in calls)
    assert sorted(t for q in calls for t in story_titles(q)) == sorted(s["title"] for s in stories)
    assert all(s["summary_origin"] == "llm" for s in stories)
    assert not [r for r in first["rejected"] if r["field"] == "narrative"]

    with ScriptedEndpoint(well_behaved) as ep:
        again = brief(paths, ep.base_url, tmp_path / "o2", db)
        assert ep.requests == []
    assert [(s["summary"], s["summary_origin"]) for s in again["stories"]] == [
        (s["summary"], s["summary_origin"]) for s in first["stories"]
    ]


def test_one_bad_narrative_in_a_call_is_rejected_and_re_asked_alone(tmp_path: Path, small_batches: None) -> None:
    bad: list[str] = []  # the title of the story whose narrative is always fabricated

    def one_liar(request: dict[str, Any]) -> Any:
        out = well_behaved(request)
        if not is_batched_narrative(request):
            return out
        titles = story_titles(request)
        if not bad:
            bad.append(titles[1])  # the second story of the first call (concurrency 1: a fixed order)
        for item, title in zip(out["narratives"], titles, strict=True):
            if title == bad[0]:
                item["narrative"] = "10,000 people died [1]. " + item["narrative"]
        return out

    paths = two_sources_each(tmp_path / "in", 7)
    db = tmp_path / "c.sqlite3"
    with ScriptedEndpoint(one_liar) as ep:
        b = brief(paths, ep.base_url, tmp_path / "o1", db)
        calls = [q for q in ep.requests if is_narrative(q)]
    stories = narrated(b)
    # One re-ask, carrying only the failing story and what was wrong with it.
    assert len(calls) == math.ceil(len(stories) / BATCH) + 1
    reask = [q for q in calls if "Your previous narrative" in q["messages"][-1]["content"]]
    assert len(reask) == 1 and story_titles(reask[0]) == bad
    assert "10,000" in reask[0]["messages"][-1]["content"]
    by_title = {s["title"]: s for s in stories}
    assert by_title[bad[0]]["summary_origin"] == "composed" and "10,000" not in by_title[bad[0]]["summary"]
    assert re.search(r"\[\d+\]", by_title[bad[0]]["summary"])  # composed when the LLM's failed, citing its facts
    assert all(s["summary_origin"] == "llm" for t, s in by_title.items() if t != bad[0])
    rejected = [r for r in b["rejected"] if r["field"] == "narrative"]
    assert [r["attempt"] for r in rejected] == [1, 2]
    assert all(r["content"].startswith("10,000 people died") and r["reasons"] for r in rejected)

    # The outcome "nothing passed, the composed narrative stands" is cached too: a rerun makes no call.
    with ScriptedEndpoint(well_behaved) as ep:
        again = brief(paths, ep.base_url, tmp_path / "o2", db)
        assert ep.requests == []
    assert {s["title"]: s["summary_origin"] for s in narrated(again)} == {
        t: s["summary_origin"] for t, s in by_title.items()
    }


def test_the_digest_goes_out_with_the_narratives_and_the_brief_is_unchanged(tmp_path: Path) -> None:
    """The digest reads titles and facts only, so without a budget it is asked alongside the narratives (one
    round trip, not two); with a budget it waits its turn. Either way the brief is the same."""
    from scripted_endpoint import is_digest

    paths = two_sources_each(tmp_path / "in", 3)
    latency = 0.4
    briefs, arrivals = [], []
    for budget in (None, 100.0):
        with ScriptedEndpoint(well_behaved, latency=latency) as ep:
            req = BriefRequest(
                inputs=[str(p) for p in paths], out=tmp_path / f"o{budget}", base_url=ep.base_url, model="scripted",
                mode="json", concurrency=4, narrative=True, quiet=True, use_cache=False, budget=budget,
            )  # fmt: skip
            assert run_brief(req) == 0
            times = dict(zip((id(q) for q in ep.requests), ep.times, strict=True))
            narrative = min(times[id(q)] for q in ep.requests if is_narrative(q))
            arrivals.append(times[id(next(q for q in ep.requests if is_digest(q)))] - narrative)
        b = json.loads((tmp_path / f"o{budget}" / "brief.json").read_text(encoding="utf-8"))
        briefs.append((b["digest"], b["digest_origin"], [(s["title"], s["summary"]) for s in b["stories"]]))
    assert briefs[0] == briefs[1] and briefs[0][1] == "llm"
    assert arrivals[0] < latency / 2  # alongside the narratives
    assert arrivals[1] >= latency  # after them: the budget reserves in order


# ---------------------------------------------------------------- narratives asked as stories are built


def _mixed(tmp_path: Path) -> list[Path]:
    """Three two-source stories first, then six single-source articles still to come."""
    from conftest import write_lee

    return two_sources_each(tmp_path / "pairs", 3) + write_lee(tmp_path / "singles", 6, start=20)


def _run_early(paths: list[Path], tmp_path: Path) -> tuple[list[str], int, dict[str, Any]]:
    """A concurrent run (N = 2, 200 ms a call) with LLM narratives: each request's kind in the order they
    arrived, the peak in flight, and the brief."""
    with ScriptedEndpoint(well_behaved, latency=0.2) as ep:
        req = BriefRequest(
            inputs=[str(p) for p in paths], out=tmp_path / "early", base_url=ep.base_url,
            cache_path=tmp_path / "c1.sqlite3", model="scripted", mode="json", concurrency=2, quiet=True,
            narrative=True,
        )  # fmt: skip
        assert run_brief(req) == 0
        kinds = ["narrative" if is_narrative(r) else "digest" if is_digest(r) else "extract" for r in ep.requests]
        peak = ep.max_in_flight
    return kinds, peak, json.loads((tmp_path / "early" / "brief.json").read_text(encoding="utf-8"))


def test_narratives_go_out_as_their_stories_are_built_and_say_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summarizer.write, "NARRATIVE_BATCH", 1)  # a call per story, so none waits for others
    paths = _mixed(tmp_path)
    kinds, _, early = _run_early(paths, tmp_path)
    first_narrative = kinds.index("narrative")
    last_extract = len(kinds) - 1 - kinds[::-1].index("extract")
    assert first_narrative < last_extract, "no narrative went out before the last article's call"
    # The same stories and texts as writing them all after the last article (one call at a time: no writer).
    with ScriptedEndpoint(well_behaved) as ep:
        at_end = brief(paths, ep.base_url, tmp_path / "late", tmp_path / "c2.sqlite3")
    got = {tuple(s["articles"]): (s["summary"], s["summary_origin"]) for s in early["stories"]}
    want = {tuple(s["articles"]): (s["summary"], s["summary_origin"]) for s in at_end["stories"]}
    assert got == want
    assert sum(origin == "llm" for _, origin in got.values()) == 3  # the three two-source stories


def test_the_digest_and_the_last_narratives_go_out_before_the_last_article_s_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest is asked once its stories are built (the heaviest: merge.StoryBuilder's on_top), and a
    part-full narratives call once no story of two sources is left to come (on_sources_done): neither
    waited for the run's last answer, one round trip more at the provider's latency."""
    monkeypatch.setattr(summarizer.write, "DIGEST_STORIES", 3)  # the digest shows the three two-source stories
    paths = _mixed(tmp_path)
    kinds, peak, early = _run_early(paths, tmp_path)
    assert kinds.count("narrative") == 1 and kinds.count("digest") == 1  # three stories in one call (of up to 8)
    last_extract = len(kinds) - 1 - kinds[::-1].index("extract")
    assert kinds.index("narrative") < last_extract and kinds.index("digest") < last_extract, kinds
    assert peak <= 2  # in the run's N
    # The same brief as asking both after the last article (one call at a time: no writer, no early asks).
    with ScriptedEndpoint(well_behaved) as ep:
        at_end = brief(paths, ep.base_url, tmp_path / "late", tmp_path / "c2.sqlite3")
    assert (early["digest"], early["digest_origin"]) == (at_end["digest"], at_end["digest_origin"])
    assert early["digest_origin"] == "llm"
    assert [(s["articles"], s["summary"]) for s in early["stories"]] == [
        (s["articles"], s["summary"]) for s in at_end["stories"]
    ]


def test_a_narrative_waits_for_room_beside_the_articles_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """write.NarrativeWriter(room=…): with the sending workers holding N, no narrative call goes out."""
    import asyncio

    from summarizer.llm import LLM, Endpoint
    from summarizer.models import Story
    from summarizer.templates import Prompts
    from summarizer.write import NarrativeWriter, worth_narrating

    monkeypatch.setattr(summarizer.write, "NARRATIVE_BATCH", 1)
    with ScriptedEndpoint(well_behaved) as ep:
        built = brief(two_sources_each(tmp_path / "pairs", 2), ep.base_url, tmp_path / "b", tmp_path / "c.sqlite3")
        stories = [Story.model_validate(s) for s in built["stories"]]
        assert sum(worth_narrating(s) for s in stories) == 2
        before = len(ep.requests)

        async def go() -> int:
            gate = asyncio.Event()

            async def room(calls: Any) -> None:
                await gate.wait()

            llm = LLM(Endpoint(base_url=ep.base_url, model="scripted", forms=("json",)))
            writer = NarrativeWriter(llm, Prompts(), room=room)
            try:
                for s in stories:
                    writer.add(s)
                await asyncio.sleep(0.3)
                held_back = len(ep.requests) - before
                gate.set()
                out = await writer.finish(stories)
                assert {k for k, w in out.written.items() if w.text} == {s.id for s in stories if worth_narrating(s)}
                return held_back
            finally:
                await llm.close()

        assert asyncio.run(go()) == 0
        assert len(ep.requests) - before == 2
