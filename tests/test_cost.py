"""Price lookup, cost estimates, user overrides and the budget guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.cost import (
    BUILTIN_PRICES,
    PRICES_AS_OF,
    Budget,
    Price,
    estimate_cost,
    load_prices,
    price_for,
    rough_tokens,
)


@pytest.fixture(autouse=True)
def _no_user_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARIZER_PRICES", raising=False)


def test_table_is_dated_and_covers_the_common_models() -> None:
    assert PRICES_AS_OF.year >= 2025
    for m in ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5-mini"]:
        p = price_for(m)
        assert p is not None and 0 < p.input < p.output, m


def test_estimate_cost_arithmetic_and_batch_discount() -> None:
    # gpt-4o-mini: $0.15 / 1M in, $0.60 / 1M out.
    assert estimate_cost("gpt-4o-mini", 10_000, 2_000) == pytest.approx(0.0015 + 0.0012)
    assert estimate_cost("gpt-4o-mini", 10_000, 2_000, batch=True) == pytest.approx(0.00135)
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)
    assert estimate_cost("gpt-4o", 0, 0) == 0.0


def test_snapshot_names_and_longest_prefix() -> None:
    assert price_for("gpt-4o-mini-2024-07-18") == BUILTIN_PRICES["gpt-4o-mini"]
    assert price_for("gpt-4o-2024-08-06") == BUILTIN_PRICES["gpt-4o"]
    assert price_for("gpt-4.1-mini-2025-04-14") == BUILTIN_PRICES["gpt-4.1-mini"]
    assert price_for("GPT-4.1-nano") == BUILTIN_PRICES["gpt-4.1-nano"]
    assert price_for("openai/gpt-5-mini") == BUILTIN_PRICES["gpt-5-mini"]
    # Not a prefix on a name boundary: "gpt-4o" must not price "gpt-4omega".
    assert price_for("gpt-4omega") is None


def test_unknown_model_costs_zero_and_is_detectable() -> None:
    assert price_for("my-finetune") is None
    assert estimate_cost("my-finetune", 50_000, 5_000) == 0.0


def test_local_engine_is_free_whatever_the_model_name() -> None:
    assert price_for("gpt-4o", local=True) == Price(0.0, 0.0)
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000, local=True) == 0.0
    assert estimate_cost("gemma-3-270m-it-Q4_K_M.gguf", 10_000, 1_000, local=True) == 0.0


def test_user_override_via_env_and_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "prices.json"
    f.write_text(json.dumps({"gpt-4o-mini": {"input": 1, "output": 2}, "my-finetune": {"input": 3, "output": 6}}))
    table = load_prices(f)
    assert table["gpt-4o-mini"] == Price(1.0, 2.0)
    assert table["gpt-4o"] == BUILTIN_PRICES["gpt-4o"]  # untouched entries remain
    assert estimate_cost("my-finetune", 1_000_000, 500_000, prices=table) == pytest.approx(6.0)

    monkeypatch.setenv("SUMMARIZER_PRICES", str(f))
    assert price_for("my-finetune") == Price(3.0, 6.0)
    assert estimate_cost("gpt-4o-mini", 1_000_000, 0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        '{"m": {"input": 1}}',
        '{"m": {"input": "x", "output": 1}}',
        '{"m": {"input": -1, "output": 1}}',
    ],
)
def test_bad_price_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    f = tmp_path / "prices.json"
    f.write_text(content)
    with pytest.raises(ValueError, match=r"price|input|output|prices"):
        load_prices(f)


def test_budget_stops_before_passing_the_limit() -> None:
    b = Budget(0.01)
    per_call = estimate_cost("gpt-4o-mini", 10_000, 2_000)  # 0.0027
    scheduled = 0
    while b.reserve(per_call):
        b.settle(per_call, per_call)
        scheduled += 1
    assert scheduled == 3  # 3 * 0.0027 = 0.0081; a fourth would reach 0.0108 > 0.01
    assert b.spent == pytest.approx(0.0081)
    assert b.spent <= 0.01 and b.refused == 1
    assert b.remaining == pytest.approx(0.0019)
    assert b.reserve(0.0019)  # exactly up to the limit is fine


def test_unlimited_budget_and_validation() -> None:
    b = Budget(None)
    assert b.reserve(1e9) and b.remaining is None
    with pytest.raises(ValueError):
        Budget(-1)


def test_reservations_count_calls_in_flight() -> None:
    b = Budget(0.01)
    assert b.reserve(0.004) and b.reserve(0.004)
    assert not b.reserve(0.004)  # two in flight already hold 0.008
    b.settle(0.004, 0.001)  # the first came in cheaper than estimated
    assert b.spent == pytest.approx(0.001) and b.reserved == pytest.approx(0.004)
    assert b.reserve(0.004)


def test_rough_tokens_on_a_real_article() -> None:
    text = (Path(__file__).resolve().parents[1] / "examples" / "bbc_2025-05-24.txt").read_text(encoding="utf-8")
    n = rough_tokens(text)
    words = len(text.split())
    # English runs ~1.3 tokens a word; the estimate must be in that neighbourhood, not off by an order.
    assert 0.8 * words < n < 2.5 * words
