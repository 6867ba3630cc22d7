"""A progress line for long runs, on stderr: done / failed / in flight, elapsed, ETA, tokens.

Quiet unless stderr is a terminal (and not ``--quiet``): piped or logged runs get no control characters.
The counters are kept either way, so callers can read them for a final summary.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING

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


def _compact(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 100_000:
        return f"{n / 1000:.0f}k"
    return f"{n:,}"


class Progress:
    def __init__(self, total: int, *, enabled: bool, console: Console | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.tokens = 0
        self.started_at = time.monotonic()
        self._in_flight: set[str] = set()
        # An explicit console is the caller's decision (tests force a terminal); otherwise require a tty.
        self.enabled = enabled and (console is not None or progress_enabled(False))
        self._bar = None
        self._task = None
        if self.enabled:
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

            console = console or RichConsole(stderr=True)
            columns: list[ProgressColumn | str] = [
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
            ]
            # The counters matter more than the bar: keep 80 columns for them, draw a bar only when wider.
            if console.width >= 100:
                columns.insert(0, BarColumn(bar_width=min(30, console.width - 90)))
            self._bar = RichProgress(*columns, console=console, transient=False)
            self._task = self._bar.add_task("articles", total=total, detail=self._detail())
            self._bar.start()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def _detail(self) -> str:
        return (
            f"ok {self.done - self.failed} failed {self.failed} "
            f"in flight {self.in_flight} tokens {_compact(self.tokens)} elapsed"
        )

    def _update(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done, detail=self._detail())
            self._bar.refresh()

    def started(self, article_id: str) -> None:
        self._in_flight.add(article_id)
        self._update()

    def finished(self, article_id: str, *, ok: bool, tokens: int = 0) -> None:
        self._in_flight.discard(article_id)
        self.done += 1
        if not ok:
            self.failed += 1
        self.tokens += tokens
        self._update()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

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
