"""The strategies of DOMAIN Part B §7 whose inputs silver provides, on one uniform record.

Every strategy is a pure function ``(market, params) -> list[StrategySignal]``. Direction and
``z_score`` are in the price convention of DESIGN §4 (+ supports a long position in the
instrument's price; receiving fixed on DI1 is long). A strategy below its entry threshold emits
a *neutral* record (direction 0, its z kept for audit); one whose inputs are missing raises
:class:`~brmacro.signals.market.StrategyGap`, which :func:`run_strategies` turns into a gap record.
Which strategies were kept and dropped, and why, is in ``docs/strategies.md``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.holding import held_z
from brmacro.params import defaults, resolve
from brmacro.series import known_asof
from brmacro.signals.market import Market, StrategyGap, zscore_last, zscore_path

__all__ = [
    "STRATEGIES",
    "StrategyGap",
    "StrategyRun",
    "StrategySignal",
    "confidence_from_z",
    "drivers_json",
    "inflation_target",
    "run_strategies",
]

DI_BY_DU = {252: "DI1_1Y", 504: "DI1_2Y", 1260: "DI1_5Y", 2520: "DI1_10Y"}





@dataclass(frozen=True)
class StrategySignal:
    """One strategy's view on one instrument (price convention).

    Attributes
    ----------
    strategy_id : str
        Part B §7 id (``RATES_BR_01``); its prefix selects the regime tilt.
    instrument : str
        Instrument table name.
    direction : int
        +1 long, -1 short, 0 neutral (below the entry threshold).
    z_score : float
        Signed score; positive supports a long position.
    confidence : float
        In [0, 1].
    horizon : int
        Holding horizon in B3 sessions.
    signal_date : datetime.date
        Date of the stalest market input used (for the staleness discount).
    entry_level, stop_level, take_profit_level : float or None
        Levels in the instrument's unit where the strategy defines them.
    drivers : dict
        The inputs and intermediate values, for audit.
    """

    strategy_id: str
    instrument: str
    direction: int
    z_score: float
    confidence: float
    horizon: int
    signal_date: dt.date
    entry_level: float | None = None
    stop_level: float | None = None
    take_profit_level: float | None = None
    drivers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StrategyRun:
    """The outcome of one strategy on one session: its signals, or why it could not compute."""

    strategy_id: str
    signals: tuple[StrategySignal, ...]
    gap: str | None = None


def confidence_from_z(z: float) -> float:
    """Confidence of a z-score: ``2/(1+exp(-|z|)) - 1 = tanh(|z|/2)`` (Part B §3.5 size curve)."""
    return float(math.tanh(abs(z) / 2.0))


def inflation_target(year: int, table: Sequence[Mapping[str, Any]] | None = None) -> float:
    """The Brazilian inflation target in force on 1 January of ``year`` (decimal, DOMAIN A7).

    ``table`` is the one target table, ``agents.inflation_target`` (entries ``{from, target}``; the entry with
    the latest ``from`` on or before the date applies), its declared default when None.
    """
    rows = defaults("agents.inflation_target") if table is None else table
    start = dt.date(year, 1, 1)
    known = sorted((dt.date.fromisoformat(str(r["from"])), float(r["target"])) for r in rows)
    known = [x for x in known if x[0] <= start]
    if not known:
        raise StrategyGap(f"no inflation target configured for {year} (agents.inflation_target)")
    return known[-1][1]


def _targets_by_year(dates: Sequence[dt.date], table: Sequence[Mapping[str, Any]] | None) -> list[float]:
    """``[inflation_target(d.year, table) for d in dates]`` with one :func:`inflation_target` per year (a pure
    function of the year and the table), asked in the order the dates first reach each year (the same first
    error)."""
    by_year: dict[int, float] = {}
    out = []
    for d in dates:
        y = d.year
        if y not in by_year:
            by_year[y] = inflation_target(y, table)
        out.append(by_year[y])
    return out


def _dir(z: float, entry: float) -> int:
    return int(np.sign(z)) if abs(z) >= entry else 0


def _last_date(*series: pd.Series) -> dt.date:
    last: dt.date = min(s.index[-1] for s in series)
    return last


def _r(x: float) -> float:
    return float(round(x, 10))


def _sig(sid: str, inst: str, z: float, entry: float, horizon: int, sdate: dt.date, conf: float | None = None,
         **kw: Any) -> StrategySignal:
    d = _dir(z, entry)
    c = confidence_from_z(z) if conf is None else float(np.clip(conf, 0.0, 1.0))
    drivers = {k: (_r(v) if isinstance(v, float) else v) for k, v in kw.pop("drivers", {}).items()}
    return StrategySignal(sid, inst, d, _r(z), _r(c), int(horizon), sdate, drivers=drivers, **kw)


def _held_sig(sid: str, insts: Sequence[tuple[str, int, float]], x: pd.Series, p: Mapping[str, Any],
              sdate: dt.date, conf: Callable[[float], float] | None = None,
              drivers: Mapping[str, Any] | None = None) -> list[StrategySignal]:
    """Signals of a threshold strategy whose score is the z of ``x`` over ``p["window"]``, entries held for
    ``p["horizon"]`` sessions when ``p["hold"]`` (:func:`held_z`). ``insts`` are ``(instrument, sign,
    entry_level)``: each instrument takes ``sign x z``. ``conf`` maps the held z to a confidence."""
    horizon = int(p["horizon"])
    zs = zscore_path(x, int(p["window"]), horizon if p.get("hold", False) else 1)
    z, k = held_z(zs, float(p["entry"]), horizon)
    drv = {**(drivers or {}), "z": z, "z_today": zs[-1], "held_sessions": k}
    return [_sig(sid, inst, sign * z, 0.0 if k else p["entry"], horizon, sdate,
                 conf=None if conf is None else conf(z), entry_level=level, drivers=drv)
            for inst, sign, level in insts]


def _joined(*series: pd.Series) -> pd.DataFrame:
    return pd.concat(list(series), axis=1, join="inner").dropna()


def _yoy(obs: pd.DataFrame, periods: int = 12) -> pd.DataFrame:
    """Year-on-year change of an index series' observations (release date of the later one)."""
    o = obs.sort_values("observation_date").reset_index(drop=True)
    v = o["value"].to_numpy(float)
    if len(v) <= periods:
        raise StrategyGap(f"{len(v)} observations, more than {periods} needed for a year-on-year change")
    out = o.iloc[periods:].copy()
    out["value"] = v[periods:] / v[:-periods] - 1.0
    return out.reset_index(drop=True)


def _asof(obs: pd.DataFrame, dates: Sequence[dt.date]) -> pd.Series:
    """Value known on each date from observation rows (latest observation released by then).

    For observation and release dates all ``datetime.date`` objects (as :meth:`Market.macro_obs` gives them) and
    ``dates`` ascending ``datetime.date`` objects, the frontier and the as-of lookup are done on the dates as
    integers (:func:`_asof_days`), the same rows in the same order as the frames below; anything else takes them.
    """
    days = _asof_days(obs, dates)
    if days is not None:
        return pd.Series(days, index=list(dates))
    known = obs.sort_values(["release_date", "observation_date"]).copy()
    known["latest"] = known["observation_date"].cummax()
    known = known[known["observation_date"] == known["latest"]].drop_duplicates("release_date", keep="last")
    left = pd.DataFrame({"date": pd.to_datetime(pd.Index(list(dates)))})
    right = pd.DataFrame({"date": pd.to_datetime(known["release_date"]), "v": known["value"].to_numpy(float)})
    m = pd.merge_asof(left, right.sort_values("date"), on="date", direction="backward")
    return pd.Series(m["v"].to_numpy(float), index=list(dates))


def _day_numbers(values: Any) -> np.ndarray | None:
    """Ordinals of a sequence of ``datetime.date`` objects (exactly that type: no ``datetime``, no missing value),
    or None."""
    if not all(type(d) is dt.date for d in values):
        return None
    return np.fromiter((d.toordinal() for d in values), dtype=np.int64, count=len(values))


def _asof_days(obs: pd.DataFrame, dates: Sequence[dt.date]) -> np.ndarray | None:
    """:func:`_asof`'s values in numpy (:func:`brmacro.series.known_asof` on day ordinals), or None where its
    preconditions do not hold."""
    if not len(obs) or not len(dates):
        return None
    rel = _day_numbers(obs["release_date"].tolist())
    seen = _day_numbers(obs["observation_date"].tolist())
    at = _day_numbers(list(dates))
    if rel is None or seen is None or at is None or bool((np.diff(at) < 0).any()):
        return None
    return known_asof(seen, rel, obs["value"].to_numpy(float), at)


# --------------------------------------------------------------------------- rates (Brazil)

def rates_br_01(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """DI carry and roll: slope between adjacent tenors over the short tenor's annualised vol."""
    ratios = []
    used = []
    for short, long in p["pairs"]:
        a, b = m.curve_point("DI_PRE", short), m.curve_point("DI_PRE", long)
        used += [a, b]
        j = _joined(a, b)
        chg = j.iloc[:, 0].diff().dropna().to_numpy()[-int(p["vol_window"]):]
        if len(chg) < int(p["vol_window"]) // 2:
            raise StrategyGap(f"DI_PRE {short} du: {len(chg)} daily changes for the carry vol")
        vol = float(np.std(chg) * np.sqrt(252))
        if vol <= 1e-12:
            raise StrategyGap(f"DI_PRE {short} du: zero volatility")
        carry = float(cast(float, j.iloc[-1, 1]) - cast(float, j.iloc[-1, 0]))
        ratios.append((carry / vol, int(long), carry, vol))
    best, worst = max(ratios), min(ratios)
    if best[0] > p["entry"]:
        pick = best
    elif worst[0] < -p["entry"]:
        pick = worst
    else:  # neutral: report the pair with the largest |ratio|
        pick = best if abs(best[0]) >= abs(worst[0]) else worst
    z, long_du, carry, vol = pick
    return [_sig("RATES_BR_01", DI_BY_DU[long_du], z, p["entry"], p["horizon"], _last_date(*used),
                 entry_level=float(m.curve_point("DI_PRE", long_du).iloc[-1]),
                 drivers={"carry": carry, "vol": vol, "ratios": {str(r[1]): _r(r[0]) for r in ratios}})]


def rates_br_02(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Taylor-rule misalignment of the 1-year DI: i* = r* + pi_e + phi_pi (pi_e - pi*) + phi_gap gap."""
    di = m.curve_point("DI_PRE", int(p["tenor_du"]))
    pi_e, _ = m.macro_latest(s["focus_ipca_12m"])
    gap, _ = m.macro_latest(s["output_gap"])
    target = inflation_target(m.asof.year, p.get("inflation_target"))
    i_star = p["r_star"] + pi_e + p["phi_pi"] * (pi_e - target) + p["phi_gap"] * gap
    mis = i_star - float(di.iloc[-1])
    z = -mis / p["z_unit"]  # Taylor above market: rates should rise, DI price falls -> short
    d = int(-np.sign(mis)) if abs(mis) > p["entry_gap"] else 0
    conf = min(1.0, abs(mis) / p["conf_scale"])
    sig = _sig("RATES_BR_02", DI_BY_DU[int(p["tenor_du"])], z, 0.0, p["horizon"], _last_date(di), conf=conf,
               entry_level=float(di.iloc[-1]),
               drivers={"i_star": i_star, "di": float(di.iloc[-1]), "pi_e": pi_e, "gap": gap, "target": target})
    return [StrategySignal(**{**sig.__dict__, "direction": d})]


def rates_br_03(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """DI 2s5s slope z-score: steep -> flattener (receive 5Y, pay 2Y); flat -> steepener."""
    a, b = m.curve_point("DI_PRE", int(p["short_du"])), m.curve_point("DI_PRE", int(p["long_du"]))
    j = _joined(a, b)
    slope = (j.iloc[:, 1] - j.iloc[:, 0]).rename("DI slope")
    legs = [(DI_BY_DU[int(p["long_du"])], 1, float(b.iloc[-1])), (DI_BY_DU[int(p["short_du"])], -1, float(a.iloc[-1]))]
    return _held_sig("RATES_BR_03", legs, slope, p, _last_date(a, b), drivers={"slope": float(slope.iloc[-1])})


def rates_br_04(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """US spillover: after a large weekly UST move, fade an extreme DI-UST spread (wide -> receive DI)."""
    n = int(p["tenor_du"])
    di, ust = m.curve_point("DI_PRE", n), m.curve_point("UST_NOM", n)
    j = _joined(di, ust)
    k = int(p["move_sessions"])
    if len(j) <= k:
        raise StrategyGap(f"DI/UST {n}: {len(j)} common sessions, more than {k} needed")
    move = float(cast(float, j.iloc[-1, 1]) - cast(float, j.iloc[-1 - k, 1]))
    z = zscore_last((j.iloc[:, 0] - j.iloc[:, 1]).rename("DI-UST spread"), int(p["window"]))
    entry = p["entry"] if abs(move) >= p["min_move"] else math.inf
    return [_sig("RATES_BR_04", DI_BY_DU[n], z, entry, p["horizon"], _last_date(di, ust),
                 entry_level=float(di.iloc[-1]), drivers={"ust_move": move, "spread_z": z})]


def inf_br_01(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Breakeven vs Focus IPCA: Focus above the BEI -> long breakeven, expressed as paying nominal DI."""
    n = int(p["tenor_du"])
    bei = m.curve_point("BR_BEI", n)
    focus, _ = m.macro_latest(s["focus_ipca_12m"])
    div = focus - float(bei.iloc[-1])
    z = -div / p["z_unit"]
    d = int(-np.sign(div)) if abs(div) > p["entry_gap"] else 0
    nominal = m.curve_point("DI_PRE", n)
    sig = _sig("INF_BR_01", DI_BY_DU[n], z, 0.0, p["horizon"], _last_date(bei, nominal),
               entry_level=float(nominal.iloc[-1]), drivers={"bei": float(bei.iloc[-1]), "focus": focus})
    return [StrategySignal(**{**sig.__dict__, "direction": d})]


def sov_br_01(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Fiscal risk (gross debt/GDP) with the DI-UST spread as a named proxy for the sovereign premium."""
    debt, _ = m.macro_latest(s["gross_debt_gdp"])
    spread = m.curve_point("DI_UST_SPREAD", int(p["tenor_du"]))
    sz = zscore_last(spread, int(p["window"]))
    score = 0.5 * (debt - p["debt_warning"]) / p["debt_unit"] + 0.5 * sz
    drv = {"debt_gdp": debt, "spread_z": sz, "score": score, "proxy": "DI_UST_SPREAD (no CDS source)"}
    sd = _last_date(spread)
    return [
        _sig("SOV_BR_01", "DI1_10Y", -score, p["entry"], p["horizon"], sd, drivers=drv,
             entry_level=float(m.curve_point("DI_PRE", 2520).iloc[-1])),
        _sig("SOV_BR_01", "USDBRL", score, p["entry"], p["horizon"], sd, drivers=drv,
             entry_level=float(m.instrument("USDBRL").iloc[-1])),
    ]


def rates_03(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """DI-UST spread net of the inflation differential, z over 504 sessions; wide -> receive DI (5Y confirms)."""
    sessions = m.sessions()
    ipca = _asof(m.macro_obs(s["ipca_12m"]), sessions)
    uscpi = _asof(_yoy(m.macro_obs(s["us_cpi_index"])), sessions)
    diff = (ipca - uscpi).rename("infl_diff")

    def adj(n: int) -> tuple[pd.Series, pd.Series, pd.Series]:
        di, ust = m.curve_point("DI_PRE", n), m.curve_point("UST_NOM", n)
        j = _joined(di, ust, diff)
        return (j.iloc[:, 0] - j.iloc[:, 1] - j.iloc[:, 2]).rename(f"adj spread {n}"), di, ust

    spread, di, ust = adj(int(p["tenor_du"]))
    z5 = zscore_last(adj(int(p["confirm_du"]))[0], int(p["window"]))

    def conf(z: float) -> float:  # the 5Y disagreeing halves the confidence
        return confidence_from_z(z) * (1.0 if np.sign(z5) == np.sign(z) else 0.5)

    return _held_sig("RATES_03", [(DI_BY_DU[int(p["tenor_du"])], 1, float(di.iloc[-1]))], spread, p,
                     _last_date(di, ust), conf=conf, drivers={"z_confirm": z5})


def rates_04(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Term premium: DI 2Y minus the Focus Selic path (this and next year), z; high -> receive DI."""
    n = int(p["tenor_du"])
    di = m.curve_point("DI_PRE", n)
    dates = list(di.index)
    paths = [_asof(m.macro_obs(s["focus_selic"]), dates)]
    with contextlib.suppress(StrategyGap):  # next-year Focus Selic is optional
        paths.append(_asof(m.macro_obs(s["focus_selic_next"]), dates))
    path = pd.concat(paths, axis=1).mean(axis=1, skipna=False)
    tp = (di - path).dropna().rename("term premium")
    return _held_sig("RATES_04", [(DI_BY_DU[n], 1, float(di.iloc[-1]))], tp, p, _last_date(di),
                     drivers={"term_premium": float(tp.iloc[-1])})


def inf_03(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """2Y breakeven against the target, IPCA 12m and Focus; rich BEI -> receive nominal DI (proxy)."""
    n = int(p["tenor_du"])
    bei = m.curve_point("BR_BEI", n)
    dates = list(bei.index)
    tgt = pd.Series(_targets_by_year(dates, p.get("inflation_target")), index=dates)
    ipca = _asof(m.macro_obs(s["ipca_12m"]), dates)
    focus = _asof(m.macro_obs(s["focus_ipca_12m"]), dates)
    comp = (((bei - tgt) + (bei - ipca) + (bei - focus)) / 3.0).dropna().rename("BEI richness")
    nominal = m.curve_point("DI_PRE", n)
    return _held_sig("INF_03", [(DI_BY_DU[n], 1, float(nominal.iloc[-1]))], comp, p, _last_date(bei, nominal),
                     drivers={"richness": float(comp.iloc[-1])})


# --------------------------------------------------------------------------- FX

def fx_br_01(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """USDBRL: carry-to-risk and BEER (spot vs its 252-session mean); positive carry or rich spot -> short."""
    spot = m.instrument("USDBRL")
    vol = m.instrument("USDBRL", "vol_63")
    selic, _ = m.macro_latest(s["selic"])
    us, _ = m.macro_latest(s["us_funding"])
    c2r = (selic - us) / float(vol.iloc[-1])
    beer = zscore_last(spot, int(p["window"]))
    z = (p["w_carry"] * -c2r + p["w_beer"] * -beer) / (p["w_carry"] + p["w_beer"])
    return [_sig("FX_BR_01", "USDBRL", z, p["entry"], p["horizon"], _last_date(spot, vol),
                 entry_level=float(spot.iloc[-1]), drivers={"carry_to_risk": c2r, "beer_z": beer})]


def fx_02(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Carry z (Selic - Fed funds) and 63-session momentum z; stop 2.5 sigma sqrt(h), target 1.5 x stop."""
    spot = m.instrument("USDBRL")
    dates = list(spot.index)
    carry = (_asof(m.macro_obs(s["selic"]), dates) - _asof(m.macro_obs(s["us_policy"]), dates)).rename("carry")
    cz = zscore_last(carry, int(p["carry_window"]))
    k = int(p["mom_sessions"])
    mom = cast(pd.Series, np.log(spot / spot.shift(k))).rename("momentum")
    mz = zscore_last(mom, int(p["mom_window"]), min_obs=int(p["mom_window"]) // 4)
    z = 0.5 * -cz + 0.5 * mz
    vol21 = float(m.instrument("USDBRL", "vol_21").iloc[-1])
    conf = confidence_from_z(z) * min(1.0, p["vol_cap"] / vol21) if vol21 > 0 else 0.0
    d = _dir(z, p["entry"])
    lvl = float(spot.iloc[-1])
    dist = p["stop_sigmas"] * vol21 / np.sqrt(252) * np.sqrt(p["horizon"])
    stop = lvl * (1 - d * dist) if d else None
    tp = lvl * (1 + d * p["tp_ratio"] * dist) if d else None
    return [_sig("FX_02", "USDBRL", z, p["entry"], p["horizon"], _last_date(spot), conf=conf, entry_level=lvl,
                 stop_level=stop, take_profit_level=tp, drivers={"carry_z": cz, "momentum_z": mz})]


def fx_04(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Realised-vol surface of USDBRL: 21/63 term structure, 63-session skew and excess kurtosis, z-scored."""
    r = m.instrument("USDBRL", "ret")
    w = int(p["moment_window"])
    v21 = r.rolling(21).std()
    v63 = r.rolling(63).std()
    comps = {
        "term": ((v21 / v63) - 1.0).rename("vol term"),
        "skew": r.rolling(w).skew().rename("skew"),
        "kurt": r.rolling(w).kurt().rename("kurtosis"),
    }
    zs = {k: zscore_last(v, int(p["window"])) for k, v in comps.items()}
    tot = p["w_term"] + p["w_skew"] + p["w_kurt"]
    z = (p["w_term"] * zs["term"] + p["w_skew"] * zs["skew"] + p["w_kurt"] * zs["kurt"]) / tot
    spot = m.instrument("USDBRL")
    d = _dir(z, p["entry"])
    lvl = float(spot.iloc[-1])
    sig_d = float(r.iloc[-21:].std())
    stop = lvl * (1 - d * p["stop_sigmas"] * sig_d * np.sqrt(p["horizon"])) if d else None
    return [_sig("FX_04", "USDBRL", z, p["entry"], p["horizon"], _last_date(r, spot), entry_level=lvl,
                 stop_level=stop, drivers=zs)]


def fx_05(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Terms of trade: commodity basket 63-session return z minus the BRL return z; BRL lagging -> short USDBRL."""
    k = int(p["ret_sessions"])
    parts, used = [], []
    for series, w in sorted(p["basket"].items()):
        try:
            px = m.price(series)
        except StrategyGap:
            continue
        used.append(px)
        parts.append((float(w), cast(pd.Series, np.log(px / px.shift(k))).rename(series)))
    if not parts:
        raise StrategyGap(f"none of the terms-of-trade series {sorted(p['basket'])} is in silver")
    j = _joined(*[x for _, x in parts])
    wsum = sum(w for w, _ in parts)
    tot = cast(pd.Series, sum(w * j[x.name] for w, x in parts) / wsum)
    spot = m.instrument("USDBRL")
    brl = cast(pd.Series, -np.log(spot / spot.shift(k))).rename("BRL return")
    jz = _joined(tot.rename("ToT"), brl)
    mis = zscore_last(jz["ToT"], int(p["window"])) - zscore_last(jz["BRL return"], int(p["window"]))
    z = -mis
    d = _dir(z, p["entry"])
    lvl = float(spot.iloc[-1])
    return [_sig("FX_05", "USDBRL", z, p["entry"], p["horizon"], _last_date(spot, *used), entry_level=lvl,
                 stop_level=lvl * (1 - d * p["stop_pct"]) if d else None,
                 take_profit_level=lvl * (1 + d * p["tp_pct"]) if d else None,
                 drivers={"misalignment": mis, "basket": sorted(x.name for _, x in parts)})]


# --------------------------------------------------------------------------- cross-asset

_CROSS01_TRADES: dict[str, dict[str, int]] = {
    "goldilocks": {"IBOV": 1, "DI": 1, "USDBRL": -1},
    "reflation": {"IBOV": 1, "DI": -1, "USDBRL": 1},
    "stagflation": {"IBOV": -1, "DI": -1, "USDBRL": 1},
    "deflation": {"DI": 1, "USDBRL": -1},
}


def cross_01(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Rule-based regime from activity (IBC-Br y/y) and IPCA 12m z-scores mapped to a trade table."""
    g = _yoy(m.macro_obs(s["activity_index"]))["value"].rename("activity yoy")
    i = m.macro_obs(s["ipca_12m"])["value"].rename("ipca 12m")
    gz = zscore_last(g, int(p["window_obs"]), min_obs=24)
    iz = zscore_last(i, int(p["window_obs"]), min_obs=24)
    regime = ("reflation" if iz > 0 else "goldilocks") if gz > 0 else ("stagflation" if iz > 0 else "deflation")
    mag = 0.5 * (abs(gz) + abs(iz))
    entry = p["entry"] if min(abs(gz), abs(iz)) >= p["entry"] else math.inf
    sd = m.sessions()[-1]
    out = []
    for key, d in sorted(_CROSS01_TRADES[regime].items()):
        inst = p["di_instrument"] if key == "DI" else key
        out.append(_sig("CROSS_01", inst, d * mag, entry, p["horizon"], sd,
                        drivers={"growth_z": gz, "inflation_z": iz, "regime": regime}))
    return out


def cross_02(m: Market, p: Mapping[str, Any], s: Mapping[str, str]) -> list[StrategySignal]:
    """Risk appetite from VIX, USDBRL vol, IBOV-DI correlation, funding and IBOV momentum (no CDS)."""
    w = int(p["window"])
    vix = m.price("yahoo:^VIX")
    fxv = m.instrument("USDBRL", "vol_21")
    ib, di5 = m.instrument("IBOV", "ret"), m.instrument("DI1_5Y", "ret")
    rr = _joined(ib, di5)
    corr = rr.iloc[:, 0].rolling(int(p["corr_sessions"])).corr(rr.iloc[:, 1]).rename("ibov-di corr")
    short = m.curve_point("DI_PRE", int(p["funding_du"]))
    funding = (short - _asof(m.macro_obs(s["selic"]), list(short.index))).rename("funding")
    lvl = m.instrument("IBOV")
    mom = cast(pd.Series, np.log(lvl / lvl.shift(int(p["mom_sessions"])))).rename("ibov momentum")
    z = {
        "vix": zscore_last(vix, w), "fx_vol": zscore_last(fxv, w), "corr": zscore_last(corr, w),
        "funding": zscore_last(funding, w), "momentum": zscore_last(mom, w),
    }
    wts = {"vix": -p["w_vix"], "fx_vol": -p["w_fx_vol"], "corr": -p["w_corr"], "funding": -p["w_funding"],
           "momentum": p["w_momentum"]}
    score = sum(wts[k] * z[k] for k in z) / sum(abs(v) for v in wts.values())
    sd = _last_date(vix, fxv, rr.iloc[:, 0], short, lvl)
    trades = {"IBOV": 1, "USDBRL": -1, p["di_instrument"]: 1}
    return [_sig("CROSS_02", inst, d * score, p["entry"], p["horizon"], sd, drivers={**z, "score": score})
            for inst, d in sorted(trades.items())]


STRATEGIES: dict[str, Callable[[Market, Mapping[str, Any], Mapping[str, str]], list[StrategySignal]]] = {
    "RATES_BR_01": rates_br_01,
    "RATES_BR_02": rates_br_02,
    "RATES_BR_03": rates_br_03,
    "RATES_BR_04": rates_br_04,
    "INF_BR_01": inf_br_01,
    "FX_BR_01": fx_br_01,
    "SOV_BR_01": sov_br_01,
    "FX_02": fx_02,
    "FX_04": fx_04,
    "FX_05": fx_05,
    "RATES_03": rates_03,
    "RATES_04": rates_04,
    "INF_03": inf_03,
    "CROSS_01": cross_01,
    "CROSS_02": cross_02,
}


def run_strategies(
    market: Market,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    series: Mapping[str, str] | None = None,
    enabled: Sequence[str] | None = None,
    inflation_targets: Sequence[Mapping[str, Any]] | None = None,
    hold: bool | None = None,
) -> list[StrategyRun]:
    """Run every enabled strategy on one session's market.

    Parameters
    ----------
    market : Market
        The session's silver inputs.
    params : mapping, optional
        Strategy id -> parameters (declared defaults, :mod:`brmacro.params`, for keys not given).
    series : mapping, optional
        Role -> silver_macro series name (declared defaults for roles not given).
    enabled : sequence of str, optional
        Strategy ids to run (default: all of :data:`STRATEGIES`).
    inflation_targets : mapping, optional
        The inflation-target table ``agents.inflation_target`` (its declared default when None).
    hold : bool, optional
        ``signals.strategies.hold_entries`` (its declared default when None): the threshold strategies on one
        z-score keep an entry for their horizon (:func:`held_z`).

    Returns
    -------
    list of StrategyRun
        In strategy-id order; a strategy whose inputs are missing carries ``gap`` and no signals.
    """
    ser = resolve("signals.strategies.series", series)
    hold = bool(defaults("signals.strategies.hold_entries")) if hold is None else hold
    out = []
    for sid in sorted(enabled if enabled is not None else STRATEGIES):
        if sid not in STRATEGIES:
            raise ValueError(f"signals.strategies: unknown strategy {sid!r}; known: {sorted(STRATEGIES)}")
        p = resolve(f"signals.strategies.params.{sid}", (params or {}).get(sid))
        if inflation_targets is not None:
            p["inflation_target"] = inflation_targets
        p["hold"] = hold
        try:
            sigs = STRATEGIES[sid](market, p, ser)
            for x in sigs:
                if not (math.isfinite(x.z_score) and math.isfinite(x.confidence)):
                    raise StrategyGap(f"non-finite score for {x.instrument}")
            out.append(StrategyRun(sid, tuple(sigs)))
        except StrategyGap as exc:
            out.append(StrategyRun(sid, (), gap=str(exc)))
    return out


def drivers_json(d: Mapping[str, Any]) -> str:
    """Drivers as canonical JSON (sorted keys)."""
    return json.dumps(d, sort_keys=True, default=str)
