"""Cost estimates and the ``--budget`` guard.

The built-in prices are ESTIMATES copied from OpenAI's public price list as of :data:`PRICES_AS_OF`; prices
change, so check them and override with a JSON file (``$SUMMARIZER_PRICES`` or ``load_prices(path)``)::

    {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}

Figures are USD per 1M tokens. The embedded (local) engine costs nothing whatever its model is called.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

ENV_PRICES = "SUMMARIZER_PRICES"
PRICES_AS_OF = dt.date(2025, 8, 7)
BATCH_DISCOUNT = 0.5  # the Batch API bills half the synchronous price


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input: float
    output: float


PriceTable = dict[str, Price]

# Standard (non-batch, non-cached) tier, USD / 1M tokens, as of PRICES_AS_OF. Estimates: check before relying.
BUILTIN_PRICES: PriceTable = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
}

FREE = Price(0.0, 0.0)


def _parse_table(data: object, source: str) -> PriceTable:
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected an object of model -> {{input, output}}")
    table: PriceTable = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
            raise ValueError(f"{source}: {model!r} needs 'input' and 'output' (USD per 1M tokens)")
        try:
            inp, out = float(entry["input"]), float(entry["output"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"{source}: {model!r} prices must be numbers") from e
        if inp < 0 or out < 0 or not (math.isfinite(inp) and math.isfinite(out)):
            raise ValueError(f"{source}: {model!r} prices must be finite and >= 0")
        table[str(model)] = Price(inp, out)
    return table


def load_prices(path: Path | str | None = None) -> PriceTable:
    """Built-in prices overlaid with the user's file (``path``, else ``$SUMMARIZER_PRICES`` if set)."""
    table = dict(BUILTIN_PRICES)
    if path is None:
        env = os.environ.get(ENV_PRICES)
        path = Path(env).expanduser() if env else None
    if path is not None:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read price file {p}: {e}") from e
        table.update(_parse_table(data, str(p)))
    return table


def _normalise(model: str) -> str:
    # "openai/gpt-4o-mini" (router style) prices like "gpt-4o-mini".
    return model.strip().lower().rsplit("/", 1)[-1]


def price_for(model: str, *, prices: PriceTable | None = None, local: bool = False) -> Price | None:
    """The price of ``model``, or None when it is unknown (its cost then shows as 0 and should be flagged).

    Dated snapshots match their family ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini"); the longest matching name
    wins so "gpt-4.1-mini" is not priced as "gpt-4.1". ``local=True`` (embedded engine) is always free.
    """
    if local:
        return FREE
    table = prices if prices is not None else load_prices()
    name = _normalise(model)
    lowered = {k.lower(): v for k, v in table.items()}
    if name in lowered:
        return lowered[name]
    best: str | None = None
    for key in lowered:
        if name.startswith(key + "-") and (best is None or len(key) > len(best)):
            best = key
    return lowered[best] if best is not None else None


def estimate_cost(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    prices: PriceTable | None = None,
    batch: bool = False,
    local: bool = False,
) -> float:
    """USD for one call (or a sum of calls). Unknown models cost 0.0; use :func:`price_for` to tell."""
    price = price_for(model, prices=prices, local=local)
    if price is None:
        return 0.0
    usd = (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000
    return usd * BATCH_DISCOUNT if batch else usd


def rough_tokens(text: str) -> int:
    """A pre-call token estimate (~4 characters a token for English); for budgeting, not billing."""
    return max(1, math.ceil(len(text) / 4))


class Budget:
    """Stops scheduling new calls once the next call's estimate would take spending past the limit.

    ``reserve`` holds a call's estimate before it is sent and ``settle`` replaces it with what the call
    really cost, so concurrent calls count against the limit before their bills arrive.
    """

    def __init__(self, limit_usd: float | None) -> None:
        if limit_usd is not None and (limit_usd < 0 or not math.isfinite(limit_usd)):
            raise ValueError("budget must be a finite amount >= 0")
        self.limit_usd = limit_usd
        self.spent = 0.0
        self.reserved = 0.0
        self.refused = 0  # how many calls were not scheduled: worth reporting
        self._lock = threading.Lock()

    @property
    def remaining(self) -> float | None:
        if self.limit_usd is None:
            return None
        return max(0.0, self.limit_usd - self.spent - self.reserved)

    def _fits(self, usd: float) -> bool:
        return self.limit_usd is None or self.spent + self.reserved + usd <= self.limit_usd + 1e-12

    def reserve(self, estimated_usd: float) -> bool:
        """True (and the estimate held until :meth:`settle`) if the call fits the budget."""
        with self._lock:
            if not self._fits(estimated_usd):
                self.refused += 1
                return False
            self.reserved += estimated_usd
            return True

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        """Replace a reservation with what the call really cost (0 if it failed unbilled)."""
        with self._lock:
            self.reserved = max(0.0, self.reserved - reserved_usd)
            self.spent += actual_usd
