"""A fast proxy of the FX strategies' horizon ICs straight on the demo simulation (issue 15).

Computes each FX strategy's idea (``brmacro.signals.strategies``: FX_BR_01, FX_02, FX_05) on the arrays of
``brmacro.bronze.demo_model.simulate(seed)`` on B3 sessions, every ``--every``-th session of 2010-01-04..2026-11-30,
and pairs the conviction ``clamp(z / 2, -1, 1)`` of an active signal at session s with the USDBRL excess return
(spot less the CDI-SOFR carry, as ``silver_returns``) over the signal's horizon from D = s + 2, scaled by the vol
of the 252 sessions up to s (``brmacro.report.backtest.signal_skill``). Also the 63-session momentum of USDBRL
as a signal of its own (horizon 21), and the parts of FX_BR_01 (BEER: -z of spot over 252 sessions; C2R: -carry /
vol) and of FX_02 (CARRY_Z). Seconds per seed, so demo variants and seeds can be compared without a build.

    python -m bench.ic_proxy --seeds 20260101 0 1 2 3 4 5 --checks
    python -m bench.ic_proxy --set _TOT_BETA=0.25     # a variant: demo_model constants set before simulating
"""

from __future__ import annotations

import argparse

import numpy as np

from brmacro.bronze import demo_model

START, END = np.datetime64("2010-01-04"), np.datetime64("2026-11-30")


def _z_last(x: np.ndarray, t: int, window: int, min_obs: int | None = None) -> float:
    w = x[max(0, t - window + 1): t + 1]
    w = w[np.isfinite(w)]
    if len(w) < (window // 2 if min_obs is None else min_obs) or len(w) < 2:
        return np.nan
    sd = w.std()
    return float((w[-1] - w.mean()) / sd) if sd > 0 else np.nan


def market(seed: int) -> dict[str, np.ndarray]:
    """The proxy's inputs on the B3 sessions of the simulation."""
    s = demo_model.simulate(seed)
    b3 = s.b3_mask
    days = s.days[b3]
    spot = s.usdbrl_d[b3]
    cdi = s.cdi_d[b3]
    sofr = s.ff_d[b3]
    gap = np.r_[1.0, np.diff(days).astype(float)]
    carry = ((1 + cdi[:-1]) ** (1 / 252) - 1) - sofr[:-1] * gap[1:] / 360
    ret = np.r_[np.nan, spot[1:] / spot[:-1] - 1 - carry]
    return {"days": days, "spot": spot, "ret": ret, "selic": s.selic_d[b3], "ff": sofr,
            "cl": s.prices_d["CL=F"][b3], "hg": s.prices_d["HG=F"][b3], "zs": s.prices_d["ZS=F"][b3]}


def _rolling_std(x: np.ndarray, n: int) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.Series(x).rolling(n).std().to_numpy())


def signals(m: dict[str, np.ndarray], t: int) -> dict[str, tuple[float, int]]:
    """Strategy -> (z, horizon) at session index t (NaN z: no signal)."""
    spot = m["spot"]
    out: dict[str, tuple[float, int]] = {}
    vol63 = m["vol63"][t]
    c2r = (m["selic"][t] - m["ff"][t]) / vol63
    beer = _z_last(spot, t, 252)
    z = (0.4 * -c2r + 0.35 * -beer) / 0.75
    out["FX_BR_01"] = (z if abs(z) >= 0.5 else np.nan, 21)
    cz = _z_last(m["selic"] - m["ff"], t, 252)
    mz = _z_last(m["mom63"], t, 504, 126)
    z = 0.5 * -cz + 0.5 * mz
    out["FX_02"] = (z if abs(z) >= 0.75 else np.nan, 21)
    mis = _z_last(m["tot63"], t, 252) - _z_last(-m["mom63"], t, 252)
    out["FX_05"] = (-mis if abs(mis) >= 1.0 else np.nan, 28)
    out["MOM63"] = (mz, 21)
    out["CARRY_Z"] = (-cz, 21)
    out["BEER"] = (-beer, 21)
    out["C2R"] = (-c2r, 21)
    return out


def proxy(seed: int, every: int = 5) -> dict[str, tuple[float, int]]:
    """Signal -> (horizon IC, pairs) for one seed."""
    m = market(seed)
    spot = m["spot"]
    m["vol63"] = _rolling_std(m["ret"], 63) * np.sqrt(252)
    m["mom63"] = np.r_[np.full(63, np.nan), np.log(spot[63:] / spot[:-63])]
    w = {"zs": 0.3, "hg": 0.25, "cl": 0.2}
    m["tot63"] = sum(wt * np.r_[np.full(63, np.nan), np.log(m[k][63:] / m[k][:-63])] for k, wt in w.items()) / 0.75
    days, ret = m["days"], m["ret"]
    idx = np.flatnonzero((days >= START) & (days <= END))[::every]
    pairs: dict[str, list[tuple[float, float]]] = {}
    for t in idx:
        vol = np.nanstd(ret[t - 251: t + 1], ddof=1) * np.sqrt(252)
        for name, (z, h) in signals(m, int(t)).items():
            d = t + 2
            if not np.isfinite(z) or d + h > len(ret):
                continue
            y = ret[d: d + h].sum() / (vol * np.sqrt(h))
            pairs.setdefault(name, []).append((float(np.clip(z / 2, -1, 1)), float(y)))
    out = {}
    for name, p in pairs.items():
        a = np.array(p)
        ic = float(np.corrcoef(a[:, 0], a[:, 1])[0, 1]) if len(a) > 2 and np.ptp(a[:, 0]) > 0 else np.nan
        out[name] = (ic, len(a))
    return out


def _variance_ratio(lr: np.ndarray, k: int) -> float:
    c = np.r_[0.0, np.cumsum(lr)]
    return float(np.var(c[k:] - c[:-k]) / (k * np.var(lr)))


def sanity(seed: int) -> str:
    """USDBRL and commodity figures of one seed and the calibration checks that fail (>6 sd counted apart)."""
    from bench.demo_calibration import level_checks, market_checks, market_figures

    sim = demo_model.simulate(seed)
    b3 = sim.b3_mask
    lr = np.diff(np.log(sim.usdbrl_d[b3]))
    basket = (0.3 * np.log(sim.prices_d["ZS=F"]) + 0.25 * np.log(sim.prices_d["HG=F"])
              + 0.2 * np.log(sim.prices_d["CL=F"]))[b3]
    cl, hg = sim.prices_d["CL=F"][b3], sim.prices_d["HG=F"][b3]
    f = market_figures(sim)
    bad = [f"{c.name}={c.value:.3g}" for c in market_checks(sim) + level_checks(sim)
           if not c.ok and not c.name.startswith(">6sd")]
    return (f"  CL {cl.min():.0f}-{cl.max():.0f} HG {hg.min():.1f}-{hg.max():.1f}"
            f"  VR21 {_variance_ratio(lr, 21):.2f} VR63 {_variance_ratio(lr, 63):.2f}"
            f"  corr(FX, basket) {np.corrcoef(lr, np.diff(basket))[0, 1]:.2f}  vol FX {f['vol USDBRL']:.3f}"
            f"  corr(Ibov, FX) {f['corr Ibovespa-USDBRL']:.2f}  >6sd FX {f['>6sd USDBRL']:.0f}  fails {bad}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[20260101, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--set", nargs="*", default=[], help="demo_model constants NAME=VALUE (a variant)")
    ap.add_argument("--checks", action="store_true", help="also USDBRL figures and the calibration checks that fail")
    a = ap.parse_args()
    for kv in a.set:
        k, v = kv.split("=")
        setattr(demo_model, k, float(v))
    demo_model.simulate.cache_clear()
    names = ["FX_BR_01", "FX_02", "FX_05", "MOM63", "CARRY_Z", "BEER", "C2R"]
    print("seed      " + " ".join(f"{n:>9}" for n in names))
    res = []
    for seed in a.seeds:
        r = proxy(seed, a.every)
        res.append([r.get(n, (np.nan, 0))[0] for n in names])
        print(f"{seed:<9} " + " ".join(f"{v:9.3f}" for v in res[-1]) + (sanity(seed) if a.checks else ""))
    arr = np.array(res)
    print(f"{'mean':<9} " + " ".join(f"{v:9.3f}" for v in np.nanmean(arr, axis=0)))
    print(f"{'median':<9} " + " ".join(f"{v:9.3f}" for v in np.nanmedian(arr, axis=0)))
    print(f"{'> 0':<9} " + " ".join(f"{int((c > 0).sum()):>6}/{len(c)}" for c in arr.T))


if __name__ == "__main__":
    main()
