"""The demo market against real history (issue 15 item 1): levels by year, vols, correlations, tails.

Usage::

    .venv/bin/python -m bench.demo_calibration [--seed 20260101]

Prints, for every calendar year of ``brmacro/data/real_markets_yearly.csv`` (sources in ``docs/demo.md``), the
demo's year-end Ibovespa, S&P 500 and USDBRL against the real year-end close (target: within a factor of 2) and
its yearly average Selic target and UST 10Y zero yield against the real yearly average (target: within 5
percentage points); then the annualised vols and daily correlations of the three prices on B3 sessions, their
excess kurtosis, and how many daily moves exceed 6 trailing standard deviations (63 sessions) outside the stress
episodes of the demo (each episode and the 60 days after it), each against the range of history in
:data:`RANGES`. Prints one line per failed check and exits with status 1 if any check fails. In-process, about
two seconds. The checks are functions (:func:`level_checks`, :func:`market_checks`) so that a unit test runs
them too (``tests/unit/test_demo_calibration.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import kurtosis

from brmacro.bronze.demo_model import STRESS_EPISODES, Simulation, di_zero, real_yearly, simulate, ust_zero

__all__ = ["LEVELS", "RANGES", "Check", "level_checks", "market_checks", "market_figures"]

LEVELS = (("ibov_close", "Ibovespa", "x"), ("spx_close", "S&P 500", "x"), ("usdbrl_close", "USDBRL", "x"),
          ("selic_avg", "Selic", "a"), ("ust10y_avg", "UST 10Y", "a"))
YEARS = range(2005, 2027)
FACTOR = 2.0
ABS_PP = 0.05

# The ranges of history the demo's daily figures (B3 sessions 2005-2026) must fall in. Real figures, roughly,
# 2005-2025 daily closes: Ibovespa vol ~26 %, S&P 500 ~19 %, USDBRL ~15 %; correlations Ibovespa-S&P ~0.55
# (closes two hours apart), Ibovespa-USDBRL ~ -0.5, S&P-USDBRL ~ -0.3; excess kurtosis of all of them well
# above 1 (fat tails), of a 1-year DI yield change larger still; no daily move beyond 6 trailing standard
# deviations outside the stress episodes (the target).
RANGES: dict[str, tuple[float, float]] = {
    "vol Ibovespa": (0.20, 0.35), "vol S&P 500": (0.14, 0.25), "vol USDBRL": (0.11, 0.20),
    "vol DI1 1Y (yield change)": (0.004, 0.020),
    "kurtosis Ibovespa": (0.5, 15.0), "kurtosis S&P 500": (0.5, 15.0), "kurtosis USDBRL": (0.5, 15.0),
    "kurtosis DI1 1Y (yield change)": (0.5, 15.0),
    "corr Ibovespa-S&P 500": (0.35, 0.75), "corr Ibovespa-USDBRL": (-0.70, -0.30),
    "corr S&P 500-USDBRL": (-0.55, -0.10),
    ">6sd Ibovespa": (0, 0), ">6sd S&P 500": (0, 0), ">6sd USDBRL": (0, 0), ">6sd DI1 1Y (yield change)": (0, 0),
}


@dataclass(frozen=True)
class Check:
    """One calibration check: what, the demo's figure, the reference and whether it passes."""

    name: str
    value: float
    reference: str
    ok: bool


def demo_levels(s: Simulation) -> dict[str, np.ndarray]:
    """Column of the real table -> the demo's daily path of it (on the weekday grid)."""
    i = np.arange(len(s.days))
    return {"ibov_close": s.prices_d["^BVSP"], "spx_close": s.prices_d["^GSPC"], "usdbrl_close": s.usdbrl_d,
            "selic_avg": s.selic_d, "ust10y_avg": ust_zero(s, i, np.array(10.0))}


def level_checks(s: Simulation, real: Mapping[str, Mapping[int, float]] | None = None) -> list[Check]:
    """Every year x level check of the demo against the real table (years without a figure are skipped).

    Prices: the year's last close within a factor of 2 of the real year-end close; rates: the yearly
    average within 5 percentage points of the real one.
    """
    real = real_yearly() if real is None else real
    years = s.days.astype("datetime64[Y]").astype(int) + 1970
    demo = demo_levels(s)
    out = []
    for y in YEARS:
        m = years == y
        for col, name, kind in LEVELS:
            r = real[col].get(y)
            if r is None:
                continue
            v = float(demo[col][m][-1] if kind == "x" else demo[col][m].mean())
            ok = 1.0 / FACTOR <= v / r <= FACTOR if kind == "x" else abs(v - r) <= ABS_PP
            out.append(Check(f"{y} {name}", v, f"{r:.4g}", ok))
    return out


def market_figures(s: Simulation) -> dict[str, float]:
    """Vols, excess kurtosis (outside the stress episodes), moves beyond 6 trailing sd and correlations."""
    b3 = s.b3_mask
    d = s.days[b3]
    calm = np.ones(len(d), dtype=bool)
    for _, a, e, _, _ in STRESS_EPISODES:
        calm &= ~((d >= np.datetime64(a)) & (d <= np.datetime64(e) + np.timedelta64(60, "D")))
    b3i = np.flatnonzero(b3)
    rets = {k: np.diff(np.log(v[b3])) for k, v in (("Ibovespa", s.prices_d["^BVSP"]), ("S&P 500", s.prices_d["^GSPC"]),
                                                    ("USDBRL", s.usdbrl_d))}
    rets["DI1 1Y (yield change)"] = np.diff(di_zero(s, b3i, np.array(1.0)))
    out: dict[str, float] = {}
    for k, x in rets.items():
        sd = np.array([np.std(x[i - 63:i]) if i >= 63 else np.nan for i in range(len(x))])
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.abs(x) / sd
        keep = calm[1:] & np.isfinite(z)
        out[f"vol {k}"] = float(np.std(x) * np.sqrt(252))
        out[f"kurtosis {k}"] = float(kurtosis(x[calm[1:]]))
        out[f">6sd {k}"] = float((z[keep] > 6).sum())
        out[f"max |move|/sd {k}"] = float(np.nanmax(z[keep]))
    keys = list(rets)[:3]
    c = np.corrcoef(np.vstack([rets[k] for k in keys]))
    for a, b in ((0, 1), (0, 2), (1, 2)):
        out[f"corr {keys[a]}-{keys[b]}"] = float(c[a, b])
    return out


def market_checks(s: Simulation) -> list[Check]:
    """The figures of :func:`market_figures` that have a range in :data:`RANGES`, checked against it."""
    f = market_figures(s)
    return [Check(k, f[k], f"[{lo:g}, {hi:g}]", lo <= f[k] <= hi) for k, (lo, hi) in RANGES.items()]


def main(seed: int) -> int:
    """Print the table and the figures; return the number of failed checks."""
    s = simulate(seed)
    levels = level_checks(s)
    by = {c.name: c for c in levels}
    print("year  " + "  ".join(f"{name:>22}" for _, name, _ in LEVELS))
    demo = demo_levels(s)
    years = s.days.astype("datetime64[Y]").astype(int) + 1970
    for y in YEARS:
        cells = []
        for col, name, kind in LEVELS:
            c = by.get(f"{y} {name}")
            if c is None:
                m = years == y
                v = float(demo[col][m][-1] if kind == "x" else demo[col][m].mean())
                cells.append(f"{v:>10.4g} / {'n/a':>9}")
            else:
                cells.append(f"{c.value:>10.4g} / {float(c.reference):>7.4g}{'  ' if c.ok else ' X'}")
        print(f"{y}  " + "  ".join(cells))
    fails = [c for c in levels if not c.ok]
    print(f"level checks failed (X): {len(fails)} of {len(levels)}")
    f = market_figures(s)
    print("\nseries                 ann. vol  excess kurtosis  moves > 6 sd (calm)  largest |move| / sd")
    for k in ("Ibovespa", "S&P 500", "USDBRL", "DI1 1Y (yield change)"):
        print(f"{k:<22} {f[f'vol {k}']:>8.3f}  {f[f'kurtosis {k}']:>15.2f}  {int(f[f'>6sd {k}']):>19d}"
              f"  {f[f'max |move|/sd {k}']:>19.2f}")
    print(f"\ndaily correlations: Ibovespa-S&P {f['corr Ibovespa-S&P 500']:.2f}, "
          f"Ibovespa-USDBRL {f['corr Ibovespa-USDBRL']:.2f}, S&P-USDBRL {f['corr S&P 500-USDBRL']:.2f}")
    mk = market_checks(s)
    fails += [c for c in mk if not c.ok]
    print(f"\nchecks failed: {len(fails)} of {len(levels) + len(mk)}")
    for c in fails:
        print(f"FAIL {c.name}: {c.value:.4g} (reference {c.reference})")
    return len(fails)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20260101)
    sys.exit(1 if main(ap.parse_args().seed) else 0)
