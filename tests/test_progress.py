"""The progress display: silent when not on a terminal or when quiet, informative when on one."""

from __future__ import annotations

import io
import re
import sys

import pytest
from rich.console import Console

from summarizer.progress import Progress, progress_enabled


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(p: Progress) -> None:
    with p:
        p.started("a1")
        p.started("a2")
        p.started("a3")
        p.finished("a1", ok=True, tokens=1234)
        p.finished("a2", ok=False, tokens=0)


def test_progress_enabled_follows_quiet_and_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", _TTY())
    assert progress_enabled(False) is True
    assert progress_enabled(True) is False
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled(False) is False


def test_silent_when_stderr_is_not_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    # stderr redirected to a file/pipe: enabled=True (no --quiet) must still print nothing.
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    p = Progress(3, enabled=True)
    _run(p)
    assert fake.getvalue() == ""
    assert (p.done, p.failed, p.in_flight, p.tokens) == (2, 1, 1, 1234)
    # The same calls on a terminal do draw: the silence above is the tty check, not a dead reporter.
    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    _run(Progress(3, enabled=True))
    assert "2/3" in tty.getvalue()


def test_silent_when_quiet_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _TTY()
    monkeypatch.setattr(sys, "stderr", fake)
    p = Progress(3, enabled=progress_enabled(quiet=True))
    _run(p)
    assert fake.getvalue() == ""
    assert p.done == 2


def test_shows_counters_on_a_terminal() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=160, color_system=None)
    p = Progress(3, enabled=True, console=console)
    _run(p)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    final = text.splitlines()[-1]
    assert "2/3" in final
    assert "ok 1" in final and "failed 1" in final and "in flight 1" in final
    assert "tokens 1,234" in final
    assert "elapsed" in final and "eta" in final
    # Intermediate states were drawn too: all three were in flight before any finished.
    assert "in flight 3" in text


def test_disabled_with_console_writes_nothing() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True)
    _run(Progress(3, enabled=False, console=console))
    assert buf.getvalue() == ""


def test_fits_an_80_column_terminal_on_a_long_run() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=80, color_system=None)
    with Progress(1000, enabled=True, console=console) as p:
        for i in range(999):
            p.started(str(i))
            p.finished(str(i), ok=i % 7 != 0, tokens=12_345)
        p.started("last")
    final = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue()).splitlines()[-1]
    assert "…" not in final  # nothing truncated
    assert "999/1000" in final and "ok 856" in final and "failed 143" in final
    assert "in flight 1" in final and "tokens 12.3M" in final


def _plain(buf: io.StringIO) -> list[str]:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue()).splitlines()


def test_each_phase_gets_its_own_line_and_counters() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=160, color_system=None)
    with Progress(3, enabled=True, console=console) as p:
        _run(p)  # closes the "extract" phase on the way out
        p.phase("stories", 2)
        assert (p.done, p.failed, p.in_flight, p.tokens, p.total) == (0, 0, 0, 0, 2)
        p.started("s1")
        p.finished("s1", ok=True, tokens=99)
    lines = _plain(buf)
    extract = [line for line in lines if line.startswith("extract")]
    stories = [line for line in lines if line.startswith("stories")]
    assert extract and stories
    # The extraction line stays as it ended; the stories line counts from zero with the same figures.
    assert "2/3" in extract[-1] and "tokens 1,234" in extract[-1]
    final = stories[-1]
    assert "1/2" in final and "ok 1" in final and "failed 0" in final and "tokens 99" in final
    assert "elapsed" in final and "eta" in final
    assert {k: (c.total, c.done, c.failed, c.tokens) for k, c in p.phases.items()} == {
        "extract": (3, 2, 1, 1234),
        "stories": (2, 1, 0, 99),
    }


def test_story_writing_shows_as_a_phase_of_its_own(seed_docs) -> None:  # type: ignore[no-untyped-def]
    """The real pipeline against the SCRIPTED endpoint: extraction, then story writing on its own line."""
    import asyncio

    from scripted_endpoint import ScriptedEndpoint, is_narrative, well_behaved

    from summarizer.llm import LLM, Endpoint
    from summarizer.pipeline import Options, build_brief, segment_and_process
    from summarizer.templates import Prompts

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=160, color_system=None)
    progress = Progress(len(seed_docs), enabled=True, console=console)
    with ScriptedEndpoint(well_behaved) as ep:

        async def go() -> None:
            llm = LLM(Endpoint(base_url=ep.base_url, model="scripted"))
            try:
                with progress:
                    docs, results = await segment_and_process(
                        seed_docs, llm, Prompts(), Options(concurrency=2), progress=progress
                    )
                    brief = await build_brief(docs, results, llm, Prompts(), Options(), progress=progress)
                assert len(brief.stories) == 1
            finally:
                await llm.close()

        asyncio.run(go())
        narrative_calls = sum(is_narrative(r) for r in ep.requests)
    stories = progress.phases["stories"]
    assert narrative_calls >= 1
    assert (stories.total, stories.done, stories.failed) == (1, 1, 0)  # one story, its narrative accepted
    assert stories.tokens > 0
    lines = _plain(buf)
    assert any(line.startswith("extract") and "2/2" in line for line in lines)
    assert any(line.startswith("stories") and "1/1" in line and "ok 1" in line for line in lines)
