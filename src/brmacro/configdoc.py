"""Validation of a run's config at workflow start, and the two files generated from :mod:`brmacro.params`.

Every parameter is declared once, in :mod:`brmacro.params`; ``config/schema.yaml`` and ``config/README.md``
are generated from it (``python -m brmacro.params schema > config/schema.yaml``, ``python -m brmacro.params
readme > config/README.md``); a test checks that both are up to date.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

__all__ = ["ConfigError", "cross_key_errors", "load_schema", "non_finite_keys", "render", "schema_yaml",
           "validate_config"]

HEADER = """# Configuration keys

`config/config.yaml` holds every setting with its default; `config/schema.yaml` validates it when the
workflow starts (an invalid key or value stops the run before any job, with the schema's message). Override
any key on the command line, e.g. `snakemake --config date=2026-11-24 nav_brl=50000000`, or with
`--configfile my.yaml`. Each rule receives only the keys its step reads, so editing one setting reruns only the
assets that depend on it.

Every key is declared once, in the library: `src/brmacro/params/<section>.py` (type, default, bounds,
description). This page and `config/schema.yaml` are generated from those declarations
(`python -m brmacro.params readme > config/README.md`, `python -m brmacro.params schema > config/schema.yaml`);
a test fails when either is stale. To add a key: (1) declare it in its section's module with `P(type, default,
description, minimum=..., maximum=...)`; (2) add it with the same default to `config/config.yaml` (a test checks
they agree); (3) if no section the step already receives holds it, add its dotted name to the step's `config` in
`brmacro.pipeline.STEPS`; (4) read it in the step with `brmacro.params.section(ctx.params, "<section>")` (or
`value(ctx.params, "<key>")`), never with a default of its own; (5) regenerate both files.

| key | type | default | description |
| --- | --- | --- | --- |
"""


class ConfigError(ValueError):
    """The configuration does not satisfy config/schema.yaml."""


def load_schema(path: str | Path) -> dict[str, Any]:
    """The schema, parsed by libyaml's safe loader (Snakemake's own loader takes ~0.8 s for this file)."""
    with open(path, encoding="utf-8") as fh:
        schema: dict[str, Any] = yaml.load(fh, Loader=SafeLoader)  # noqa: S506 - the safe loader
        return schema


def schema_yaml(schema: Mapping[str, Any]) -> str:
    """``config/schema.yaml``'s text for a JSON Schema (key order kept)."""
    head = "# GENERATED from src/brmacro/params by `python -m brmacro.params schema`: do not edit by hand.\n"
    return head + yaml.safe_dump(dict(schema), sort_keys=False, width=118, allow_unicode=True)


def validate_config(config: dict[str, Any], schema_path: str | Path | None = None) -> None:
    """Check ``config`` against the schema (JSON Schema 2020-12) and the cross-key rules; fill defaults in place.

    Three checks, in order, all before any job runs: no number is NaN or infinite (YAML ``.nan`` and
    ``.inf`` pass every numeric bound of JSON Schema, since comparisons with NaN are false); the schema
    (types, bounds, list lengths and uniqueness); the rules that tie keys together (:func:`cross_key_errors`).

    Raises
    ------
    ConfigError
        Naming the key path, the offending value and the rule broken.
    """
    from jsonschema import Draft202012Validator

    bad = non_finite_keys(config)
    if bad:
        where, value = bad[0]
        raise ConfigError(f"config key {where} = {value!r}: a number must be finite (NaN and infinity are refused)")
    if schema_path is None:
        from brmacro.params import json_schema

        schema, schema_path = json_schema(), "the declared parameters (brmacro.params)"
    else:
        schema = load_schema(schema_path)
    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.path))), None)
    if error is not None:
        where = ".".join(map(str, error.absolute_path)) or "(top level)"
        raise ConfigError(f"config failed validation against {schema_path} at {where}: {error.message}")
    from brmacro.params import fill_defaults

    fill_defaults(config)
    errors = cross_key_errors(config)
    if errors:
        raise ConfigError("config keys are inconsistent: " + "; ".join(errors))


def non_finite_keys(node: Any, path: str = "") -> list[tuple[str, float]]:
    """Key paths (dotted, list items as ``[i]``) of every NaN or infinite float in a nested config."""
    if isinstance(node, float):
        return [] if math.isfinite(node) else [(path or "(top level)", node)]
    if isinstance(node, Mapping):
        return [x for k, v in node.items() for x in non_finite_keys(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, (list, tuple)):
        return [x for i, v in enumerate(node) for x in non_finite_keys(v, f"{path}[{i}]")]
    return []


def _get(config: Mapping[str, Any], dotted: str) -> Any:
    node: Any = config
    for k in dotted.split("."):
        if not isinstance(node, Mapping) or k not in node:
            return None
        node = node[k]
    return node


# (smaller key, larger key, strict): rules JSON Schema cannot state. Each names both keys when broken.
ORDERED: tuple[tuple[str, str, bool], ...] = (
    ("portfolio.min_obs", "portfolio.cov_window", False),
    ("risk.var.min_obs", "risk.var.window", False),
    ("risk.var.min_df", "risk.var.max_df", False),
    ("risk.alerts.drawdown_warning", "risk.limits.max_drawdown", False),
    ("live.backoff_seconds", "live.max_backoff_seconds", False),
    ("agents.inflation.phillips.min_obs", "agents.inflation.phillips.window_months", False),
    ("agents.inflation.surprise.min_obs", "agents.inflation.surprise.window_months", False),
    ("agents.inflation.surprise.recent_months", "agents.inflation.surprise.window_months", False),
    ("agents.inflation.persistence.lower", "agents.inflation.persistence.upper", True),
    ("agents.monetary_policy.term_premium.min_obs", "agents.monetary_policy.term_premium.lookback", False),
    ("agents.fiscal.impulse.min_obs", "agents.fiscal.impulse.window_months", False),
    ("agents.fiscal.dominance.lower", "agents.fiscal.dominance.upper", True),
    ("agents.fx_equilibrium.carry.min_obs", "agents.fx_equilibrium.carry.lookback", False),
    ("agents.cross_asset.z_min_obs", "agents.cross_asset.z_window", False),
    ("agents.cross_asset.z_window", "agents.cross_asset.lookback", False),
    ("agents.cross_asset.correlation.short", "agents.cross_asset.correlation.long", True),
    ("agents.cross_asset.sentiment.lower", "agents.cross_asset.sentiment.upper", True),
    ("agents.cross_asset.tail_risk.moderate", "agents.cross_asset.tail_risk.elevated", True),
    ("agents.cross_asset.tail_risk.elevated", "agents.cross_asset.tail_risk.critical", True),
    ("signals.strategies.params.RATES_BR_03.short_du", "signals.strategies.params.RATES_BR_03.long_du", True),
)


def cross_key_errors(config: Mapping[str, Any]) -> list[str]:
    """Every broken rule that ties config keys together, each message naming the keys and values.

    The rules: the pairs of :data:`ORDERED`; ``portfolio.min_obs`` greater than the number of instruments
    of ``portfolio.universe`` (a covariance needs more observations than instruments); every instrument of
    the universe has ``portfolio.bounds`` with lower <= 0 <= upper (a bound that excludes zero would force
    a position no view asked for, and the flat book of the optimiser's fallback would break it: such bounds
    are refused); ``risk.var.confidences`` holds 0.95 and 0.99 (``risk.limits`` reads both); increasing
    ``silver.nelson_siegel.tau_bounds`` and RATES_BR_01 ``pairs``.
    """
    errors: list[str] = []
    for lo_key, hi_key, strict in ORDERED:
        lo, hi = _get(config, lo_key), _get(config, hi_key)
        if lo is None or hi is None:
            continue
        if (lo >= hi) if strict else (lo > hi):
            errors.append(f"{lo_key} = {lo!r} must be {'<' if strict else '<='} {hi_key} = {hi!r}")
    universe = _get(config, "portfolio.universe") or []
    min_obs = _get(config, "portfolio.min_obs")
    if universe and min_obs is not None and min_obs <= len(universe):
        errors.append(
            f"portfolio.min_obs = {min_obs!r} must exceed the number of instruments of portfolio.universe "
            f"({len(universe)}): a covariance needs more observations than instruments"
        )
    bounds = _get(config, "portfolio.bounds") or {}
    for name in universe:
        if name not in bounds:
            errors.append(f"portfolio.bounds.{name} is missing: every instrument of portfolio.universe needs bounds")
    for name, pair in bounds.items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            lo, hi = pair
            if lo > hi:
                errors.append(f"portfolio.bounds.{name} = {list(pair)}: lower bound above upper bound")
            elif not lo <= 0 <= hi:
                errors.append(
                    f"portfolio.bounds.{name} = {list(pair)} excludes zero: bounds must allow a flat position "
                    "(lower <= 0 <= upper)"
                )
    confs = _get(config, "risk.var.confidences")
    if confs is not None:
        for need in (0.95, 0.99):
            if not any(abs(c - need) < 1e-12 for c in confs):
                errors.append(f"risk.var.confidences = {confs!r} must include {need} (risk.limits reads it)")
    tau = _get(config, "silver.nelson_siegel.tau_bounds")
    if tau is not None and len(tau) == 2 and not tau[0] < tau[1]:
        errors.append(f"silver.nelson_siegel.tau_bounds = {tau!r} must be increasing")
    pairs = _get(config, "signals.strategies.params.RATES_BR_01.pairs") or []
    for i, pr in enumerate(pairs):
        if len(pr) == 2 and not pr[0] < pr[1]:
            errors.append(f"signals.strategies.params.RATES_BR_01.pairs[{i}] = {pr!r} must be increasing")
    return errors


def _type(node: Mapping[str, Any]) -> str:
    t = node.get("type", "")
    t = "/".join(t) if isinstance(t, list) else str(t)
    if "enum" in node:
        t += " (" + ", ".join(map(str, node["enum"])) + ")"
    return t


def _rows(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, sub in node.get("properties", {}).items():
        name = f"{prefix}{key}"
        default = sub.get("default", "")
        if sub.get("type") == "object" and "properties" in sub:
            yield f"| `{name}` | object | | {sub.get('description', '')} |"
            yield from _rows(sub, name + ".")
            continue
        dflt = json.dumps(default, ensure_ascii=False) if default != "" else ""
        if len(dflt) > 60:
            dflt = dflt[:57] + "..."
        desc = str(sub.get("description", "")).replace("|", "\\|").replace("\n", " ")
        yield f"| `{name}` | {_type(sub)} | `{dflt}` | {desc} |"


def render(schema: Mapping[str, Any]) -> str:
    """Markdown table of every key of a JSON-Schema (nested objects flattened with dots)."""
    return HEADER + "\n".join(_rows(schema)) + "\n"


if __name__ == "__main__":  # kept for the old command; the declarations are the source (brmacro.params)
    sys.stdout.write(render(load_schema(sys.argv[1])))
