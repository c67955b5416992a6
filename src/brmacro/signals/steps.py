"""Signal-layer steps: ``signal_aggregation`` and ``signal_monitor``.

Parameters come from the ``signals:`` config subtree (``config/config.yaml``); any key
left out falls back to its declared default (:mod:`brmacro.params.signals`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.errors import InputMissing
from brmacro.instruments import INSTRUMENTS
from brmacro.io import frame
from brmacro.params import section, value
from brmacro.pipeline import AGENTS, STEPS, Context
from brmacro.signals.aggregation import (
    aggregate_instrument,
    contributions_json,
    conviction_from_z,
    regime_tilt,
    stale_sessions,
    staleness_factor,
)
from brmacro.signals.market import Market
from brmacro.signals.monitor import divergences, flips_and_surges, weekly_flip_counts
from brmacro.signals.schemas import AGGREGATE, MONITOR_EVENTS, MONITOR_SUMMARY, STRATEGY_SIGNALS
from brmacro.signals.strategies import (
    drivers_json,
    run_strategies,
)

__all__ = ["signal_aggregation", "signal_monitor", "signals_config"]

REGIME_COLS = ("goldilocks", "reflation", "stagflation", "deflation")


#: The agent table's columns a signal row is made of, and those of a contribution.
_AGENT_COLS = ("instrument", "agent", "signal_id", "horizon", "direction", "confidence", "date", "drivers")
_CONTRIB_COLS = ("signal_id", "conviction", "confidence", "staleness", "tilt")


def _column_rows(df: pd.DataFrame, names: tuple[str, ...]) -> Iterable[tuple[Any, ...]]:
    """``tuple(getattr(r, n) for n in names)`` for each ``r`` of ``df.itertuples(index=False)``, in row order.

    For columns of numpy dtypes the values are those of the columns' ``tolist()`` (the very objects, or the Python
    scalars ``itertuples`` gives for numbers), so no namedtuple class and no column of the frame but ``names`` is
    made; a column of an extension dtype (where ``itertuples`` may give numpy scalars) takes ``itertuples``.
    """
    cols = [df[n] for n in names]
    if names and all(isinstance(c, pd.Series) and isinstance(c.dtype, np.dtype) for c in cols):
        return zip(*(c.tolist() for c in cols), strict=True)
    return (tuple(getattr(r, n) for n in names) for r in cast("Iterable[Any]", df.itertuples(index=False)))

def signals_config(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``signals`` section of a step's params (declared defaults for keys not given)."""
    return section(params, "signals")


def _regime_probs(ctx: Context) -> tuple[dict[str, float], str]:
    view = ctx.table("agent_cross_asset", "view")
    if view.empty:
        raise InputMissing(f"signal_aggregation {ctx.date}: agent_cross_asset view is empty (no regime probabilities)")
    row = view.sort_values("date").iloc[-1]
    probs = {r: float(row[f"p_{r}"]) for r in REGIME_COLS}
    total = sum(probs.values())
    if not math.isfinite(total) or total <= 0:
        raise InputMissing(f"signal_aggregation {ctx.date}: regime probabilities sum to {total}")
    return {r: p / total for r, p in probs.items()}, str(row["regime"])


def _agent_rows(ctx: Context, mode: str, z_scale: float) -> list[dict[str, Any]]:
    if mode == "none":
        return []
    if mode not in ("composite", "components", "all"):
        raise ValueError(f"signals.agent_signals: unknown mode {mode!r} (composite | components | all | none)")
    known = {i.name for i in INSTRUMENTS}
    rows = []
    for asset in AGENTS:
        df = ctx.table(asset)
        if mode == "composite":
            df = df[df["is_composite"]]
        elif mode == "components":
            df = df[~df["is_composite"]]
        for instrument, agent, signal_id, horizon, direction, confidence, date, drivers in _column_rows(
                df.sort_values("signal_id"), _AGENT_COLS):
            if instrument == "":
                continue
            base = {"source": "agent", "agent": agent, "signal_id": signal_id, "instrument": instrument,
                    "horizon": int(horizon),
                    "entry_level": None, "stop_level": None, "take_profit_level": None}
            if instrument not in known:
                rows.append({**base, "status": "gap", "direction": 0, "z_score": None, "confidence": None,
                             "signal_date": None, "note": json.dumps({"gap": f"unknown instrument {instrument}"})})
                continue
            conv = int(direction) * float(confidence)
            rows.append({**base, "status": "active" if int(direction) != 0 else "neutral",
                         "direction": int(direction), "z_score": conv * z_scale, "confidence": float(confidence),
                         "signal_date": pd.Timestamp(date).date(), "note": drivers})
    return rows


def _strategy_rows(ctx: Context, cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    market = Market(
        asof=ctx.date,
        returns=ctx.table("silver_returns"),
        prices=ctx.table("silver_returns", "prices"),
        curves=ctx.table("silver_curves"),
        macro=ctx.table("silver_macro"),
    )
    sc = cfg["strategies"]
    runs = run_strategies(market, sc["params"], sc["series"], sc["enabled"],
                          value(ctx.params, "agents.inflation_target"),  # the one target table (DOMAIN A7)
                          sc["hold_entries"])
    rows: list[dict[str, Any]] = []
    for run in runs:
        if run.gap is not None:
            ctx.log.warning("strategy %s could not compute: %s", run.strategy_id, run.gap)
            rows.append({"source": "strategy", "agent": "", "signal_id": run.strategy_id, "instrument": "",
                         "status": "gap", "direction": 0, "z_score": None, "confidence": None, "horizon": None,
                         "signal_date": None, "entry_level": None, "stop_level": None, "take_profit_level": None,
                         "note": json.dumps({"gap": run.gap})})
            continue
        for s in run.signals:
            rows.append({"source": "strategy", "agent": "", "signal_id": s.strategy_id, "instrument": s.instrument,
                         "status": "active" if s.direction != 0 else "neutral", "direction": s.direction,
                         "z_score": s.z_score, "confidence": s.confidence, "horizon": s.horizon,
                         "signal_date": s.signal_date, "entry_level": s.entry_level, "stop_level": s.stop_level,
                         "take_profit_level": s.take_profit_level, "note": drivers_json(s.drivers)})
    return rows


def signal_aggregation(ctx: Context) -> dict[str, pd.DataFrame]:
    """Aggregate the strategies' and agents' signals per instrument (tables ``part`` and ``strategy_signals``).

    Raises
    ------
    InputMissing
        When the cross-asset view carries no regime probabilities.
    """
    cfg = signals_config(ctx.params)
    z_scale = float(cfg["z_scale"])
    probs, regime = _regime_probs(ctx)
    rows = _strategy_rows(ctx, cfg) + _agent_rows(ctx, str(cfg["agent_signals"]), z_scale)
    max_s = int(cfg["staleness"]["max_sessions"])
    for r in rows:
        r["date"] = ctx.date
        if r["status"] == "gap":
            r.update(conviction=None, stale_sessions=None, staleness=None, tilt=None, weight=None)
            continue
        n = stale_sessions(r["signal_date"], ctx.date)
        r["conviction"] = conviction_from_z(float(r["z_score"]), z_scale)
        r["stale_sessions"] = n
        r["staleness"] = staleness_factor(n, max_s)
        r["tilt"] = regime_tilt(r["signal_id"], probs, cfg["regime_tilts"], float(cfg["tilt_floor"]))
        r["weight"] = 0.0
    sig = pd.DataFrame(rows, columns=STRATEGY_SIGNALS.names) if rows else STRATEGY_SIGNALS.empty()
    sig = sig.sort_values(["signal_id", "instrument"], kind="mergesort").reset_index(drop=True)
    out = []
    for inst in INSTRUMENTS:
        idx = sig.index[(sig["instrument"] == inst.name) & (sig["status"] == "active")]
        act = sig.loc[idx]
        agg = aggregate_instrument(
            act["conviction"].astype(float).tolist(), act["confidence"].astype(float).tolist(),
            act["staleness"].astype(float).tolist(), act["tilt"].astype(float).tolist(),
            method=cfg["method"], crowding_threshold=float(cfg["crowding"]["threshold"]),
            crowding_penalty=float(cfg["crowding"]["penalty"]),
            crowding_min_signals=int(cfg["crowding"]["min_signals"]),
            direction_threshold=float(cfg["direction_threshold"]),
        )
        sig.loc[idx, "weight"] = [abs(w) for w in agg.weights]
        contrib = [{"signal_id": sid, "conviction": float(cv), "confidence": float(cf), "staleness": float(st),
                    "tilt": float(tl), "weight": float(w)}
                   for (sid, cv, cf, st, tl), w in zip(_column_rows(act, _CONTRIB_COLS), agg.weights, strict=True)]
        out.append({"date": ctx.date, "instrument": inst.name, "asset_class": inst.asset_class,
                    "conviction": round(agg.conviction, 12), "direction": agg.direction,
                    "confidence": round(agg.confidence, 12), "crowded": agg.crowded, "n_signals": agg.n_signals,
                    "regime": regime, "method": cfg["method"], "contributions": contributions_json(contrib)})
    ctx.log.info("aggregated %d signals (%d gaps) into %d instruments", int((sig["status"] == "active").sum()),
                 int((sig["status"] == "gap").sum()), len(out))
    return {"part": frame(out, AGGREGATE), "strategy_signals": sig}


def signal_monitor(ctx: Context) -> dict[str, pd.DataFrame]:
    """Flips, surges and divergences versus the previous sessions' aggregation (tables ``part``, ``summary``)."""
    cfg = signals_config(ctx.params)["monitor"]
    cur = ctx.table("signal_aggregation")
    sig = ctx.table("signal_aggregation", "strategy_signals")
    prev = [(d, df) for d, df in ctx.prev_tables("signal_aggregation") if d < ctx.date]
    events: list[dict[str, Any]] = []
    if prev:
        events += flips_and_surges(prev[-1][1], cur, prev[-1][0], float(cfg["surge_threshold"]))
    events += divergences(sig, cur, float(cfg["divergence_threshold"]))
    ac = dict(zip(cur["instrument"], cur["asset_class"], strict=True))
    for e in events:
        e["date"] = ctx.date
        e["asset_class"] = ac[str(e["instrument"])]
    ev = frame(events, MONITOR_EVENTS)
    weekly = weekly_flip_counts([df for _, df in prev] + [cur])
    n_prev = len(prev)
    note = "" if n_prev else "no previous session: flips and surges not computed"
    want = int(STEPS["signal_monitor"].prev.get("signal_aggregation", 5))
    if 0 < n_prev < want:
        note = f"only {n_prev} of {want} previous sessions available for the weekly flip count"
    regime = str(cur["regime"].iloc[0]) if len(cur) else ""
    active_sig = sig[sig["status"] == "active"]
    summary = []
    for cls in sorted(set(cur["asset_class"])) + ["all"]:
        insts = cur if cls == "all" else cur[cur["asset_class"] == cls]
        names = set(insts["instrument"])
        e_cls = ev[ev["instrument"].isin(names)]
        summary.append({
            "date": ctx.date, "asset_class": cls, "n_instruments": len(insts),
            "n_active": int((insts["direction"] != 0).sum()),
            "n_signals": int(active_sig["instrument"].isin(names).sum()),
            "flips": int((e_cls["event"] == "flip").sum()), "surges": int((e_cls["event"] == "surge").sum()),
            "divergences": int((e_cls["event"] == "divergence").sum()),
            "weekly_flips": int(sum(v for k, v in weekly.items() if k in names)),
            "has_previous": bool(n_prev), "n_previous": n_prev, "regime": regime, "note": note,
        })
    return {"part": ev, "summary": frame(summary, MONITOR_SUMMARY)}
