"""Bronze layer: what each of the seven sources said as of a session (demo market or live connectors)."""

from __future__ import annotations

from brmacro.bronze.demo import DEFAULT_SEED, BronzeConfigError, BronzeParams, parse_params, snapshot, true_regimes

__all__ = ["DEFAULT_SEED", "BronzeConfigError", "BronzeParams", "parse_params", "snapshot", "true_regimes"]
