"""The report's inputs, loaded tolerantly: every table of every declared input, or why it is missing.

The report must still render when an upstream table is absent or unreadable: the section that
needs it then says ``missing: <asset/table>: <why>``, and the PIPELINE_FAILURE alert fires.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from brmacro.io import Schema, read_meta, read_table

__all__ = ["Inputs", "load_inputs", "schemas_of"]


def schemas_of(asset: str) -> dict[str, Schema]:
    """Table -> schema of one asset, importing only its own layer's ``schemas`` module.

    Raises
    ------
    KeyError
        When the layer declares no schema for the asset (the message says so).
    """
    from brmacro.pipeline import STEPS

    layer = STEPS[asset].layer
    mod = importlib.import_module(f"brmacro.{layer}.schemas")
    if layer == "bronze":
        found = getattr(mod, "BRONZE_SCHEMAS", {})
        if asset not in found:
            raise KeyError(f"no schema declared for {asset} in brmacro.bronze.schemas")
        return {"part": found[asset]}
    found = getattr(mod, f"{layer.upper()}_SCHEMAS", {})
    if asset not in found:
        raise KeyError(f"no schema declared for {asset} in brmacro.{layer}.schemas")
    return dict(found[asset])


@dataclass
class Inputs:
    """Loaded input tables, keyed by ``(asset, table)``, and the reason for each missing one.

    Attributes
    ----------
    tables : dict
        ``(asset, table)`` -> DataFrame.
    missing : dict
        ``(asset, table)`` -> why it could not be read.
    prev_sizing : list of (date, DataFrame)
        The previous sessions' ``portfolio_sizing`` (oldest first; the last is the previous session's,
        the others are the track record's), empty when unavailable.
    prev_missing : str
        Why the previous sizing is unavailable ('' when it is available).
    prev_var : list of (date, DataFrame)
        The previous sessions' ``risk_var`` (the track record's VaR forecasts), oldest first.
    prev_var_missing : str
        Why they could not be read ('' when they could).
    expected : tuple of str
        The declared same-session input assets.
    stale : dict
        Bronze asset -> why its snapshot is stale (artifact metadata ``brmacro.stale``, set by
        ``live.on_source_failure: stale``); empty when every source was fetched.
    reconstructed : set of str
        Input assets marked ``brmacro.reconstructed`` (built by ``source: live`` from today's data of a source
        without vintages for a past session); the report says so under its title.
    """

    tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    missing: dict[tuple[str, str], str] = field(default_factory=dict)
    prev_sizing: list[tuple[dt.date, pd.DataFrame]] = field(default_factory=list)
    prev_missing: str = ""
    prev_var: list[tuple[dt.date, pd.DataFrame]] = field(default_factory=list)
    prev_var_missing: str = ""
    expected: tuple[str, ...] = ()
    stale: dict[str, str] = field(default_factory=dict)
    reconstructed: set[str] = field(default_factory=set)

    def get(self, asset: str, table: str = "part") -> pd.DataFrame | None:
        """A copy of the table, or None when it is missing."""
        df = self.tables.get((asset, table))
        return None if df is None else df.copy()

    def why(self, asset: str, table: str = "part") -> str:
        """Why a table is missing (``not loaded`` when it was never declared)."""
        return self.missing.get((asset, table), "not provided to the report")

    def missing_assets(self) -> list[str]:
        """Assets with at least one missing table, sorted."""
        return sorted({a for a, _ in self.missing})


def _load_one(asset: str, paths: Mapping[str, Path] | None, out: Inputs) -> None:
    try:
        schemas = schemas_of(asset)
    except (KeyError, ImportError) as exc:
        out.missing[(asset, "part")] = f"schema not available ({exc})"
        return
    for name, schema in schemas.items():
        if paths is None or name not in paths:
            out.missing[(asset, name)] = "input file not declared/provided"
            continue
        try:
            out.tables[(asset, name)] = read_table(paths[name], schema)
        except (OSError, ValueError) as exc:
            out.missing[(asset, name)] = f"unreadable: {exc}"
            continue
        if name == "part":
            meta = read_meta(paths[name])
            if asset.startswith("bronze_") and meta.get("brmacro.stale"):
                out.stale[asset] = meta["brmacro.stale"]
            if meta.get("brmacro.reconstructed") == "true":
                out.reconstructed.add(asset)


def load_inputs(
    inputs: Mapping[str, Mapping[str, Path]],
    prev: Mapping[str, Sequence[tuple[dt.date, Mapping[str, Path]]]],
    expected: Sequence[str],
) -> Inputs:
    """Read every table of every expected input asset, recording why any cannot be read.

    Parameters
    ----------
    inputs : mapping
        Asset -> table -> path for the session (``Context.inputs``).
    prev : mapping
        Asset -> [(session, table -> path)] (``Context.prev``): ``portfolio_sizing`` and ``risk_var``.
    expected : sequence of str
        The assets the report declares (``STEPS["daily_report"].inputs``).
    """
    out = Inputs(expected=tuple(expected))
    for asset in expected:
        _load_one(asset, inputs.get(asset), out)
    prev_list = list(prev.get("portfolio_sizing", ()))
    if not prev_list:
        out.prev_missing = "previous session's portfolio_sizing not provided"
    else:
        try:
            schema = schemas_of("portfolio_sizing")["part"]
            out.prev_sizing = [(d, read_table(p["part"], schema)) for d, p in prev_list]
        except (OSError, ValueError, KeyError) as exc:
            out.prev_missing = f"previous session's portfolio_sizing unreadable: {exc}"
    var_list = list(prev.get("risk_var", ()))
    if var_list:
        try:
            schema = schemas_of("risk_var")["part"]
            out.prev_var = [(d, read_table(p["part"], schema)) for d, p in var_list]
        except (OSError, ValueError, KeyError) as exc:  # the track record then says which VaR it lacks
            out.prev_var = []
            out.prev_var_missing = f"previous sessions' risk_var unreadable: {exc}"
    return out
