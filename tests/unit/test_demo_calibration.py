"""Issue 15 item 1: the demo market tracks real history (``bench/demo_calibration.py``, table in docs/demo.md).

Every calendar year 2005-2025: Ibovespa, S&P 500 and USDBRL within a factor of 2 of the real year-end close,
Selic and UST 10Y within 5 percentage points of the real yearly average; vols, correlations and excess
kurtosis in the ranges of history; no daily move beyond 6 trailing standard deviations outside the stress
episodes.
"""

from __future__ import annotations

import copy

import pytest

from bench.demo_calibration import LEVELS, RANGES, YEARS, level_checks, market_checks, market_figures
from brmacro.bronze import demo
from brmacro.bronze.demo_model import real_yearly, simulate

SEED = demo.DEFAULT_SEED


def test_every_year_and_level_is_checked() -> None:
    checks = level_checks(simulate(SEED))
    real = real_yearly()
    expected = sum(1 for y in YEARS for col, _, _ in LEVELS if y in real[col])
    assert len(checks) == expected == 21 * 5  # 2005-2025 (2026 has no real figure yet)


def test_demo_levels_track_real_history_every_year() -> None:
    fails = [f"{c.name}: demo {c.value:.4g}, real {c.reference}" for c in level_checks(simulate(SEED))
             if not c.ok]
    assert not fails, "\n".join(fails)


@pytest.mark.parametrize(("col", "factor"), [("spx_close", 2.5), ("usdbrl_close", 0.3), ("selic_avg", None)])
def test_a_year_off_the_real_figure_fails(col: str, factor: float | None) -> None:
    """The check is not vacuous: move one year's real figure away and exactly that check fails."""
    real = copy.deepcopy(real_yearly())
    real[col][2016] = real[col][2016] * factor if factor is not None else real[col][2016] + 0.06
    fails = [c.name for c in level_checks(simulate(SEED), real) if not c.ok]
    assert len(fails) == 1 and fails[0].startswith("2016 ")


def test_vols_correlations_tails_in_the_ranges_of_history() -> None:
    fails = [f"{c.name}: {c.value:.4g} not in {c.reference}" for c in market_checks(simulate(SEED)) if not c.ok]
    assert not fails, "\n".join(fails)


def test_no_calm_move_beyond_six_sigma_and_ranges_cover_them() -> None:
    f = market_figures(simulate(SEED))
    for k in ("Ibovespa", "S&P 500", "USDBRL", "DI1 1Y (yield change)"):
        assert RANGES[f">6sd {k}"] == (0, 0)
        assert f[f">6sd {k}"] == 0 and f[f"max |move|/sd {k}"] < 6.0
