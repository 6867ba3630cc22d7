"""Works the same on a fresh machine: our own re-ask text, replays matched on what matters, a lock that
agrees with pyproject.toml, and reruns that make no call (the embedded engine is not even started).

Everything here is offline. Where a model is needed, ``tests/scripted_endpoint.py`` (a SCRIPTED
OpenAI-compatible server on loopback) plays it; the replay tests use the recording in ``cassettes/``.
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import AP, BBC, ROOT
from scripted_endpoint import ScriptedEndpoint, hostile_wrong_numbers, is_digest, is_narrative, well_behaved
from typer.testing import CliRunner

from summarizer.cli import app
from summarizer.run import BriefRequest, run_brief

CASSETTE = ROOT / "cassettes" / "seeds_gemma3_270m.yaml"
# Anything a library would put into a re-ask: pydantic's versioned docs URL, its message prefixes.
LIBRARY_TEXT = re.compile(r"pydantic|errors\.pydantic\.dev|https?://|Value error,|validation error for|\b\d+\.\d+/v/")


def brief(inputs: list[Path], url: str, out: Path, cache: Path, **opts: Any) -> tuple[int, dict[str, Any]]:
    options: dict[str, Any] = {"model": "scripted", "mode": "json", "concurrency": 2, "quiet": True}
    options.update(opts)
    code = run_brief(BriefRequest(inputs=[str(p) for p in inputs], out=out, base_url=url, cache_path=cache, **options))
    return code, json.loads((out / "brief.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- re-asks are ours


def test_reask_is_built_from_the_verifiers_findings_not_library_text(tmp_path: Path) -> None:
    """A model that gets the numbers wrong is re-asked with what sentence says what, and nothing else."""
    with ScriptedEndpoint(hostile_wrong_numbers) as ep:
        code, out = brief([AP], ep.base_url, tmp_path / "o", tmp_path / "c.sqlite3", max_reasks=1, narrative=False)
    assert code == 0
    reasks = [q for q in ep.requests if any(m["role"] == "assistant" for m in q["messages"])]
    assert reasks, "the wrong numbers were never re-asked"
    text = reasks[0]["messages"][-1]["content"]
    assert text.startswith("Your answer has problems. Fix exactly these")  # prompts/reask.user.j2
    assert re.search(r"you wrote [\d,]+; sentence \d+ says [\d,]+", text), text
    assert not LIBRARY_TEXT.search(text), text
    # The audit carries the same findings, one reason per line.
    reasons = [r for rej in out["rejected"] for r in rej["reasons"]]
    assert any(re.search(r"you wrote [\d,]+", r) for r in reasons)
    assert not any(LIBRARY_TEXT.search(r) for r in reasons)


def test_structural_failures_are_named_in_our_words() -> None:
    from pydantic import ValidationError

    from summarizer.llm import problems_of
    from summarizer.models import LLMExtraction

    with pytest.raises(ValidationError) as missing:
        LLMExtraction.model_validate({"headline": "x", "facts": [{"text": "y", "sentence_ids": ["a"]}]})
    problems = problems_of(missing.value)
    assert "field `summary` is missing" in problems
    assert "field `facts.0.sentence_ids.0` is invalid (int_parsing)" in problems
    with pytest.raises(ValidationError) as bad_json:
        LLMExtraction.model_validate_json("{not json")
    assert problems_of(bad_json.value) == ["the answer is not valid JSON"]
    assert not any(LIBRARY_TEXT.search(p) for p in problems + problems_of(bad_json.value))


# ---------------------------------------------------------------- replays match on what matters


class _Req:
    def __init__(self, body: str) -> None:
        self.body = body.encode("utf-8")


def _recorded_bodies() -> list[dict[str, Any]]:
    data = yaml.safe_load(CASSETTE.read_text(encoding="utf-8"))
    return [json.loads(i["request"]["body"]) for i in data["interactions"]]


def test_transport_noise_does_not_break_a_match() -> None:
    from summarizer.replay import match_canonical

    for body in _recorded_bodies():
        recorded = _Req(json.dumps(body))
        # Other key order, other spacing, re-wrapped message text, SDK-only fields: the same request.
        noisy = dict(reversed(list(body.items())))
        noisy["messages"] = [
            {**m, "content": "  " + m["content"].replace(" ", "  \n") + "\n"} for m in body["messages"]
        ]
        noisy["stream"] = False
        match_canonical(_Req(json.dumps(noisy, indent=2)), recorded)  # no AssertionError


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("prompt", "messages[1].text"),
        ("schema", "schema"),
        ("reask", "messages[3].text"),
        ("temperature", "temperature"),
        ("model", "model"),
    ],
)
def test_a_real_change_fails_naming_the_first_field_that_differs(change: str, field: str) -> None:
    from summarizer.replay import match_canonical

    bodies = _recorded_bodies()
    body = next(b for b in bodies if len(b["messages"]) == 4)  # an extraction with its re-ask
    changed = json.loads(json.dumps(body))
    if change == "prompt":
        changed["messages"][1]["content"] = changed["messages"][1]["content"].replace("sentence", "line", 1)
    elif change == "schema":
        changed["response_format"]["schema"]["properties"]["headline"]["description"] = "A headline."
    elif change == "reask":
        changed["messages"][3]["content"] = changed["messages"][3]["content"].replace("Fix exactly", "Please fix")
    elif change == "temperature":
        changed["temperature"] = 0.9
    else:
        changed["model"] = "another-model"
    with pytest.raises(AssertionError, match=re.escape(field)):
        match_canonical(_Req(json.dumps(changed)), _Req(json.dumps(body)))


def test_replay_with_a_changed_prompt_fails_clearly_and_calls_out_nowhere(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    original = (ROOT / "prompts" / "extract.system.j2").read_text(encoding="utf-8")
    (prompts / "extract.system.j2").write_text(original.replace("sentence", "line", 1), encoding="utf-8")
    res = CliRunner().invoke(
        app,
        ["brief", str(AP), str(BBC), "--replay", str(CASSETTE), "--prompts", str(prompts), "--out", str(tmp_path)],
    )
    assert res.exit_code == 1
    brief_json = json.loads((tmp_path / "brief.json").read_text())
    events = " ".join(e for r in brief_json["results"] for e in r["events"])
    # Every article still appears, extractive, and the reason names the replay mismatch.
    assert {r["status"] for r in brief_json["results"]} == {"extractive"}
    assert "not in the recording" in events and "messages[" in events


# ---------------------------------------------------------------- the lock


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_norm(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_pins_every_dependency_within_pyproject_bounds() -> None:
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    pins = _lock()
    for spec in wanted:
        req = Requirement(spec)
        if _norm(req.name) == "summarizer":
            continue
        assert _norm(req.name) in pins, f"{req.name} is in pyproject.toml but not in constraints.txt: refresh the lock"
        assert req.specifier.contains(pins[_norm(req.name)], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[_norm(req.name)]}, outside pyproject's {req.specifier}"
        )


def test_ci_installs_from_the_lock_in_its_own_venv() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 -m venv" in ci and "-c constraints.txt" in ci
    assert "ruff check" in ci and "mypy summarizer" in ci
    test_command = next(line for line in readme.splitlines() if "python -m pytest" in line and "pip install" in line)
    assert "-c constraints.txt" in test_command
    assert test_command.strip() in ci  # CI runs exactly the README's test command


# ---------------------------------------------------------------- zero-call reruns


def hostile_story_writer(request: dict[str, Any]) -> dict[str, Any]:
    """Good extractions; narratives and digests whose numbers are wrong, so composition stands."""
    if is_narrative(request) or is_digest(request):
        return hostile_wrong_numbers(request)
    return well_behaved(request)


@pytest.mark.parametrize("responder", [hostile_story_writer, hostile_wrong_numbers, well_behaved])
def test_rerun_over_the_same_inputs_makes_no_call(tmp_path: Path, responder: Any) -> None:
    from conftest import write_lee

    inputs = [AP, BBC, *write_lee(tmp_path / "lee", 2)]
    db = tmp_path / "c.sqlite3"
    with ScriptedEndpoint(responder) as ep:
        _, first = brief(inputs, ep.base_url, tmp_path / "o1", db, max_reasks=1)
        paid = len(ep.requests)
        assert paid >= len(inputs) and any(is_narrative(q) for q in ep.requests)
        _, again = brief(inputs, ep.base_url, tmp_path / "o2", db, max_reasks=1)
    assert len(ep.requests) == paid, "the rerun called the model"
    assert again["usage"]["calls"] == 0
    assert [s["summary"] for s in again["stories"]] == [s["summary"] for s in first["stories"]]
    assert [s["summary_origin"] for s in again["stories"]] == [s["summary_origin"] for s in first["stories"]]
    assert again["digest"] == first["digest"]
    # The audit of the first run's failed writing is kept, not lost to the cache.
    assert sorted(r["field"] for r in again["rejected"]) == sorted(r["field"] for r in first["rejected"])


@contextlib.contextmanager
def _scripted_engine(starts: list[str], ep: ScriptedEndpoint) -> Iterator[str]:
    starts.append(ep.base_url)
    yield ep.base_url


def test_embedded_engine_is_not_started_when_nothing_needs_a_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded path end to end, with a SCRIPTED endpoint standing in for the llama.cpp server."""
    import summarizer.engine as engine

    starts: list[str] = []
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    with ScriptedEndpoint(hostile_story_writer) as ep:
        monkeypatch.setattr(engine, "embedded_server", lambda path: _scripted_engine(starts, ep))
        args = ["brief", str(AP), str(BBC), "--gguf", str(gguf), "--max-reasks", "1"]
        first = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o1")], catch_exceptions=False)
        assert first.exit_code == 0 and len(starts) == 1 and ep.requests
        paid = len(ep.requests)
        again = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o2")], catch_exceptions=False)
    assert again.exit_code == 0
    assert len(starts) == 1, "the engine was started for a rerun that needed no call"
    assert len(ep.requests) == paid
    assert "not started: every answer came from the cache" in again.output
    assert "LLM calls 0" in again.output


def test_recording_keeps_only_this_runs_model_exchanges(tmp_path: Path) -> None:
    """Recording over an old cassette replaces it, and keeps no probe (GET /v1/models, /props …)."""
    cassette = tmp_path / "c.yaml"
    with ScriptedEndpoint(well_behaved) as ep:
        for n, inputs in enumerate(([AP, BBC], [AP])):
            res = CliRunner().invoke(
                app,
                [
                    "brief",
                    *map(str, inputs),
                    "--base-url",
                    ep.base_url,
                    "--model",
                    "scripted",
                    "--no-cache",
                    "--no-narrative",
                    "--record",
                    str(cassette),
                    "--out",
                    str(tmp_path / f"o{n}"),
                ],
                catch_exceptions=False,
            )
            assert res.exit_code == 0
    recorded = yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]
    assert len(recorded) == 1  # the second run's one extraction, not the first run's two beside it
    assert all(i["request"]["uri"].endswith("/chat/completions") for i in recorded)
    # ... and it replays offline.
    res = CliRunner().invoke(
        app, ["brief", str(AP), "--replay", str(cassette), "--no-narrative", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 0, res.output
