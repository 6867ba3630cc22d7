"""The result cache: keys, round-trips, corruption handling, crash safety and concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from summarizer.cache import CACHE_FILENAME, ResultCache, cache_key, default_cache_path
from summarizer.models import ArticleRef, ArticleResult, Citation, Fact, Usage

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT / "examples" / "bbc_2025-05-24.txt"
SCHEMA = {"type": "object", "properties": {"headline": {"type": "string"}}, "required": ["headline"]}


def make_result(i: int) -> ArticleResult:
    """A result citing a real sentence of the BBC seed, with offsets that index the text as read."""
    text = BBC.read_text(encoding="utf-8")
    quote = "The ministry in Moscow said each side brought home 307 more soldiers"
    start = text.index(quote)
    cit = Citation(article="a1", sentence=2, start=start, end=start + len(quote), quote=quote)
    assert text[cit.start : cit.end] == cit.quote
    return ArticleResult(
        article=ArticleRef(id="a1", path=str(BBC), title=f"Prisoner swap #{i}"),
        status="verified",
        headline="Russia and Ukraine swap 307 more prisoners each",
        summary=quote + ".",
        summary_citations=[cit],
        facts=[Fact(id=f"a1-f{i}", text="Each side brought home 307 more soldiers.", citations=[cit])],
        usage=Usage(calls=1, prompt_tokens=1000 + i, completion_tokens=200, cost_usd=0.0003),
        attempts=1,
    )


def key_for(i: int, model: str = "gpt-4o-mini") -> str:
    return cache_key(article_sha256=f"{i:064x}", model=model, prompt_template="Summarise {{ text }}", schema=SCHEMA)


# ------------------------------------------------------------------ cache_key


def test_cache_key_is_stable_and_sensitive_to_every_part() -> None:
    def key(
        sha: str = "ab" * 32,
        model: str = "gpt-4o-mini",
        template: str = "T {{ x }}",
        schema: dict[str, Any] | str = SCHEMA,
        extra: str = "",
    ) -> str:
        return cache_key(article_sha256=sha, model=model, prompt_template=template, schema=schema, extra=extra)

    k = key()
    assert len(k) == 64 and int(k, 16) >= 0
    assert key() == k
    # Key order in the schema and JSON formatting do not matter ...
    reordered = {"required": ["headline"], "properties": {"headline": {"type": "string"}}, "type": "object"}
    assert key(schema=reordered) == k
    spaced = '{"type":"object", "properties": {"headline": {"type": "string"}}, "required": ["headline"]}'
    assert key(schema=spaced) == k
    # ... but every part that changes the answer does.
    variants = {
        key(sha="cd" * 32),
        key(model="gpt-4o"),
        key(template="T {{ x }} "),
        key(schema={**SCHEMA, "required": []}),
        key(extra="temperature=0.2"),
    }
    assert k not in variants and len(variants) == 5


# ------------------------------------------------------------------ basic behaviour


def test_put_get_roundtrip_stats_clear(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with ResultCache(path) as cache:
        assert cache.get(key_for(1)) is None
        r = make_result(1)
        cache.put(key_for(1), r)
        got = cache.get(key_for(1))
        assert got == r
        assert got is not None and got.facts[0].citations[0].quote.endswith("307 more soldiers")
        cache.put(key_for(1), make_result(2))  # replace, not duplicate
        assert cache.get(key_for(1)) == make_result(2)
        cache.put(key_for(3), make_result(3))
        st = cache.stats()
        assert st.entries == 2 and st.path == str(path) and st.bytes > 0
        assert st.oldest is not None and st.newest is not None and st.oldest <= st.newest
        assert cache.clear() == 2
        assert cache.stats().entries == 0 and cache.get(key_for(3)) is None
    with pytest.raises(RuntimeError):
        cache.get(key_for(1))


def test_persists_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with ResultCache(path) as c1:
        c1.put(key_for(7), make_result(7))
    with ResultCache(path) as c2:
        assert c2.get(key_for(7)) == make_result(7)
        mode = c2.conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode.lower() == "wal"


def test_corrupt_row_is_a_miss_and_is_deleted(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with ResultCache(path) as cache:
        cache.put(key_for(1), make_result(1))
        cache.put(key_for(2), make_result(2))
    raw = sqlite3.connect(path)
    raw.execute("UPDATE results SET value = ? WHERE key = ?", ('{"article": {"id": ', key_for(1)))
    raw.execute("UPDATE results SET value = ? WHERE key = ?", ('{"status": "bogus"}', key_for(2)))
    raw.commit()
    raw.close()
    with ResultCache(path) as cache:
        assert cache.get(key_for(1)) is None
        assert cache.get(key_for(2)) is None
        assert key_for(1) not in cache and key_for(2) not in cache
        assert len(cache) == 0


def test_default_path_honours_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(tmp_path / "cachedir"))
    assert default_cache_path() == tmp_path / "cachedir" / CACHE_FILENAME
    with ResultCache() as cache:
        cache.put(key_for(1), make_result(1))
        assert cache.path == tmp_path / "cachedir" / CACHE_FILENAME
    assert (tmp_path / "cachedir" / CACHE_FILENAME).exists()
    monkeypatch.delenv("SUMMARIZER_CACHE_DIR")
    assert default_cache_path().name == CACHE_FILENAME
    assert "summarizer" in str(default_cache_path())


def test_threads_share_one_cache(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with ResultCache(tmp_path / "c.sqlite3") as cache:

        def work(t: int) -> None:
            try:
                for i in range(50):
                    n = t * 1000 + i
                    cache.put(key_for(n), make_result(n))
                    assert cache.get(key_for(n)) is not None
            except BaseException as e:  # collected so the main thread can fail the test
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert len(cache) == 200
        assert cache.integrity_check() == "ok"


# ------------------------------------------------------------------ processes

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, str(Path(sys.argv[1]) / "tests"))
    from test_cache import key_for, make_result
    from summarizer.cache import ResultCache
    path, first, count, sleep, go = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), \
        sys.argv[6]
    while go != "-" and not Path(go).exists():
        time.sleep(0.005)
    cache = ResultCache(Path(path))
    for i in range(first, first + count):
        cache.put(key_for(i), make_result(i))
        print(i, flush=True)
        if sleep:
            time.sleep(sleep)
    cache.close()
    """
)


def spawn_writer(path: Path, first: int, count: int, sleep: float, go: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(ROOT),
            str(path),
            str(first),
            str(count),
            str(sleep),
            str(go or "-"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def check_db(path: Path) -> None:
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_kill_9_midway_keeps_finished_articles(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    proc = spawn_writer(path, first=0, count=1000, sleep=0.02)
    assert proc.stdout is not None
    done: list[int] = []
    while len(done) < 15:
        line = proc.stdout.readline()
        assert line, "writer exited early"
        done.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    check_db(path)
    with ResultCache(path) as cache:
        n = len(cache)
        # Everything the writer reported is committed; at most the one in flight may also be there.
        assert len(done) <= n <= len(done) + 2 < 1000
        for i in done:
            assert cache.get(key_for(i)) == make_result(i)
        assert cache.integrity_check() == "ok"
        # The file is usable for the next run.
        cache.put(key_for(5000), make_result(5000))
        assert cache.get(key_for(5000)) == make_result(5000)


def test_kill_9_while_writing_flat_out(tmp_path: Path) -> None:
    # No sleeps: the kill very likely lands inside a transaction.
    path = tmp_path / "c.sqlite3"
    proc = spawn_writer(path, first=0, count=100_000, sleep=0)
    assert proc.stdout is not None
    last = -1
    while last < 150:
        line = proc.stdout.readline()
        assert line, "writer exited early"
        last = int(line)
    proc.kill()
    proc.wait(timeout=10)
    check_db(path)
    with ResultCache(path) as cache:
        assert len(cache) >= 151
        for i in range(0, 151, 10):
            assert cache.get(key_for(i)) == make_result(i)


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    go = tmp_path / "go"
    procs = [
        spawn_writer(path, first=0, count=200, sleep=0, go=go),
        spawn_writer(path, first=10_000, count=200, sleep=0, go=go),
    ]
    time.sleep(0.5)  # let both import and reach the start line, so they really overlap
    go.touch()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert all(len(o.split()) == 200 for o in outs)
    check_db(path)
    with ResultCache(path) as cache:
        assert len(cache) == 400
        for i in [*range(200), *range(10_000, 10_200)]:
            assert cache.get(key_for(i)) == make_result(i)


def test_open_waits_for_a_writer_on_a_fresh_file(tmp_path: Path) -> None:
    # Two runs starting together: one is still writing the new file (not yet WAL) when the other opens it.
    # Switching to WAL then needs a lock SQLite's busy handler does not wait for; opening must still succeed.
    path = tmp_path / "c.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    raw.execute("CREATE TABLE other (x)")
    raw.execute("BEGIN IMMEDIATE")
    raw.execute("INSERT INTO other VALUES (1)")
    release = threading.Timer(0.4, lambda: raw.execute("COMMIT"))
    release.start()
    t0 = time.monotonic()
    try:
        with ResultCache(path) as cache:
            waited = time.monotonic() - t0
            cache.put(key_for(1), make_result(1))
            assert cache.get(key_for(1)) == make_result(1)
    finally:
        release.join()
        raw.close()
    assert 0.3 < waited < 10
