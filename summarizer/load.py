"""Load stage: turn paths, directories and globs into ``Article``s, and say clearly what could not be used.

Offsets (citations) index into ``Article.text`` exactly as decoded: no newline translation, CRLF stays
CRLF. A UTF-8 byte-order mark is not part of the text (offsets count from after it). Files that are not
valid UTF-8 are decoded as cp1252 (then latin-1) with a note. HTML is reduced to its article text with
trafilatura, and offsets index into that extracted text.

Bad inputs never stop the batch: each becomes an ``InputError`` with a one-line reason.
"""

from __future__ import annotations

import datetime as dt
import errno
import glob
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from summarizer.article import Rejected as _Rejected
from summarizer.article import article_from_text
from summarizer.models import Article, InputError, LoadResult

if TYPE_CHECKING:
    from summarizer.fetch import FetchOptions

__all__ = ["TEXT_SUFFIXES", "load_inputs"]

# Extensions picked up inside directories (and by extension-less glob patterns such as ``dir/*``).
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm"})

_SNIFF = 8192  # NUL bytes in this many leading bytes mean "binary"
_BOM = b"\xef\xbb\xbf"
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass
class _Decoded:
    text: str
    encoding: str
    notes: list[str] = field(default_factory=list)
    loud: bool = False  # notes worth a line in LoadResult.notes too


def load_inputs(
    inputs: Sequence[str],
    *,
    max_bytes: int = 2_000_000,
    fetch: FetchOptions | None = None,
    since: dt.datetime | None = None,
) -> LoadResult:
    """Read every input (file, directory, glob, page URL, feed or OPML list) in the order given.

    Files inside a directory or matched by a glob are sorted. Identical content is kept once.
    Article ids are ``a1``, ``a2``, ... in the final order. URLs, feeds and OPML go to
    :func:`summarizer.feeds.load_web` (``fetch`` bounds the downloads; ``since`` skips old entries).
    """
    result = LoadResult()
    seen_paths: set[str] = set()
    by_hash: dict[str, str] = {}
    web = _load_web(inputs, fetch, since, result)
    for spec in inputs:
        if spec in web:
            for item in web[spec]:
                if isinstance(item, InputError):
                    result.errors.append(item)
                elif item.sha256 in by_hash:
                    result.notes.append(f"{item.url or item.path} duplicates {by_hash[item.sha256]}; skipped")
                else:
                    by_hash[item.sha256] = item.url or item.path
                    item.id = f"a{len(result.articles) + 1}"
                    result.articles.append(item)
            continue
        for path in _expand(spec, result):
            real = os.path.realpath(path)
            if real in seen_paths:  # the same file named twice (e.g. a dir and a glob): not a duplicate story
                continue
            seen_paths.add(real)
            try:
                article = _load_file(path, max_bytes)
            except _Rejected as exc:
                result.errors.append(InputError(path=path, reason=str(exc)))
                continue
            if article.sha256 in by_hash:
                result.notes.append(f"{path} duplicates {by_hash[article.sha256]}; skipped")
                continue
            by_hash[article.sha256] = path
            article.id = f"a{len(result.articles) + 1}"
            result.articles.append(article)
            result.notes.extend(f"{path}: {n}" for n in article.notes if _is_loud(n))
    return result


def _load_web(
    inputs: Sequence[str], fetch: FetchOptions | None, since: dt.datetime | None, result: LoadResult
) -> dict[str, list[Article | InputError]]:
    from summarizer.feeds import is_web_input, load_web  # httpx and feedparser only when a URL or feed shows up

    specs = [s for s in dict.fromkeys(inputs) if is_web_input(s)]
    if not specs:
        return {}
    loaded = load_web(specs, options=fetch, since=since)
    result.notes.extend(loaded.notes)
    st = loaded.stats
    result.notes.append(
        f"web: {st.downloaded} downloaded ({st.bytes / 1e6:.1f} MB), {st.not_modified} not modified (cached), "
        f"{st.failed} failed"
    )
    return loaded.items


# ---------------------------------------------------------------- finding files


def _expand(spec: str, result: LoadResult) -> Iterator[str]:
    if os.path.lexists(spec):
        yield from _expand_path(spec, result)
        return
    if _GLOB_CHARS.search(spec):
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            result.errors.append(InputError(path=spec, reason="no files match this pattern"))
            return
        # `dir/*` means "the documents in dir"; `dir/*.csv` means the user chose the files.
        filter_ext = "." not in os.path.basename(spec)
        for m in matches:
            if os.path.isdir(m):
                if not spec.endswith("**"):  # `**` already lists everything below
                    yield from _walk(m, result)
            elif not filter_ext or _is_text_name(m):
                yield m
        return
    result.errors.append(InputError(path=spec, reason="no such file or directory"))


def _expand_path(path: str, result: LoadResult) -> Iterator[str]:
    try:
        st = os.stat(path)
    except OSError:  # a broken or looping link: reading it reports why, once per path
        yield path
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _walk(path, result)
    else:
        yield path  # an explicitly named file is read whatever its extension


def _walk(top: str, result: LoadResult) -> Iterator[str]:
    """Text files below ``top``, sorted. Symlinked directories are followed once: a link back to a
    directory already being walked (a loop) is skipped with a note. Hidden entries are skipped."""
    visited: set[str] = set()
    found: list[str] = []

    def on_error(exc: OSError) -> None:
        where = exc.filename or top
        result.errors.append(InputError(path=str(where), reason=_os_reason(exc, str(where))))

    for root, dirs, files in os.walk(top, onerror=on_error, followlinks=True):
        # followlinks=True so a linked folder of articles is read; loops are pruned below.
        visited.add(os.path.realpath(root))
        keep = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            full = os.path.join(root, d)
            real = os.path.realpath(full)
            if real in visited or _is_ancestor(real, root):
                result.notes.append(f"{full}: symlink loop back to {real}; not followed")
                continue
            keep.append(d)
        dirs[:] = keep
        found.extend(os.path.join(root, f) for f in files if not f.startswith(".") and _is_text_name(f))
    # Sort on path components so `a/b.txt` and `a.txt` order the same on every platform.
    yield from sorted(found, key=lambda p: os.path.relpath(p, top).split(os.sep))


def _is_ancestor(real: str, root: str) -> bool:
    here = os.path.realpath(root)
    return here == real or here.startswith(real.rstrip(os.sep) + os.sep)


def _is_text_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in TEXT_SUFFIXES


def _os_reason(exc: OSError, path: str) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"broken symlink to {os.readlink(path)}"
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read: {exc.strerror or exc}"


# ---------------------------------------------------------------- reading one file


def _load_file(path: str, max_bytes: int) -> Article:
    data = _read(path, max_bytes)
    decoded = _decode(data)
    return article_from_text(decoded.text, path, encoding=decoded.encoding, notes=decoded.notes)


def _read(path: str, max_bytes: int) -> bytes:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise _Rejected("not a regular file")
        if st.st_size > max_bytes:
            raise _Rejected(f"{_mb(st.st_size)} is larger than the {_mb(max_bytes)} limit; split it")
        if st.st_size == 0:
            raise _Rejected("empty file")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # bounded: the file may have grown since stat
    except OSError as exc:
        raise _Rejected(_os_reason(exc, path)) from None
    if len(data) > max_bytes:
        raise _Rejected(f"larger than the {_mb(max_bytes)} limit; split it")
    if not data:
        raise _Rejected("empty file")
    return data


def _decode(data: bytes) -> _Decoded:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 has NULs but is text
        try:
            return _Decoded(data.decode("utf-16"), "utf-16", ["decoded as UTF-16 (byte-order mark)"], True)
        except UnicodeDecodeError:
            raise _Rejected("invalid UTF-16 (has a UTF-16 byte-order mark)") from None
    if b"\x00" in data[:_SNIFF]:
        raise _Rejected("binary file (NUL bytes), not text")
    if data.startswith(_BOM):
        try:
            text = data[len(_BOM) :].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            note = "UTF-8 byte-order mark removed; offsets index the text after it"
            return _Decoded(text, "utf-8-sig", [note])
    try:
        return _Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return _Decoded(data.decode("cp1252"), "cp1252", ["decoded as cp1252 (not valid UTF-8)"], True)
    except UnicodeDecodeError:  # cp1252 leaves five bytes undefined; latin-1 maps every byte
        return _Decoded(data.decode("latin-1"), "latin-1", ["decoded as latin-1 (not valid UTF-8)"], True)


def _is_loud(note: str) -> bool:
    return note.startswith("decoded as")


# ---------------------------------------------------------------- small helpers


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"
