"""Each rule receives only the config keys its step reads: an edit plans exactly the steps that depend on it.

Dry runs (``snakemake -n``) on the shared demo run with one key edited; nothing is built.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from brmacro.pipeline import BRONZE, SILVER, STEPS
from tests.conftest import SESSIONS, snakemake

pytestmark = pytest.mark.workflow

RANGE = (f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")


def _planned(workdir: Path, edit: dict[str, Any], tmp_path: Path) -> set[str]:
    """The rules a dry run plans after ``edit`` (a nested override of config/config.yaml)."""
    cfg = yaml.safe_load((workdir / "config" / "config.yaml").read_text(encoding="utf-8"))
    edited = copy.deepcopy(cfg)

    def merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
        for k, v in src.items():
            if isinstance(v, dict):
                merge(dst[k], v)
            else:
                assert k in dst, f"{k} is not a config key"
                dst[k] = v

    merge(edited, edit)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")
    out = snakemake(workdir, "-n", "--configfile", str(path), "--config", *RANGE)
    text = out.stdout + out.stderr
    return set(re.findall(r"^(?:local)?rule (\w+):", text, flags=re.M)) - {"all"}


def test_editing_nav_brl_plans_only_the_book_and_its_dependants(demo_run: Path, tmp_path: Path) -> None:
    # the optimisation reads the NAV too (share limits by book size, the desk's positions as weights)
    planned = _planned(demo_run, {"nav_brl": 50_000_000}, tmp_path)
    assert planned == {"portfolio_optimization", "portfolio_sizing", "risk_var", "risk_stress", "risk_limits",
                       "daily_report"}


def test_editing_one_agents_key_plans_that_agent_and_its_dependants_only(demo_run: Path, tmp_path: Path) -> None:
    planned = _planned(demo_run, {"agents": {"fx_equilibrium": {"carry": {"z_fire": 1.25}}}}, tmp_path)
    untouched = {*BRONZE, *SILVER, "agent_inflation", "agent_monetary_policy", "agent_fiscal"}
    assert planned & untouched == set()
    assert planned == set(STEPS) - untouched


def test_editing_one_silver_macro_key_leaves_curves_and_returns_alone(demo_run: Path, tmp_path: Path) -> None:
    planned = _planned(demo_run, {"silver": {"macro": {"hp_lambda_monthly": 14400}}}, tmp_path)
    assert "silver_macro" in planned and "agent_inflation" in planned
    assert planned & {*BRONZE, "silver_curves", "silver_returns"} == set()


def test_editing_nothing_plans_nothing(demo_run: Path, tmp_path: Path) -> None:
    assert _planned(demo_run, {}, tmp_path) == set()
