"""The load stage: real seeds, every bad-input case, and the rest of the batch still loading."""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from summarizer.load import load_inputs
from summarizer.models import LoadResult

ROOT = Path(__file__).resolve().parents[1]
AP = ROOT / "examples" / "ap_2025-05-25.txt"
BBC = ROOT / "examples" / "bbc_2025-05-24.txt"
AP_TEXT = AP.read_text(encoding="utf-8")
BBC_TEXT = BBC.read_text(encoding="utf-8")
BODY = (
    "The ministry in Moscow said each side brought home 307 more soldiers. "
    "A day earlier each released a total of 390 combatants and civilians.\n"
)


@pytest.fixture()
def good(tmp_path: Path) -> Path:
    """A known-good article to check the rest of a batch still loads next to a bad input."""
    p = tmp_path / "good.txt"
    p.write_text("Prisoner swap\n\n" + BODY, encoding="utf-8")
    return p


def only_good(res: LoadResult, good: Path) -> None:
    assert [a.path for a in res.articles] == [str(good)]
    assert res.articles[0].id == "a1" and res.articles[0].title == "Prisoner swap"


def one_error(res: LoadResult, path: Path | str, *words: str) -> str:
    assert len(res.errors) == 1, res.errors
    err = res.errors[0]
    assert err.path == str(path)
    assert "\n" not in err.reason
    for w in words:
        assert w in err.reason
    return err.reason


# ---------------------------------------------------------------- the seeds


def test_seed_headers() -> None:
    res = load_inputs([str(AP), str(BBC)])
    assert res.errors == [] and res.notes == []
    ap, bbc = res.articles
    assert (ap.id, bbc.id) == ("a1", "a2")
    assert ap.date == dt.date(2025, 5, 25) and bbc.date == dt.date(2025, 5, 24)
    assert ap.title == AP_TEXT.splitlines()[0].split(" ", 3)[3]
    assert ap.title.startswith("Russia and Ukraine exchanged hundreds of prisoners Saturday")
    assert bbc.title == (
        "Russia and Ukraine have swapped hundreds more prisoners, according to the Russian defence ministry."
    )
    assert ap.text == AP_TEXT and bbc.text == BBC_TEXT  # unchanged, header included
    # The body starts after the header line and the blank line under it.
    assert ap.body_start == len(AP_TEXT.splitlines(keepends=True)[0]) + 1
    assert ap.text[ap.body_start :].startswith("Russia and Ukraine exchanged hundreds of prisoners Saturday")
    assert bbc.text[bbc.body_start :].startswith("The move is part of a major swap")
    assert ap.sha256 == hashlib.sha256(AP_TEXT.encode()).hexdigest()
    assert ap.encoding == "utf-8" and ap.notes == []


def test_header_leniency_and_bad_date(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("\t  date 2024-01-02   Tabbed headline  \nBody text here.\n", encoding="utf-8")
    b = tmp_path / "b.txt"
    b.write_text(" date 2024-13-40 Odd date\nBody text here too.\n", encoding="utf-8")
    ra, rb = load_inputs([str(a), str(b)]).articles
    assert ra.date == dt.date(2024, 1, 2) and ra.title == "Tabbed headline"
    assert ra.text[ra.body_start :] == "Body text here.\n"
    assert rb.date is None and rb.title == "Odd date"
    assert any("2024-13-40" in n for n in rb.notes)


def test_header_only_is_an_error(tmp_path: Path, good: Path) -> None:
    p = tmp_path / "h.txt"
    p.write_text(" date 2025-05-25 Just a headline\n\n", encoding="utf-8")
    res = load_inputs([str(p), str(good)])
    one_error(res, p, "no article body")
    only_good(res, good)


# ---------------------------------------------------------------- plain text, markdown


def test_plain_txt_and_md(tmp_path: Path) -> None:
    t = tmp_path / "plain.txt"
    t.write_text("\n\n  Kyiv attacked overnight  \n\n" + BODY, encoding="utf-8")
    m = tmp_path / "note.md"
    m.write_text("## **Prisoner exchange** ##\n\n" + BODY, encoding="utf-8")
    res = load_inputs([str(t), str(m)])
    pt, md = res.articles
    assert pt.title == "Kyiv attacked overnight" and pt.date is None and pt.body_start == 0
    assert md.title == "Prisoner exchange" and md.body_start == 0
    assert pt.text == t.read_text(encoding="utf-8")


def test_explicit_file_of_other_extension_is_read(tmp_path: Path) -> None:
    p = tmp_path / "story.log"
    p.write_text("Headline\n" + BODY, encoding="utf-8")
    assert [a.title for a in load_inputs([str(p)]).articles] == ["Headline"]


# ---------------------------------------------------------------- directories and globs


def make_tree(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    (d / "sub" / "deeper").mkdir(parents=True)
    (d / "b.txt").write_text("B story\n" + BODY + "b", encoding="utf-8")
    (d / "a.md").write_text("A story\n" + BODY + "a", encoding="utf-8")
    (d / "sub" / "c.markdown").write_text("C story\n" + BODY + "c", encoding="utf-8")
    (d / "sub" / "deeper" / "d.htm").write_text(html_page("D story", "d"), encoding="utf-8")
    (d / "sub" / "skip.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (d / ".hidden.txt").write_text("Hidden\n" + BODY + "h", encoding="utf-8")
    return d


def test_directory_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    d = make_tree(tmp_path)
    res = load_inputs([str(d)])
    assert res.errors == []
    rel = [os.path.relpath(a.path, d) for a in res.articles]
    assert rel == ["a.md", "b.txt", "sub/c.markdown", "sub/deeper/d.htm"]
    assert [a.id for a in res.articles] == ["a1", "a2", "a3", "a4"]
    assert [a.title for a in res.articles] == ["A story", "B story", "C story", "D story"]


def test_input_order_is_kept(tmp_path: Path) -> None:
    d = make_tree(tmp_path)
    res = load_inputs([str(BBC), str(d / "sub"), str(AP)])
    assert [Path(a.path).name for a in res.articles] == [
        "bbc_2025-05-24.txt",
        "c.markdown",
        "d.htm",
        "ap_2025-05-25.txt",
    ]
    assert [a.id for a in res.articles] == ["a1", "a2", "a3", "a4"]


def test_globs(tmp_path: Path) -> None:
    d = make_tree(tmp_path)
    flat = load_inputs([str(d / "*.txt")])
    assert [Path(a.path).name for a in flat.articles] == ["b.txt"]
    deep = load_inputs([str(d / "**" / "*.markdown"), str(d / "**" / "*.htm")])
    assert [Path(a.path).name for a in deep.articles] == ["c.markdown", "d.htm"]
    star = load_inputs([str(d / "*")])  # extension-less pattern: documents only, dirs walked
    assert sorted(Path(a.path).name for a in star.articles) == ["a.md", "b.txt", "c.markdown", "d.htm"]
    assert star.errors == []
    seeds = load_inputs([str(ROOT / "examples" / "*.txt")])
    assert [a.date for a in seeds.articles] == [dt.date(2025, 5, 25), dt.date(2025, 5, 24)]


def test_glob_matching_nothing(tmp_path: Path, good: Path) -> None:
    pattern = str(tmp_path / "nothing" / "*.txt")
    res = load_inputs([pattern, str(good)])
    one_error(res, pattern, "no files match")
    only_good(res, good)


def test_same_file_twice_is_loaded_once(tmp_path: Path, good: Path) -> None:
    res = load_inputs([str(good), str(tmp_path)])
    assert [a.path for a in res.articles] == [str(good)] and res.notes == []


# ---------------------------------------------------------------- bad inputs


def test_nonexistent(tmp_path: Path, good: Path) -> None:
    missing = tmp_path / "nope.txt"
    res = load_inputs([str(missing), str(good)])
    one_error(res, missing, "no such file")
    only_good(res, good)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ("empty",)),
        (b" \n\t\r\n  \n", ("whitespace",)),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), ("binary",)),
        (b"---- 1234 ----\n\n== 56 ==\n", ("no text to summarise",)),
    ],
    ids=["empty", "whitespace", "binary", "no-letters"],
)
def test_unusable_content(tmp_path: Path, good: Path, content: bytes, words: tuple[str, ...]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    res = load_inputs([str(bad), str(good)])
    one_error(res, bad, *words)
    only_good(res, good)


def test_huge_file(tmp_path: Path, good: Path) -> None:
    big = tmp_path / "big.txt"
    line = "Officials said 307 soldiers came home on Saturday.\n"
    big.write_text(line * (5_000_000 // len(line) + 1), encoding="utf-8")
    assert big.stat().st_size > 5_000_000
    res = load_inputs([str(big), str(good)])
    reason = one_error(res, big, "5.0 MB is larger than the 2.0 MB limit; split it")
    assert reason == "5.0 MB is larger than the 2.0 MB limit; split it"
    only_good(res, good)
    assert len(load_inputs([str(big)], max_bytes=6_000_000).articles) == 1


def test_unreadable_file_in_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, where chmod does not stop reads: make open() refuse this one file.
    d = make_tree(tmp_path)
    locked = d / "locked.txt"
    locked.write_text("Locked story\n" + BODY + "locked", encoding="utf-8")
    real_open = builtins.open

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    res = load_inputs([str(d)])
    one_error(res, locked, "permission denied")
    assert [Path(a.path).name for a in res.articles] == ["a.md", "b.txt", "c.markdown", "d.htm"]


def test_symlink_loops(tmp_path: Path, good: Path) -> None:
    d = make_tree(tmp_path)
    os.symlink(d, d / "sub" / "back")  # a directory link to an ancestor: a loop for a naive walk
    self_link = d / "self.txt"
    os.symlink(self_link, self_link)  # a file link pointing to itself
    res = load_inputs([str(d), str(self_link), str(good)])
    rel = [os.path.relpath(a.path, d) for a in res.articles[:4]]
    assert rel == ["a.md", "b.txt", "sub/c.markdown", "sub/deeper/d.htm"]
    assert res.articles[4].path == str(good) and len(res.articles) == 5
    # self.txt is met once by the walk and once named directly; it is one path, reported once.
    assert [(e.path, e.reason) for e in res.errors] == [
        (str(self_link), "symlink loop (too many levels of symbolic links)")
    ]
    assert any("symlink loop" in n and "back" in n for n in res.notes)


def test_symlink_loop_named_directly(tmp_path: Path, good: Path) -> None:
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    res = load_inputs([str(loop), str(good)])
    one_error(res, loop, "symlink loop")
    only_good(res, good)


def test_glob_through_a_symlink_loop_terminates(tmp_path: Path) -> None:
    d = make_tree(tmp_path)
    os.symlink(d, d / "sub" / "back")
    res = load_inputs([str(d / "**" / "*.txt")])
    assert [os.path.relpath(a.path, d) for a in res.articles] == ["b.txt"]  # once, not once per lap
    assert res.errors == [] and res.notes == []  # the laps are the same file, not "duplicates"


def test_broken_symlink(tmp_path: Path, good: Path) -> None:
    link = tmp_path / "dangling.txt"
    os.symlink(tmp_path / "gone.txt", link)
    res = load_inputs([str(link), str(good)])
    one_error(res, link, "broken symlink")
    only_good(res, good)


# ---------------------------------------------------------------- encodings and exact text


def test_cp1252_fallback(tmp_path: Path, good: Path) -> None:
    p = tmp_path / "latin.txt"
    p.write_bytes("Café talks\n\nThe café said the “deal” cost 5 €.\n".encode("cp1252"))
    res = load_inputs([str(good), str(p)])
    art = res.articles[1]
    assert art.text == "Café talks\n\nThe café said the “deal” cost 5 €.\n"
    assert art.encoding == "cp1252" and art.title == "Café talks"
    assert "decoded as cp1252 (not valid UTF-8)" in art.notes
    assert res.notes == [f"{p}: decoded as cp1252 (not valid UTF-8)"]


def test_latin1_when_not_cp1252(tmp_path: Path) -> None:
    p = tmp_path / "l1.txt"
    p.write_bytes(b"Caf\xe9 \x81 story\n")  # 0x81 is undefined in cp1252
    art = load_inputs([str(p)]).articles[0]
    assert art.encoding == "latin-1" and art.text == "Café \x81 story\n"


def test_bom_is_removed(tmp_path: Path) -> None:
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbf" + AP.read_bytes())
    art = load_inputs([str(p)]).articles[0]
    assert art.text == AP_TEXT  # offsets index the text without the BOM
    assert art.date == dt.date(2025, 5, 25) and art.encoding == "utf-8-sig"
    assert any("byte-order mark" in n for n in art.notes)


def test_crlf_is_kept_and_offsets_hold(tmp_path: Path) -> None:
    crlf = BBC_TEXT.replace("\n", "\r\n")
    p = tmp_path / "crlf.txt"
    p.write_bytes(crlf.encode("utf-8"))
    art = load_inputs([str(p)]).articles[0]
    assert art.text == crlf and "\r\n" in art.text
    assert art.date == dt.date(2025, 5, 24) and not art.title.endswith("\r")
    quote = "each side brought home 307 more soldiers"
    start = crlf.index(quote)
    assert art.text[start : start + len(quote)] == quote
    assert art.text[art.body_start :].startswith("The move is part of a major swap")
    # the same offsets in the raw bytes (ASCII prefix) find the same quote
    assert p.read_bytes()[start : start + len(quote)].decode() == quote


def test_duplicates_keep_the_first(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    shutil.copy(BBC, a)
    shutil.copy(BBC, b)
    res = load_inputs([str(a), str(AP), str(b)])
    assert [(x.id, x.path) for x in res.articles] == [("a1", str(a)), ("a2", str(AP))]
    assert res.notes == [f"{b} duplicates {a}; skipped"] and res.errors == []


# ---------------------------------------------------------------- HTML


def html_page(title: str, marker: str) -> str:
    paras = "".join(f"<p>{s}</p>\n" for s in BBC_TEXT.split("\n\n")[1:6])
    return f"""<!DOCTYPE html>
<html><head><title>{title} | News site</title>
<meta property="og:title" content="{title}">
<script>var tracking = "SCRIPT_PAYLOAD_{marker}"; window.ads = [];</script>
<style>body {{ color: red; }}</style></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>
{paras}</article>
<footer>Copyright 2025 News site. All rights reserved.</footer></body></html>
"""


def test_html_extraction(tmp_path: Path, good: Path) -> None:
    p = tmp_path / "page.html"
    p.write_text(html_page("Prisoners swapped", "x"), encoding="utf-8")
    res = load_inputs([str(p), str(good)])
    art = res.articles[0]
    assert art.title == "Prisoners swapped"
    assert "SCRIPT_PAYLOAD" not in art.text and "<p>" not in art.text and "color: red" not in art.text
    assert "each side brought home 307 more soldiers" in art.text
    assert "text extracted from HTML with trafilatura" in art.notes
    assert art.sha256 == hashlib.sha256(art.text.encode()).hexdigest()
    assert res.articles[1].path == str(good)


def test_html_sniffed_without_extension(tmp_path: Path) -> None:
    p = tmp_path / "page.txt"
    p.write_text(html_page("Sniffed", "y"), encoding="utf-8")
    art = load_inputs([str(p)]).articles[0]
    assert "SCRIPT_PAYLOAD" not in art.text and "<html" not in art.text.lower()


def test_html_without_article_text(tmp_path: Path, good: Path) -> None:
    p = tmp_path / "empty.html"
    p.write_text(
        "<!doctype html><html><head><title>x</title><script>var a = 1;</script></head><body></body></html>",
        encoding="utf-8",
    )
    res = load_inputs([str(p), str(good)])
    one_error(res, p, "no article text")
    only_good(res, good)
