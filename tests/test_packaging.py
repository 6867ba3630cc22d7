"""The README's install command is a plain (non-editable) install: the wheel must carry every module."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_has_every_module_and_prompt(tmp_path: Path) -> None:
    # A clean copy: a stale build/ or *.egg-info in the work tree would hide a missing package.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("summarizer", "prompts"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("summarizer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "summarizer"
    modules = {f"summarizer/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert modules - names == set()
    prompts = {f"summarizer/prompts/{p.name}" for p in (ROOT / "prompts").glob("*.j2")}
    assert len(prompts) >= 6 and prompts - names == set()
