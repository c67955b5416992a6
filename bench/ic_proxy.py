"""A fast proxy of the FX strategies' horizon ICs straight on the demo simulation (issue 15).

Computes each FX strategy's idea (``brmacro.signals.strategies``: FX_BR_01, FX_02, FX_05) on the arrays of
``brmacro.bronze.demo_model.simulate(seed)`` on B3 sessions, every ``--every``-th session of 2010-01-04..2026-11-30,
and pairs the conviction ``clamp(z / 2, -1, 1)`` of an active signal at session s with the USDBRL excess return
(spot less the CDI-SOFR carry, as ``silver_returns``) over the signal's horizon from D = s + 2, scaled by the vol
of the 252 sessions up to s (``brmacro.report.backtest.signal_skill``). Also the 63-session momentum of USDBRL
as a signal of its own (horizon 21), and the parts of FX_BR_01 (BEER: -z of spot over 252 sessions; C2R: -carry /
vol) and of FX_02 (CARRY_Z). Seconds per seed, so demo variants and seeds can be compared without a build.

``--rates``: the rates strategies instead (RATES_03, RATES_BR_03, RATES_04, RATES_BR_02, INF_03, with the
params of ``config/config.yaml`` and the entries held for the horizon as ``signals.strategies.hold_entries``), on
the DI zeros of :func:`~brmacro.bronze.demo_model.di_zero` and the UST zeros at the tenors (du / 252 years), IPCA
12m and US CPI yoy as released (month end + 12 / 14 days), Focus (released the Monday after its Friday survey) and
the silver output gap (the end point of a two-sided HP filter of IBC-Br as released); the outcome is the DI1
constant-maturity excess return of ``silver_returns`` (PU rolled one du, less a day of CDI). Also the two legs of
RATES_BR_03 apart (SLOPE_5Y, SLOPE_2Y). On main (demo of 2026-12-05) it gives RATES_03 / RATES_BR_03 / RATES_04 /
RATES_BR_02 −0.009 / −0.018 / 0.052 / 0.021 every 5th session against the pipeline's −0.010 / −0.019 / 0.053 /
0.043 (RATES_BR_02's output gap is the proxy's weakest part).

    python -m bench.ic_proxy --seeds 20260101 0 1 2 3 4 5 --checks
    python -m bench.ic_proxy --set _TOT_BETA=0.25     # a variant: demo_model constants set before simulating
    python -m bench.ic_proxy --rates --every 1 --seeds 20260101 --set _BR_ANCHOR_AHEAD_DAYS=0
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


# --------------------------------------------------------------------------- rates (issue 15)

RATES = ["RATES_03", "RATES_BR_03", "RATES_04", "RATES_BR_02", "INF_03"]


def _roll_z(x: np.ndarray, window: int) -> np.ndarray:
    """z of each value against the ``window`` values ending at it (population std), NaN under window // 2."""
    import pandas as pd

    s = pd.Series(x)
    r = s.rolling(window, min_periods=window // 2)
    return np.asarray(((s - r.mean()) / r.std(ddof=0)).to_numpy())


def _held(zs: np.ndarray, entry: float, horizon: int) -> np.ndarray:
    """``brmacro.holding.held_z`` on every session of a z path (NaN: neutral, no active signal)."""
    from brmacro.holding import held_z

    out = np.full(len(zs), np.nan)
    for t in range(len(zs)):
        if not np.isfinite(zs[t]):
            continue
        z, k = held_z(zs[max(0, t - horizon + 1): t + 1], entry, horizon)
        if k or abs(z) >= entry:
            out[t] = z
    return out


def _asof_monthly(days: np.ndarray, months: np.ndarray, v: np.ndarray, lag_days: int) -> np.ndarray:
    """The monthly value known on each day: observation month m released at its month end + ``lag_days``."""
    ends = (months.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    rel = ends + np.timedelta64(lag_days, "D")
    k = np.searchsorted(rel, days, side="right") - 1
    return np.where(k >= 0, v[np.maximum(k, 0)], np.nan)


def _hp_gap_asof(sim: demo_model.Simulation, days: np.ndarray) -> np.ndarray:
    """The silver output gap known on each day: the end point of a two-sided HP (129,600) of log IBC-Br over the
    observations released by then (from January 2005, release month end + the registry lag)."""
    from statsmodels.tsa.filters.hp_filter import hpfilter

    from brmacro.series import SERIES

    lag = next(int(x.lag_days) for x in SERIES if x.name == "br_ibc_br")
    months = sim.months[12:]
    lv = np.log(np.round(sim.br_ibc_sa_m[12:], 2))
    gaps = np.full(len(months), np.nan)
    for k in range(36, len(months) + 1):
        cyc, _ = hpfilter(lv[:k], 129600.0)
        gaps[k - 1] = cyc[-1]
    return _asof_monthly(days, months, gaps, lag)


def rates_market(seed: int) -> dict[str, np.ndarray]:
    """The rates strategies' inputs on the B3 sessions: DI and UST zeros at the tenors, the CDI, IPCA 12m, US CPI
    yoy and Focus as released, and each DI1 constant-maturity point's daily excess return (``silver_returns``)."""
    from brmacro.bronze.demo_tables import _year_end_h, _ytd_12m
    from brmacro.instruments import di1_pu

    s = demo_model.simulate(seed)
    i = np.flatnonzero(s.b3_mask)
    days = s.days[i]
    m: dict[str, np.ndarray] = {"days": days}
    for du in (252, 504, 1260):
        t = np.array(du / 252.0)
        m[f"di{du}"] = demo_model.di_zero(s, i, t)
        m[f"di{du}_roll"] = demo_model.di_zero(s, i, np.array((du - 1) / 252.0))
        m[f"ust{du}"] = demo_model.ust_zero(s, i, t)
        cdi_day = (1.0 + s.cdi_d[i]) ** (1 / 252) - 1.0
        ret = np.full(len(i), np.nan)
        ret[1:] = di1_pu(m[f"di{du}_roll"][1:], du - 1) / (di1_pu(m[f"di{du}"][:-1], du) * (1 + cdi_day[:-1])) - 1
        m[f"ret{du}"] = ret
    mom = np.round(s.br_mom_m, 4)
    m["ipca12"] = _asof_monthly(days, s.months, np.round(_ytd_12m(mom), 4), 12)
    cpi = s.us_cpi_m
    yoy = np.r_[np.full(12, np.nan), cpi[12:] / cpi[:-12] - 1.0]
    m["uscpi"] = _asof_monthly(days, s.months, yoy, 14)
    # Focus (weekly: survey Friday, released Monday): the IPCA 12m and the Selic of this and next year
    fri = s.days[(s.days.view("int64") - 1) % 7 == 0]
    fi = np.searchsorted(s.days, fri)
    nf = len(fri)

    def selic_at(h: np.ndarray) -> np.ndarray:
        f = demo_model.curve_zero(h, demo_model.br_short(s, fi, h), s.br_istar_d[fi], s.br_anchor_d[fi],
                                  np.zeros(nf), np.zeros(nf))
        return np.round((f + 0.001) * 400.0) / 400.0

    rel = fri + np.timedelta64(3, "D")
    k = np.searchsorted(rel, days, side="right") - 1
    path = 0.5 * (selic_at(_year_end_h(fri, 0)) + selic_at(_year_end_h(fri, 1)))
    m["focus_selic"] = np.where(k >= 0, path[np.maximum(k, 0)], np.nan)
    m["focus_ipca"] = np.where(k >= 0, np.round(s.br_pi_e_d[fi], 4)[np.maximum(k, 0)], np.nan)
    m["gap"] = _hp_gap_asof(s, days)
    t2 = np.array(2.0)
    pe = s.br_pi_e_d[i]
    m["bei504"] = demo_model.curve_zero(t2, pe, pe, s.br_pi_long_d[i], s.br_irp_d[i], np.zeros(len(i)))
    m["target"] = demo_model.br_inflation_target(days.astype("datetime64[Y]").astype(int) + 1970)
    return m


def rates_signals(m: dict[str, np.ndarray]) -> dict[str, list[tuple[np.ndarray, int, int]]]:
    """Strategy -> [(z path on every session, NaN neutral; horizon; DI tenor of the leg)], the legs signed."""
    diff = m["ipca12"] - m["uscpi"]
    out: dict[str, list[tuple[np.ndarray, int, int]]] = {}
    adj = m["di504"] - m["ust504"] - diff
    out["RATES_03"] = [(_held(_roll_z(adj, 504), 1.25, 21), 21, 504)]
    slope = m["di1260"] - m["di504"]
    h = _held(_roll_z(slope, 252), 1.5, 63)
    out["RATES_BR_03"] = [(h, 63, 1260), (-h, 63, 504)]
    tp = m["di504"] - m["focus_selic"]
    out["RATES_04"] = [(_held(_roll_z(tp, 252), 1.5, 21), 21, 504)]
    pe = m["focus_ipca"]
    i_star = 0.045 + pe + 1.5 * (pe - m["target"]) + 0.5 * m["gap"]
    mis = i_star - m["di252"]
    out["RATES_BR_02"] = [(np.where(np.abs(mis) > 0.01, -mis / 0.01, np.nan), 63, 252)]
    bei = m["bei504"]
    rich = ((bei - m["target"]) + (bei - m["ipca12"]) + (bei - m["focus_ipca"])) / 3.0
    out["INF_03"] = [(_held(_roll_z(rich, 252), 1.0, 21), 21, 504)]
    # not strategies: the parts, as signals of their own
    out["SLOPE_5Y"] = [(h, 63, 1260)]
    out["SLOPE_2Y"] = [(-h, 63, 504)]
    return out


def rates_proxy(seed: int, every: int = 5) -> dict[str, tuple[float, int]]:
    """Rates signal -> (horizon IC, pairs) for one seed, sessions 2010-01-04..2026-11-30 every ``every``."""
    m = rates_market(seed)
    days = m["days"]
    idx = np.flatnonzero((days >= START) & (days <= END))[::every]
    out = {}
    for name, legs in rates_signals(m).items():
        xs, ys = [], []
        for z, h, du in legs:
            ret = m[f"ret{du}"]
            c = np.r_[0.0, np.cumsum(np.nan_to_num(ret))]
            for t in idx:
                d = t + 2
                if not np.isfinite(z[t]) or d + h > len(ret):
                    continue
                vol = np.nanstd(ret[t - 251: t + 1], ddof=1) * np.sqrt(252)
                xs.append(float(np.clip(z[t] / 2, -1, 1)))
                ys.append(float((c[d + h] - c[d]) / (vol * np.sqrt(h))))
        a, b = np.array(xs), np.array(ys)
        out[name] = (float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and np.ptp(a) > 0 else np.nan, len(a))
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
    ap.add_argument("--rates", action="store_true", help="the rates strategies (RATES_03, RATES_BR_03, RATES_04, "
                    "RATES_BR_02) and RATES_BR_03's legs instead of the FX ones")
    a = ap.parse_args()
    for kv in a.set:
        k, v = kv.split("=")
        setattr(demo_model, k, float(v))
    demo_model.simulate.cache_clear()
    names = (RATES + ["SLOPE_5Y", "SLOPE_2Y"] if a.rates
             else ["FX_BR_01", "FX_02", "FX_05", "MOM63", "CARRY_Z", "BEER", "C2R"])
    print("seed      " + " ".join(f"{n[:11]:>11}" for n in names))
    res = []
    for seed in a.seeds:
        r = rates_proxy(seed, a.every) if a.rates else proxy(seed, a.every)
        res.append([r.get(n, (np.nan, 0))[0] for n in names])
        print(f"{seed:<9} " + " ".join(f"{v:11.3f}" for v in res[-1]) + (sanity(seed) if a.checks else ""),
              flush=True)
    arr = np.array(res)
    print(f"{'mean':<9} " + " ".join(f"{v:11.3f}" for v in np.nanmean(arr, axis=0)))
    print(f"{'median':<9} " + " ".join(f"{v:11.3f}" for v in np.nanmedian(arr, axis=0)))
    print(f"{'> 0':<9} " + " ".join(f"{int((c > 0).sum()):>8}/{len(c)}" for c in arr.T))


if __name__ == "__main__":
    main()
