"""Shared fixtures. The seeds (examples/) are two real reports of one event, AP and BBC."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AP = EXAMPLES / "ap_2025-05-25.txt"
BBC = EXAMPLES / "bbc_2025-05-24.txt"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/scripted_endpoint.py


def seed_article(aid: str, name: str):  # type: ignore[no-untyped-def]
    """A seed from examples/ through the real load stage, under the given article id."""
    from summarizer.load import load_inputs

    loaded = load_inputs([str(EXAMPLES / name)])
    assert not loaded.errors, loaded.errors
    return loaded.articles[0].model_copy(update={"id": aid, "path": f"examples/{name}"})


def lee_corpus() -> list[str]:
    """gensim's 300 real ABC news texts (lee_background.cor), one article per line."""
    gensim = pytest.importorskip("gensim")
    path = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_lee(folder: Path, n: int, start: int = 0) -> list[Path]:
    """``n`` real ABC news texts, one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(lee_corpus()[start : start + n], start):
        p = folder / f"lee_{i:03d}.txt"
        p.write_text(text + "\n", encoding="utf-8")
        paths.append(p)
    return paths


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Never reach a real provider, never touch the user's cache.
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARIZER_MODEL", "SUMMARIZER_PROMPTS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SUMMARIZER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def seed_docs():  # type: ignore[no-untyped-def]
    from summarizer.load import load_inputs
    from summarizer.segment import segment

    loaded = load_inputs([str(AP), str(BBC)])
    assert not loaded.errors
    return [segment(a) for a in loaded.articles]
