"""The seven bronze steps: what each source said as of the partition's session.

Each step returns ``{"part": frame}`` in its bronze schema. With ``source: demo`` the frame is a
snapshot of the deterministic demo market (:mod:`brmacro.bronze.demo`); with ``source: live`` it is
fetched from the public source (:mod:`brmacro.bronze.live`), never falling back to demo data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from brmacro.bronze.demo import snapshot
from brmacro.bronze.params import BronzeConfigError
from brmacro.params import declared_section, value
from brmacro.pipeline import Context

__all__ = [
    "bronze_b3_market_data",
    "bronze_bcb_focus",
    "bronze_bcb_ptax",
    "bronze_bcb_sgs",
    "bronze_fred",
    "bronze_treasury_gov",
    "bronze_yahoo",
]


def _seed(ctx: Context) -> int:
    demo: Mapping[str, Any] = ctx.params.get("demo") or {}
    unknown = sorted(set(demo) - set(declared_section("demo").keys))
    if unknown:
        raise BronzeConfigError(f"{ctx.asset} ({ctx.date}): config demo: unknown keys {unknown}; known: ['seed']")
    seed = value(ctx.params, "demo.seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BronzeConfigError(
            f"{ctx.asset} ({ctx.date}): config demo.seed must be a non-negative integer, got {seed!r}"
        )
    return seed


def _build(ctx: Context, asset: str) -> dict[str, pd.DataFrame]:
    source = ctx.source
    if source == "live":
        from brmacro.bronze.live import snapshot as live_snapshot

        df = live_snapshot(asset, ctx.date, ctx.params)
        stale = df.attrs.pop("stale", None)
        if stale:
            ctx.meta["stale"] = str(stale)
            ctx.log.warning("%s: STALE snapshot: %s", asset, stale)
        ctx.log.info("%s: %d rows as of %s (live%s)", asset, len(df), ctx.date, ", stale" if stale else "")
        return {"part": df}
    if source != "demo":
        raise BronzeConfigError(f"{asset} ({ctx.date}): unknown source {source!r}; expected 'demo' or 'live'")
    df = snapshot(asset, ctx.date, ctx.params.get("bronze"), seed=_seed(ctx))
    ctx.log.info("%s: %d rows as of %s (demo seed %d)", asset, len(df), ctx.date, _seed(ctx))
    return {"part": df}


def bronze_bcb_sgs(ctx: Context) -> dict[str, pd.DataFrame]:
    """BCB SGS registry series as of the session (release by the registry lag rule)."""
    return _build(ctx, "bronze_bcb_sgs")


def bronze_fred(ctx: Context) -> dict[str, pd.DataFrame]:
    """FRED registry series as of the session, with every vintage of the revisable ones public by then."""
    return _build(ctx, "bronze_fred")


def bronze_yahoo(ctx: Context) -> dict[str, pd.DataFrame]:
    """Yahoo daily bars (raw closes) of the demo tickers as of the session."""
    return _build(ctx, "bronze_yahoo")


def bronze_bcb_ptax(ctx: Context) -> dict[str, pd.DataFrame]:
    """PTAX closing bulletins up to the session."""
    return _build(ctx, "bronze_bcb_ptax")


def bronze_b3_market_data(ctx: Context) -> dict[str, pd.DataFrame]:
    """B3 DI1 and DAP settlements by contract up to the session."""
    return _build(ctx, "bronze_b3_market_data")


def bronze_treasury_gov(ctx: Context) -> dict[str, pd.DataFrame]:
    """US Treasury par nominal and real curves up to the session."""
    return _build(ctx, "bronze_treasury_gov")


def bronze_bcb_focus(ctx: Context) -> dict[str, pd.DataFrame]:
    """BCB Focus survey medians released by the session."""
    return _build(ctx, "bronze_bcb_focus")
