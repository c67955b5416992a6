"""The configuration: defaults valid against the schema, every key documented, README in sync."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.utils import validate

from brmacro.configdoc import render

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "config" / "schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _leaves(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for k, sub in node.get("properties", {}).items():
        yield f"{path}{k}", sub
        if sub.get("type") == "object":
            yield from _leaves(sub, f"{path}{k}.")


def test_defaults_validate() -> None:
    validate(copy.deepcopy(CONFIG), str(SCHEMA))


def test_every_key_has_a_description_and_every_leaf_a_default() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    for name, sub in _leaves(schema):
        assert sub.get("description"), f"{name} has no description"
        if sub.get("type") != "object":
            assert "default" in sub, f"{name} has no default"


def test_config_readme_and_schema_are_generated_from_the_declarations() -> None:
    from brmacro.configdoc import schema_yaml
    from brmacro.params import json_schema

    assert SCHEMA.read_text() == schema_yaml(json_schema()), (
        "config/schema.yaml is stale: python -m brmacro.params schema > config/schema.yaml"
    )
    assert (ROOT / "config" / "README.md").read_text() == render(json_schema()), (
        "config/README.md is stale: python -m brmacro.params readme > config/README.md"
    )


def test_config_yaml_holds_every_declared_key_at_its_declared_default() -> None:
    from brmacro.params import defaults

    def diff(a: Any, b: Any, path: str) -> list[str]:
        if isinstance(a, dict) and isinstance(b, dict):
            return [x for k in sorted(set(a) | set(b), key=str)
                    for x in (diff(a[k], b[k], f"{path}.{k}") if k in a and k in b else [f"{path}.{k}"])]
        return [] if a == b else [path]

    assert diff(CONFIG, defaults(), "") == [], "config/config.yaml differs from the declared defaults (brmacro.params)"


def test_section_fills_undeclared_keys_with_declared_defaults_and_select_keeps_only_named_keys() -> None:
    from brmacro.params import defaults, section, select

    var = section({"risk": {"var": {"window": 300}}}, "risk.var")
    assert var["window"] == 300 and var["min_obs"] == defaults("risk.var.min_obs")
    assert section(None, "risk.var") == defaults("risk.var")
    picked = select(CONFIG, ["nav_brl", "agents.inflation", "agents.damper"])
    assert picked == {"nav_brl": CONFIG["nav_brl"],
                      "agents": {"inflation": CONFIG["agents"]["inflation"], "damper": CONFIG["agents"]["damper"]}}
    with pytest.raises(KeyError, match="not declared"):
        select(CONFIG, ["agents.no_such_key"])


@pytest.mark.parametrize(
    ("key", "value"),
    [("source", "nowhere"), ("nav_brl", -1), ("results", "../x"), ("date", "26/11/2026"), ("unknown_key", 1)],
)
def test_bad_values_are_refused(key: str, value: object) -> None:
    cfg = copy.deepcopy(CONFIG)
    cfg[key] = value
    with pytest.raises(Exception, match="alidat"):
        validate(cfg, str(SCHEMA))


@pytest.mark.parametrize("path", ["signals.strategies.hold_entries", "agents.cross_asset.regime_hold",
                                  "portfolio.reversal_through_flat", "agents.fx_equilibrium.hold_entries"])
def test_the_hold_and_reversal_switches_refuse_a_non_boolean_by_name(path: str) -> None:
    cfg = copy.deepcopy(CONFIG)
    *parents, last = path.split(".")
    node = cfg
    for k in parents:
        node = node[k]
    node[last] = "yes"
    with pytest.raises(Exception, match="alidat") as ei:
        validate(cfg, str(SCHEMA))
    assert last in str(ei.value) and "boolean" in str(ei.value)


# ------------------------------------------------------------------------------------------------ issue 17: bounds

UNBOUNDED_WHY = "unbounded:"  # a number may lack a bound only if its description says why, after this word


def _numbers(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema node that accepts a number (properties, list items, map values), with its key path."""
    if not isinstance(node, Mapping):
        return
    t = node.get("type")
    types = t if isinstance(t, list) else [t]
    if "number" in types or "integer" in types:
        yield path, node
    for k, sub in node.get("properties", {}).items():
        yield from _numbers(sub, f"{path}.{k}" if path else k)
    if isinstance(node.get("items"), Mapping):
        yield from _numbers(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from _numbers(node["additionalProperties"], f"{path}.*")


def _lists(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(node, Mapping):
        return
    t = node.get("type")
    if "array" in (t if isinstance(t, list) else [t]):
        yield path, node
    for k, sub in node.get("properties", {}).items():
        yield from _lists(sub, f"{path}.{k}" if path else k)
    if isinstance(node.get("items"), Mapping):
        yield from _lists(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from _lists(node["additionalProperties"], f"{path}.*")


def test_every_number_of_the_schema_has_both_bounds_unless_its_description_says_why() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    found = list(_numbers(schema))
    assert len(found) > 300  # the walk reaches nested objects, list items and map values
    bad = [
        p for p, n in found
        if not (("minimum" in n or "exclusiveMinimum" in n) and ("maximum" in n or "exclusiveMaximum" in n))
        and UNBOUNDED_WHY not in str(n.get("description", "")).lower()
    ]
    assert bad == [], f"numbers without minimum/maximum (or '{UNBOUNDED_WHY} <why>' in the description): {bad}"


def test_the_bounds_walk_fails_on_a_number_without_bounds() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "object", "properties": {
        "x": {"type": "number", "minimum": 0}, "y": {"type": "array", "items": {"type": "integer"}}}}}}
    paths = [p for p, n in _numbers(schema) if "maximum" not in n]
    assert paths == ["a.x", "a.y[]"]


def test_every_list_states_its_length_or_uniqueness() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    bad = [p for p, n in _lists(schema) if not ({"minItems", "uniqueItems"} & set(n))
           and not p.startswith("portfolio.bounds")]
    assert bad == [], f"lists without minItems/uniqueItems: {bad}"


def _refused(mutate: Any) -> str:
    from brmacro.configdoc import ConfigError, validate_config

    cfg = copy.deepcopy(CONFIG)
    mutate(cfg)
    with pytest.raises(ConfigError) as info:
        validate_config(cfg, SCHEMA)
    return str(info.value)


def test_defaults_pass_validate_config_with_cross_key_rules() -> None:
    from brmacro.configdoc import cross_key_errors, validate_config

    cfg = copy.deepcopy(CONFIG)
    validate_config(cfg, SCHEMA)
    assert cross_key_errors(cfg) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("portfolio.sizing.target_vol", -0.1),
        ("portfolio.sizing.kelly_fraction", -0.5),
        ("portfolio.sizing.target_vol", 0.0),
        ("portfolio.cov_window", 1),
        ("portfolio.universe", []),
        ("portfolio.universe", ["DI1_1Y", "DI1_1Y"]),
        ("risk.var.confidences", [0.95, 0.95, 0.99]),
        ("portfolio.gross_leverage", -1.0),
        ("agents.damper", 1.5),
        ("signals.crowding.penalty", -0.2),
        ("risk.limits.daily_loss", 0.0),
        ("portfolio.vol_halflife", 0.0),
        ("portfolio.vol_halflife", "fast"),
        ("agents.cross_asset.hmm.release_sessions", 0.5),
        ("agents.cross_asset.hmm.switch_sessions", 0.0),
    ],
)
def test_out_of_range_and_repeated_values_are_refused_naming_the_key(key: str, value: object) -> None:
    def mutate(cfg: dict[str, Any]) -> None:
        *head, last = key.split(".")
        node = cfg
        for k in head:
            node = node[k]
        node[last] = value

    assert key in _refused(mutate)


@pytest.mark.parametrize(
    "key", ["portfolio.sizing.target_vol", "nav_brl", "risk.limits.var_95", "portfolio.bounds.DI1_1Y[0]"]
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused_naming_the_key(key: str, value: float) -> None:
    def mutate(cfg: dict[str, Any]) -> None:
        *head, last = key.replace("[0]", "").split(".")
        node = cfg
        for k in head:
            node = node[k]
        if key.endswith("[0]"):
            node[last][0] = value
        else:
            node[last] = value

    msg = _refused(mutate)
    assert key in msg and "finite" in msg


def test_yaml_nan_from_a_config_file_is_refused(tmp_path: Path) -> None:
    """`.nan` in YAML is a float NaN, which passes every JSON-Schema bound: it must still be refused."""
    cfg = yaml.safe_load("portfolio: {sizing: {target_vol: .nan}}")
    sizing = cfg["portfolio"]["sizing"]
    assert "portfolio.sizing.target_vol" in _refused(lambda c: c["portfolio"]["sizing"].update(sizing))


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda c: c["portfolio"].update(min_obs=300, cov_window=252), ["portfolio.min_obs", "portfolio.cov_window"]),
        (lambda c: c["portfolio"].update(min_obs=8), ["portfolio.min_obs", "portfolio.universe"]),
        (lambda c: c["portfolio"]["bounds"].update(DI1_1Y=[2.0, -2.0]), ["portfolio.bounds.DI1_1Y", "above"]),
        (lambda c: c["portfolio"]["bounds"].update(DI1_1Y=[1.0, 2.0]), ["portfolio.bounds.DI1_1Y", "excludes zero"]),
        (lambda c: c["portfolio"]["bounds"].pop("SPX"), ["portfolio.bounds.SPX", "missing"]),
        (lambda c: c["risk"]["var"].update(min_obs=800), ["risk.var.min_obs", "risk.var.window"]),
        (lambda c: c["risk"]["var"].update(confidences=[0.9, 0.95]), ["risk.var.confidences", "0.99"]),
        (lambda c: c["agents"]["cross_asset"]["sentiment"].update(lower=80.0),
         ["agents.cross_asset.sentiment.lower", "agents.cross_asset.sentiment.upper"]),
        (lambda c: c["silver"]["nelson_siegel"].update(tau_bounds=[5.0, 1.0]), ["silver.nelson_siegel.tau_bounds"]),
    ],
)
def test_cross_key_rules_are_checked_before_any_job(mutate: Any, names: list[str]) -> None:
    msg = _refused(mutate)
    for n in names:
        assert n in msg, msg


def test_bounds_that_exclude_zero_state_the_decision_in_the_schema() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    desc = schema["properties"]["portfolio"]["properties"]["bounds"]["description"]
    assert "lower <= 0 <= upper" in desc


def test_a_declaration_edit_changes_no_step_code_version(tmp_path: Path) -> None:
    """Declarations are data: they reach a step only through its params (brmacro.codeversion skips them)."""
    import importlib.util
    import os
    import shutil
    import time

    from brmacro.pipeline import STEPS

    lib = tmp_path / "brmacro"
    shutil.copytree(ROOT / "src" / "brmacro", lib, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("cv_copy", lib / "codeversion.py")
    assert spec is not None and spec.loader is not None
    cv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cv)
    layers = {a: s.layer for a, s in STEPS.items()}

    def changed_by(rel: str) -> set[str]:
        before = cv.code_hashes(layers)
        f = lib / rel
        f.write_text(f.read_text() + "\n# edited\n")
        os.utime(f, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        after = cv.code_hashes(layers)
        return {a for a in STEPS if before[a] != after[a]}

    assert changed_by("params/agents.py") == set()
    assert changed_by("params/risk.py") == set()
    assert {"risk_var", "portfolio_sizing", "signal_aggregation"} <= changed_by("params/__init__.py")  # machinery


# ------------------------------------------------------------------ a step reads only the keys its rule passes

def test_inside_a_step_an_undeclared_key_is_refused_naming_step_and_key() -> None:
    from brmacro.params import UndeclaredKeyError, reading_only, section, value

    params = {"risk": {"var": {"window": 300}}, "nav_brl": 5e7}
    assert section(params, "risk.limits")["max_gross_leverage"] > 0  # outside a step: defaults, unrestricted
    with reading_only("risk_var", ("source", "risk.var")):
        assert section(params, "risk.var")["window"] == 300
        assert value(params, "risk.var.window") == 300
        with pytest.raises(UndeclaredKeyError, match=r"risk_var reads config key 'risk.limits'.*risk.var"):
            section(params, "risk.limits")
        with pytest.raises(UndeclaredKeyError, match="'nav_brl'"):
            value(params, "nav_brl")
    assert value(params, "nav_brl") == 5e7  # the scope ends with the step


def test_a_parent_section_holds_only_the_passed_keys_and_refuses_the_others() -> None:
    from brmacro.params import UndeclaredKeyError, reading_only, section

    params = {"agents": {"inflation": {}, "damper": {}}}
    with reading_only("agent_inflation", ("agents.inflation", "agents.damper")):
        agents = section(params, "agents")
        assert set(agents) == {"inflation", "damper"} and agents["inflation"]  # filled with declared defaults
        with pytest.raises(UndeclaredKeyError, match="'agents.fiscal'"):
            agents["fiscal"]
        with pytest.raises(UndeclaredKeyError, match="'agents.fiscal'"):
            agents.get("fiscal", {})  # a declared key is never silently defaulted
        assert agents.get("no_such_key", 7) == 7  # an undeclared name is just absent


def test_run_step_refuses_a_step_reading_a_key_its_rule_does_not_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from brmacro import pipeline
    from brmacro.params import UndeclaredKeyError, section

    def reads_risk(ctx: pipeline.Context) -> dict[str, Any]:
        section(ctx.params, "risk.var")
        raise AssertionError("not reached")

    spec = pipeline.STEPS["silver_curves"]
    monkeypatch.setitem(pipeline.STEPS, "silver_curves", type(spec)(**{**spec.__dict__, "build": lambda: reads_risk}))
    out = tmp_path / "results" / "silver" / "silver_curves" / "date=2026-11-24" / "part.parquet"
    with pytest.raises(UndeclaredKeyError, match="silver_curves reads config key 'risk.var'"):
        pipeline.run_step("silver_curves", "2026-11-24", {"source": "demo"}, [], [], [out])
    assert not out.parent.exists() or not any(out.parent.iterdir())
