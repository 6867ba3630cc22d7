"""No credential ever lands in a file we write or a line we print.

The key is sent where it belongs (the Authorization header, checked at the scripted endpoint, so
these tests are meaningful) and nowhere else: not in brief.md/json/html, calls.jsonl, the cache,
stderr or logs, and not in a recorded cassette.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml
from conftest import AP, BBC, ROOT
from scripted_endpoint import ScriptedEndpoint, well_behaved
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.run import BriefRequest, run_brief

KEY_LIKE = [
    re.compile(r"sk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"\bBearer\s+\S+", re.I),
    re.compile(r"authorization", re.I),
]


def key_like(text: str) -> list[str]:
    return [m.group(0)[:40] for rx in KEY_LIKE for m in rx.finditer(text)]


def scan(files: Iterable[Path]) -> dict[str, list[str]]:
    """Key-like strings per file; binary files (the SQLite cache) are scanned as latin-1."""
    found: dict[str, list[str]] = {}
    for f in files:
        hits = key_like(f.read_bytes().decode("latin-1"))
        if hits:
            found[str(f)] = hits
    return found


def fake_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "sk-test-" + "".join(secrets.choice(alphabet) for _ in range(40))


def test_the_scan_finds_planted_secrets(tmp_path: Path) -> None:
    # The scan must be able to fail, or the tests below prove nothing.
    key = fake_key()
    planted = {
        "key.txt": f"api_key={key}\n",
        "bearer.log": "sent header: Bearer abc.def\n",
        "cassette.yaml": yaml.safe_dump({"request": {"headers": {"Authorization": ["x"]}}}),
    }
    for name, text in planted.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "clean.md").write_text("Each side released 307 prisoners; 14 missiles; skis and sk-1 are fine.\n")
    found = scan(sorted(tmp_path.iterdir()))
    assert set(found) == {str(tmp_path / n) for n in planted}
    assert found[str(tmp_path / "key.txt")] == [key[:40]]


def test_committed_cassettes_hold_no_key_like_strings() -> None:
    files = sorted(p for p in (ROOT / "cassettes").rglob("*") if p.is_file())
    if not files:
        pytest.skip("no cassettes/ in this checkout")
    assert scan(files) == {}


def test_api_key_is_sent_but_never_written_or_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = fake_key()
    monkeypatch.setenv("OPENAI_API_KEY", key)
    out = tmp_path / "out"
    cache = tmp_path / "cache"
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(cache))
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs too
    with ScriptedEndpoint(well_behaved) as ep:
        # --verbose logs every LLM call; a bad input and a 2nd run (cache hits) add their own lines.
        args = [
            "brief",
            str(AP),
            str(BBC),
            str(tmp_path / "missing.txt"),
            "--out",
            str(out),
            "--base-url",
            ep.base_url,
            "--model",
            "scripted",
            "--verbose",
        ]
        first = CliRunner().invoke(app, args, catch_exceptions=False)
        second = CliRunner().invoke(app, args, catch_exceptions=False)
        headers = list(ep.headers)
    assert first.exit_code == 1 and second.exit_code == 1  # the missing input
    # Meaningful: the key really travelled, in the Authorization header of every request.
    # 2 extractions + 1 narrative; the second run is served wholly from the cache.
    assert len(headers) == 3
    assert all(h.get("authorization") == f"Bearer {key}" for h in headers)
    files = sorted(p for p in out.rglob("*") if p.is_file()) + sorted(p for p in cache.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"brief.md", "brief.json", "brief.html", "calls.jsonl"}
    assert json.loads((out / "brief.json").read_text())["results"]  # a real brief was written
    for f in files:
        assert key not in f.read_bytes().decode("latin-1"), f
    assert scan(files) == {}
    printed = first.output + second.output + "\n".join(r.getMessage() for r in caplog.records)
    assert "missing.txt" in printed and "wrote" in printed  # stderr really was captured
    assert key not in printed
    assert key_like(printed) == []


def test_recorded_cassette_has_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = fake_key()
    monkeypatch.setenv("OPENAI_API_KEY", key)
    cassette = tmp_path / "rec" / "run.yaml"
    with ScriptedEndpoint(well_behaved) as ep:
        code = run_brief(
            BriefRequest(
                inputs=[str(AP)],
                out=tmp_path / "out",
                base_url=ep.base_url,
                model="scripted",
                mode="json",
                quiet=True,
                use_cache=False,
                record=cassette,
            )
        )
        headers = list(ep.headers)
    assert code == 0
    assert headers and all(h.get("authorization") == f"Bearer {key}" for h in headers)
    text = cassette.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    posts = [i for i in data["interactions"] if i["request"]["uri"].endswith("/chat/completions")]
    assert len(posts) == len(headers)  # every exchange was recorded...
    assert key not in text  # ...without the key
    assert key_like(text) == []
    for item in posts:
        assert not {h.lower() for h in item["request"]["headers"]} & {"authorization", "api-key", "x-api-key"}
    # The scrubbed cassette still replays offline, no key needed.
    monkeypatch.delenv("OPENAI_API_KEY")
    code = run_brief(BriefRequest(inputs=[str(AP)], out=tmp_path / "replayed", quiet=True, replay=cassette))
    assert code == 0
    replayed = json.loads((tmp_path / "replayed" / "brief.json").read_text())
    recorded = json.loads((tmp_path / "out" / "brief.json").read_text())
    assert [r["facts"] for r in replayed["results"]] == [r["facts"] for r in recorded["results"]]
