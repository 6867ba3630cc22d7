"""Progress lines for long runs, on stderr, one per phase: done / failed / in flight, tokens, elapsed, ETA.

Quiet unless stderr is a terminal (and not ``--quiet``): piped or logged runs get no control characters.
The counters are kept either way, so callers can read them for a final summary.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def progress_enabled(quiet: bool) -> bool:
    """Show progress only when asked for and stderr is an interactive terminal."""
    if quiet:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


@dataclass
class PhaseCounts:
    """One phase's figures: items done (failed among them), tokens, start time."""

    name: str
    total: int
    started_at: float
    done: int = 0
    failed: int = 0
    tokens: int = 0


def _compact(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 100_000:
        return f"{n / 1000:.0f}k"
    return f"{n:,}"


class Progress:
    """Counters and one progress line per phase ("extract" for articles, "stories" for story writing, ...).

    :meth:`phase` closes the current line (it stays on screen, completed) and starts the next with its own
    counters, elapsed time and ETA; ``done``, ``failed``, ``tokens`` and ``in_flight`` are the current
    phase's, :attr:`phases` keeps every phase's figures.
    """

    def __init__(self, total: int, *, enabled: bool, console: Console | None = None, name: str = "extract") -> None:
        # An explicit console is the caller's decision (tests force a terminal); otherwise require a tty.
        self.enabled = enabled and (console is not None or progress_enabled(False))
        self._console = console
        self.phases: dict[str, PhaseCounts] = {}
        self._bar: Any = None
        self._task: Any = None
        self._wide = True
        self._start(name, total)

    def phase(self, name: str, total: int) -> None:
        """Finish the current phase's line and start ``name`` with ``total`` items (works after close too)."""
        self.close()
        self._start(name, total)

    def _start(self, name: str, total: int) -> None:
        self.current = PhaseCounts(name=name, total=total, started_at=time.monotonic())
        self.phases[name] = self.current
        self._in_flight: set[str] = set()
        if not self.enabled:
            return
        from rich.console import Console as RichConsole
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        console = self._console or RichConsole(stderr=True)
        self._console = console
        self._wide = console.width >= 100
        columns: list[ProgressColumn | str] = [
            TextColumn("{task.description}"),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
        ]
        # The counters matter more than the bar: keep 88 columns for them, draw a bar only when wider.
        if console.width >= 110:
            columns.insert(1, BarColumn(bar_width=min(30, console.width - 100)))
        self._bar = RichProgress(*columns, console=console, transient=False)
        self._task = self._bar.add_task(name, total=total, detail=self._detail())
        self._bar.start()

    @property
    def total(self) -> int:
        return self.current.total

    @property
    def done(self) -> int:
        return self.current.done

    @property
    def failed(self) -> int:
        return self.current.failed

    @property
    def tokens(self) -> int:
        return self.current.tokens

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def _detail(self) -> str:
        c = self.current
        text = f"ok {c.done - c.failed} failed {c.failed} in flight {self.in_flight} tokens {_compact(c.tokens)}"
        # On a narrow terminal the elapsed time is shown without its label, so the line fits in 80 columns.
        return text + " elapsed" if self._wide else text

    def _update(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done, detail=self._detail())
            self._bar.refresh()

    def started(self, key: str) -> None:
        self._in_flight.add(key)
        self._update()

    def finished(self, key: str, *, ok: bool, tokens: int = 0) -> None:
        self._in_flight.discard(key)
        c = self.current
        c.done += 1
        c.failed += not ok
        c.tokens += tokens
        self._update()

    @property
    def elapsed(self) -> float:
        """Seconds since the current phase started."""
        return time.monotonic() - self.current.started_at

    def close(self) -> None:
        if self._bar is not None:
            self._update()
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
