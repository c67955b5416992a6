"""The demo market against real history (issue 15 item 1): levels by year, vols, correlations, tails.

Usage::

    .venv/bin/python -m bench.demo_calibration [--seed 20260101]

Prints, for every calendar year of ``brmacro/data/real_markets_yearly.csv`` (sources in ``docs/demo.md``), the
demo's year-end Ibovespa, S&P 500 and USDBRL against the real year-end close (target: within a factor of 2) and
its yearly average Selic target and UST 10Y zero yield against the real yearly average (target: within 5
percentage points); then the annualised vols and daily correlations of the three prices on B3 sessions, their
excess kurtosis, and how many daily moves exceed 6 trailing standard deviations (63 sessions) outside the stress
episodes of the demo (each episode and the 60 days after it). In-process, about two seconds.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.stats import kurtosis

from brmacro.bronze.demo_model import STRESS_EPISODES, curve_zero, simulate

LEVELS = (("ibov_close", "Ibovespa", "x"), ("spx_close", "S&P 500", "x"), ("usdbrl_close", "USDBRL", "x"),
          ("selic_avg", "Selic", "a"), ("ust10y_avg", "UST 10Y", "a"))


def real_yearly() -> dict[str, dict[int, float]]:
    """Column -> year -> value of ``brmacro/data/real_markets_yearly.csv`` (empty cells left out)."""
    import csv
    from importlib.resources import files

    rows = list(csv.DictReader(files("brmacro").joinpath("data/real_markets_yearly.csv").read_text().splitlines()))
    return {c: {int(r["year"]): float(r[c]) for r in rows if r[c]} for c, _, _ in LEVELS}


def main(seed: int) -> None:
    s = simulate(seed)
    real = real_yearly()
    years = s.days.astype("datetime64[Y]").astype(int) + 1970
    ust10 = curve_zero(10.0, s.ff_d, s.us_istar_d, s.us_anchor_d, s.us_tp_d, s.us_level_d)
    demo = {"ibov_close": s.prices_d["^BVSP"], "spx_close": s.prices_d["^GSPC"], "usdbrl_close": s.usdbrl_d,
            "selic_avg": s.selic_d, "ust10y_avg": ust10}
    fails = 0
    print("year  " + "  ".join(f"{name:>22}" for _, name, _ in LEVELS))
    for y in range(2005, 2027):
        m = years == y
        cells = []
        for col, _, kind in LEVELS:
            v = float(demo[col][m][-1] if kind == "x" else demo[col][m].mean())
            r = real[col].get(y)
            if r is None:
                cells.append(f"{v:>10.4g} / {'n/a':>9}")
                continue
            ok = 0.5 <= v / r <= 2.0 if kind == "x" else abs(v - r) <= 0.05
            fails += not ok
            cells.append(f"{v:>10.4g} / {r:>7.4g}{'  ' if ok else ' X'}")
        print(f"{y}  " + "  ".join(cells))
    print(f"level checks failed (X): {fails}")
    b3 = s.b3_mask
    d = s.days[b3]
    calm = np.ones(len(d), dtype=bool)
    for _, a, e, _, _ in STRESS_EPISODES:
        calm &= ~((d >= np.datetime64(a)) & (d <= np.datetime64(e) + np.timedelta64(60, "D")))
    rets = {k: np.diff(np.log(v[b3])) for k, v in (("Ibovespa", s.prices_d["^BVSP"]), ("S&P 500", s.prices_d["^GSPC"]),
                                                    ("USDBRL", s.usdbrl_d))}
    rets["DI1 1Y (yield change)"] = np.diff(curve_zero(1.0, s.selic_d, s.br_istar_d, s.br_anchor_d, s.br_tp_d,
                                                       s.br_level_d)[b3])
    keys = list(rets)
    print("\nseries                 ann. vol  excess kurtosis  moves > 6 sd (calm)  largest |move| / sd")
    for k in keys:
        x = rets[k]
        sd = np.array([np.std(x[i - 63:i]) if i >= 63 else np.nan for i in range(len(x))])
        z = np.abs(x) / sd
        out = calm[1:] & np.isfinite(z)
        big = int((z[out] > 6).sum())
        print(f"{k:<22} {np.std(x) * np.sqrt(252):>8.3f}  {kurtosis(x[calm[1:]]):>15.2f}  {big:>19d}"
              f"  {np.nanmax(z[out]):>19.2f}")
    c = np.corrcoef(np.vstack([rets[k] for k in keys[:3]]))
    print(f"\ndaily correlations: Ibovespa-S&P {c[0, 1]:.2f}, Ibovespa-USDBRL {c[0, 2]:.2f}, S&P-USDBRL {c[1, 2]:.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20260101)
    main(ap.parse_args().seed)
