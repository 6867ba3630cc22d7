"""The README's install command is a plain (non-editable) install: the wheel must carry every module."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_has_every_module_and_prompt(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("summarizer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {f"summarizer/{p.relative_to(ROOT / 'summarizer').as_posix()}" for p in (ROOT / "summarizer").rglob("*.py")}
    assert modules - names == set()
    prompts = {f"summarizer/prompts/{p.name}" for p in (ROOT / "prompts").glob("*.j2")}
    assert len(prompts) >= 6 and prompts - names == set()
