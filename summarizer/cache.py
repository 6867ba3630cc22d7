"""Per-article result cache in SQLite.

Each verified :class:`~summarizer.models.ArticleResult` is committed as soon as it is done, so a run that is
killed (even with ``kill -9``) keeps every finished article, and a re-run only pays for the rest.

Concurrency: two runs may share one cache file. WAL mode lets readers and one writer proceed together,
``busy_timeout`` makes a second writer wait instead of failing, and every ``put`` is its own short
transaction.
Within a process one connection is shared behind a lock, so threads (e.g. an asyncio thread pool) are safe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel, ValidationError

from summarizer.models import ArticleResult

CACHE_FILENAME = "results.sqlite3"
ENV_CACHE_DIR = "SUMMARIZER_CACHE_DIR"
BUSY_TIMEOUT_MS = 30_000
# Bump when the stored layout or the meaning of a cached result changes; old rows then simply miss.
KEY_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


def default_cache_dir() -> Path:
    """``$SUMMARIZER_CACHE_DIR`` if set, else the platform's user cache dir for 'summarizer'."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs  # small, but only needed here

    return Path(platformdirs.user_cache_dir("summarizer"))


def default_cache_path() -> Path:
    return default_cache_dir() / CACHE_FILENAME


def cache_key(
    *, article_sha256: str, model: str, prompt_template: str, schema: dict[str, Any] | str, extra: str = ""
) -> str:
    """Hex sha256 over a canonical JSON of everything that determines an article's result.

    ``prompt_template`` is the template *source* and ``schema`` the JSON schema, so editing either invalidates
    old entries. A string schema is parsed when it is JSON so formatting differences do not matter.
    """
    schema_obj: Any = schema
    if isinstance(schema, str):
        try:
            schema_obj = json.loads(schema)
        except ValueError:
            schema_obj = schema
    payload = {
        "v": KEY_VERSION,
        "article_sha256": article_sha256,
        "model": model,
        "prompt_template": prompt_template,
        "schema": schema_obj,
        "extra": extra,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CacheStats(BaseModel):
    path: str
    entries: int
    bytes: int
    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None


class ResultCache:
    """SQLite-backed map from :func:`cache_key` to :class:`ArticleResult`."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: autocommit, so we control transactions explicitly and keep them short.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Switching a new file to WAL needs an exclusive lock and SQLite does not wait for it via the busy
        # handler: two runs creating the cache at once would get "database is locked". Retry instead.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(_SCHEMA)
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02 + random.random() * 0.05)
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
        conn.execute("PRAGMA synchronous = NORMAL")

    # ------------------------------------------------------------------ helpers

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("ResultCache is closed")
        return self._conn

    # ------------------------------------------------------------------ API

    def get(self, key: str) -> ArticleResult | None:
        with self._lock:
            row = self.conn.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            try:
                return ArticleResult.model_validate_json(row[0])
            except (ValidationError, ValueError):
                # A row from an older layout or a damaged write: treat as a miss and drop it.
                self.conn.execute("DELETE FROM results WHERE key = ?", (key,))
                return None

    def put(self, key: str, result: ArticleResult) -> None:
        self._put_raw(key, result.model_dump_json())

    def get_value(self, key: str) -> Any:
        """A JSON value stored under ``key`` (a story-writing outcome), or None."""
        with self._lock:
            row = self.conn.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            return None

    def put_value(self, key: str, value: Any) -> None:
        self._put_raw(key, json.dumps(value, ensure_ascii=False))

    def _put_raw(self, key: str, value: str) -> None:
        now = dt.datetime.now(dt.UTC).timestamp()
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO results (key, value, created_at) VALUES (?, ?, ?)",
                    (key, value, now),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._lock:
            return self.conn.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        with self._lock:
            return int(self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def stats(self) -> CacheStats:
        with self._lock:
            n, lo, hi = self.conn.execute("SELECT COUNT(*), MIN(created_at), MAX(created_at) FROM results").fetchone()
        size = 0
        # The WAL and shared-memory files are part of the cache's footprint until a checkpoint folds them in.
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                size += p.stat().st_size

        def ts(x: float | None) -> dt.datetime | None:
            return None if x is None else dt.datetime.fromtimestamp(x, dt.UTC)

        return CacheStats(path=str(self.path), entries=int(n), bytes=size, oldest=ts(lo), newest=ts(hi))

    def clear(self) -> int:
        with self._lock:
            conn = self.conn
            cur = conn.execute("DELETE FROM results")
            removed = cur.rowcount
            # Give the space back; VACUUM needs no open transaction, which holds in autocommit mode.
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("VACUUM")
            except sqlite3.OperationalError:
                pass  # another run holds the file; the rows are gone, the space comes back later
        return int(removed)

    def integrity_check(self) -> str:
        with self._lock:
            return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
