"""Prompt templates: jinja2 files in ``prompts/`` (installed as ``summarizer.prompts``).

A user folder (``--prompts DIR`` or ``SUMMARIZER_PROMPTS``) overrides templates by name; anything it
lacks falls back to the bundled one.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Any


class Prompts:
    """The prompt templates of a run: the bundled ones, overridden by name from a user folder."""

    def __init__(self, folder: Path | None = None) -> None:
        import jinja2

        folder = folder or (Path(os.environ["SUMMARIZER_PROMPTS"]) if os.environ.get("SUMMARIZER_PROMPTS") else None)
        if folder is not None and not folder.is_dir():
            raise FileNotFoundError(f"{folder}: prompts folder not found")
        bundled = str(files("summarizer.prompts"))
        loaders: list[jinja2.BaseLoader] = []
        if folder is not None:
            loaders.append(jinja2.FileSystemLoader(str(folder)))
        loaders.append(jinja2.FileSystemLoader(bundled))
        # Prompts are plain text for a model, not HTML: no autoescape, but fail loudly on typos.
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            auto_reload=False,  # a run's templates do not change under it: no stat() per render
        )
        self.folder = folder
        self._sources: dict[str, str] = {}

    def render(self, name: str, **variables: Any) -> str:
        return self._env.get_template(name).render(**variables).strip()

    def source(self, name: str) -> str:
        """The template's text, for cache keys: a changed prompt is a new key."""
        if name not in self._sources:
            loader = self._env.loader
            assert loader is not None
            self._sources[name] = loader.get_source(self._env, name)[0]
        return self._sources[name]
