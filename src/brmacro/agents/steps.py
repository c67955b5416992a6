"""The five agent steps (one per asset): read silver (and upstream agents), run the models, return tables.

Every function takes the step :class:`~brmacro.pipeline.Context` and returns ``{"part": signals,
"features": features}`` (plus ``"view"`` for the cross-asset agent), in the schemas of
:mod:`brmacro.agents.schemas`. Parameters come from ``section(ctx.params, "agents")`` (:mod:`brmacro.params.agents`).
"""

from __future__ import annotations

import pandas as pd

from brmacro.agents.common import features_frame, signals_frame
from brmacro.agents.cross_asset import run_cross_asset
from brmacro.agents.data import SilverData
from brmacro.agents.fiscal import run_fiscal
from brmacro.agents.fx import run_fx
from brmacro.agents.inflation import run_inflation
from brmacro.agents.monetary import run_monetary
from brmacro.params import section
from brmacro.pipeline import AGENTS, Context

__all__ = [
    "agent_cross_asset",
    "agent_fiscal",
    "agent_fx_equilibrium",
    "agent_inflation",
    "agent_monetary_policy",
]


def agent_inflation(ctx: Context) -> dict[str, pd.DataFrame]:
    """Inflation agent of session ``ctx.date``."""
    sig, feats = run_inflation(SilverData.from_context(ctx), section(ctx.params, "agents"))
    return {"part": signals_frame(ctx.date, "inflation", sig), "features": features_frame(ctx.date, "inflation", feats)}


def agent_monetary_policy(ctx: Context) -> dict[str, pd.DataFrame]:
    """Monetary-policy agent of session ``ctx.date`` (reads agent_inflation's signals as a driver)."""
    sig, feats = run_monetary(SilverData.from_context(ctx), section(ctx.params, "agents"), ctx.table("agent_inflation"))
    return {"part": signals_frame(ctx.date, "monetary_policy", sig),
            "features": features_frame(ctx.date, "monetary_policy", feats)}


def agent_fiscal(ctx: Context) -> dict[str, pd.DataFrame]:
    """Fiscal agent of session ``ctx.date``."""
    sig, feats = run_fiscal(SilverData.from_context(ctx), section(ctx.params, "agents"))
    return {"part": signals_frame(ctx.date, "fiscal", sig), "features": features_frame(ctx.date, "fiscal", feats)}


def agent_fx_equilibrium(ctx: Context) -> dict[str, pd.DataFrame]:
    """FX-equilibrium agent of session ``ctx.date``."""
    sig, feats = run_fx(SilverData.from_context(ctx), section(ctx.params, "agents"))
    return {"part": signals_frame(ctx.date, "fx_equilibrium", sig),
            "features": features_frame(ctx.date, "fx_equilibrium", feats)}


def agent_cross_asset(ctx: Context) -> dict[str, pd.DataFrame]:
    """Cross-asset agent of session ``ctx.date``: signals, features and the regime view."""
    upstream = pd.concat(
        [ctx.table(a) for a in AGENTS[:4]],  # the four other agents, as pipeline.STEPS declares
        ignore_index=True,
    )
    sig, feats, view = run_cross_asset(SilverData.from_context(ctx), section(ctx.params, "agents"), upstream)
    return {"part": signals_frame(ctx.date, "cross_asset", sig),
            "features": features_frame(ctx.date, "cross_asset", feats), "view": view}
