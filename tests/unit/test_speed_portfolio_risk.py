"""Issue 16 (eighth round): the faster paths of the portfolio and risk steps give the old code's exact numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from brmacro import covariance as cov_mod
from brmacro.calendar import CALENDAR_END, du, previous_sessions
from brmacro.covariance import CovarianceError
from brmacro.desk import contracts as C
from brmacro.errors import InputMissing
from brmacro.instruments import by_name, di1_maturity, di1_pu, di1_ticker
from brmacro.io import dates_on, dates_on_or_before
from brmacro.params import defaults
from brmacro.portfolio import steps as PS
from brmacro.portfolio.sizing import zn_price
from brmacro.risk import stress as S
from brmacro.risk import var as V
from brmacro.risk._common import RiskInputError


def _old_mc_scenarios(s: np.ndarray, dfs: np.ndarray, scales: np.ndarray, draws: int, rng: np.random.Generator,
                      max_df: float) -> np.ndarray:
    """The scenarios before the eighth round: every column transformed."""
    d = np.sqrt(np.diag(s))
    corr = s / np.outer(d, d)
    chol = np.linalg.cholesky(corr)
    z = rng.standard_normal((int(draws), s.shape[0])) @ chol.T
    x = np.empty_like(z)
    normal = dfs >= max_df
    if normal.any():
        x[:, normal] = z[:, normal] * scales[normal]
    if (~normal).any():
        u = np.clip(stats.norm.cdf(z[:, ~normal]), 1e-12, 1.0 - 1e-12)
        x[:, ~normal] = stats.t.ppf(u, dfs[~normal]) * scales[~normal]
    return x


def _old_seeded(w: np.ndarray, cov: np.ndarray, dfs: np.ndarray, scales: np.ndarray, confs: Sequence[float],
                draws: int, seed: Sequence[int], max_df: float = 1_000.0) -> dict[float, tuple[float, float]]:
    pnl = _old_mc_scenarios(cov, dfs, scales, draws, np.random.default_rng(list(seed)), max_df) @ w
    return {c: V.empirical_var_cvar(pnl, c) for c in confs}


def _same(a: dict[float, tuple[float, float]], b: dict[float, tuple[float, float]]) -> bool:
    """The same confidences and the same floats, bit for bit (a signed zero included)."""
    return list(a) == list(b) and all(np.array(a[c]).tobytes() == np.array(b[c]).tobytes() for c in a)


def _cov(p: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(3 * p, p)) * 0.01
    out: np.ndarray = a.T @ a / (3 * p) + np.eye(p) * 1e-5
    return out


@pytest.mark.parametrize("seed", range(6))
def test_seeded_monte_carlo_skipping_zero_weight_columns_gives_the_old_floats(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    p = 8
    cov = _cov(p, seed)
    dfs = rng.uniform(2.5, 30.0, p)
    dfs[rng.integers(p)] = 1_000.0  # a normal column
    scales = np.sqrt(np.diag(cov)) * 0.9
    confs = [0.95, 0.99]
    V._MC_SCENARIOS.clear()
    books = [np.where(rng.random(p) < 0.5, 0.0, rng.normal(size=p)) for _ in range(4)]
    books += [np.zeros(p), np.ones(p), -books[0], books[1] * 0.5, np.where(books[2] != 0, -0.0, 1.0)]
    for w in books:  # narrower and wider sets of held columns on one kept scenario set
        assert _same(V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, 3_000, [7, 739_000 + seed]),
                     _old_seeded(w, cov, dfs, scales, confs, 3_000, [7, 739_000 + seed]))
    assert len(V._MC_SCENARIOS) == 1


def test_seeded_monte_carlo_edge_cases_match_the_old_code() -> None:
    cov = _cov(4, 9)
    scales = np.sqrt(np.diag(cov))
    confs = [0.9, 0.95, 0.99]
    cases = [
        (np.array([1.0, 0.0, 0.0, 0.0]), np.array([5.0, 5.0, 5.0, 5.0]), 2_000),  # one held column
        (np.array([0.0, 0.0, 2.0, -1.0]), np.array([1_000.0, 3.0, 1_000.0, 1.0]), 2_000),  # normal columns, df 1
        (np.array([0.5, 0.0, 0.0, 0.0]), np.array([0.5, 3.0, 4.0, 5.0]), 2_000),  # df < 1: no skipping
        (np.array([0.5, 0.0, 1.0, 0.0]), np.array([3.0, np.inf, 4.0, 5.0]), 2_000),  # inf df: no skipping
        (np.array([0.5, 0.0, 1.0, 0.0]), np.array([3.0, 4.0, 4.0, 5.0]), 1),  # a single draw
    ]
    for w, dfs, draws in cases:
        V._MC_SCENARIOS.clear()
        assert _same(V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, draws, [3, 5]),
                     _old_seeded(w, cov, dfs, scales, confs, draws, [3, 5]))
    # a NaN df in a zero-weight column: the old code's NaN P&L raises, so does the new one
    V._MC_SCENARIOS.clear()
    with pytest.raises(V.RiskInputError):
        V.monte_carlo_var_seeded(np.array([1.0, 0.0, 0.0, 0.0]), cov, np.array([3.0, np.nan, 4.0, 5.0]), scales,
                                 confs, 500, [3, 5])
    with pytest.raises(V.RiskInputError):
        _old_seeded(np.array([1.0, 0.0, 0.0, 0.0]), cov, np.array([3.0, np.nan, 4.0, 5.0]), scales, confs, 500, [3, 5])


def test_a_zero_portfolio_return_takes_every_column() -> None:
    """Rows whose P&L is exactly zero (a held column of zero scale) fall back to the whole scenario set, so the sign
    of each zero is the old one."""
    cov = _cov(3, 4)
    dfs = np.array([4.0, 6.0, 1_000.0])
    scales = np.array([0.0, 0.01, 0.02])  # the held column's scenarios are all +-0
    w = np.array([1.0, 0.0, 0.0])
    confs = [0.95, 0.99]
    V._MC_SCENARIOS.clear()
    got = V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, 1_000, [1, 2])
    assert _same(got, _old_seeded(w, cov, dfs, scales, confs, 1_000, [1, 2]))


def test_partial_scenarios_are_the_full_ones_column_by_column() -> None:
    cov = _cov(5, 2)
    dfs = np.array([3.0, 1_000.0, 7.0, 12.0, 1_000.0])
    scales = np.sqrt(np.diag(cov))
    full = V._mc_scenarios(cov, dfs, scales, 2_000, np.random.default_rng([1, 2]), 1_000.0)
    assert full.tobytes() == _old_mc_scenarios(cov, dfs, scales, 2_000, np.random.default_rng([1, 2]),
                                               1_000.0).tobytes()
    cols = np.array([True, False, True, False, True])
    part = V._mc_scenarios(cov, dfs, scales, 2_000, np.random.default_rng([1, 2]), 1_000.0, cols)
    assert part[:, cols].tobytes() == full[:, cols].tobytes()
    assert np.isnan(part[:, ~cols]).all()


# ----------------------------------------------------------------------------------------------- select_window

def _old_select_window(mat: pd.DataFrame, weights: pd.Series, asof: dt.date, window: int) -> V.WindowData:
    """select_window before the eighth round (pandas labels throughout)."""
    held = [str(i) for i in weights.index[weights.to_numpy() != 0]]
    absent = [i for i in held if i not in mat.columns]
    if absent:
        raise V.RiskInputError(f"held instruments {absent} have no returns in silver_returns")
    sessions = [*previous_sessions(asof, window - 1), asof]
    first = sessions[0]
    sub = mat.loc[(mat.index >= first) & (mat.index <= asof)]
    cols = [str(i) for i in weights.index if i in mat.columns]
    sub = sub.loc[:, cols].dropna(subset=held) if held else sub.loc[:, cols]
    if not held:
        sub = sub.dropna(how="all")
    excluded = [c for c in cols if c not in held and sub[c].isna().any()]
    excluded += [str(i) for i in weights.index if i not in mat.columns]
    keep = [c for c in cols if c not in excluded]
    sub = sub.loc[:, keep]
    return V.WindowData(returns=sub, weights=weights.loc[keep].astype(float), excluded=sorted(excluded),
                        first=sub.index[0] if len(sub) else None, last=sub.index[-1] if len(sub) else None,
                        n_sessions_window=len(sessions))


def _same_window(a: V.WindowData, b: V.WindowData) -> None:
    pd.testing.assert_frame_equal(a.returns, b.returns, check_exact=True)
    assert list(a.returns.columns) == list(b.returns.columns) and a.returns.columns.dtype == b.returns.columns.dtype
    assert a.returns.index.dtype == b.returns.index.dtype and a.returns.index.name == b.returns.index.name
    x, y = a.returns.to_numpy(dtype=float), b.returns.to_numpy(dtype=float)
    assert x.tobytes() == y.tobytes() and x.strides == y.strides and x.flags.f_contiguous == y.flags.f_contiguous
    pd.testing.assert_series_equal(a.weights, b.weights, check_exact=True)
    assert (a.excluded, a.first, a.last, a.n_sessions_window) == (b.excluded, b.first, b.last, b.n_sessions_window)


ASOF = dt.date(2025, 3, 14)


def _matrix(seed: int, n: int = 60, nan_rate: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = [*previous_sessions(ASOF, n - 1), ASOF, dt.date(2025, 3, 17)]  # one session after asof
    names = ["DI1_1Y", "DI1_2Y", "USDBRL", "IBOV", "SPX"]
    vals = rng.normal(0, 0.01, (len(days), len(names)))
    vals[rng.random(vals.shape) < nan_rate] = np.nan
    mat = pd.DataFrame(vals, index=pd.Index(days, dtype=object, name="date"), columns=pd.Index(names, dtype=object))
    return mat


@pytest.mark.parametrize("seed", range(5))
def test_select_window_on_arrays_is_the_pandas_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mat = _matrix(seed, nan_rate=[0.0, 0.05, 0.2, 0.5, 0.9][seed])
    full = _matrix(seed, nan_rate=0.0)
    books = [
        pd.Series(1.0, index=list(mat.columns)),
        pd.Series({"USDBRL": 0.5, "DI1_1Y": 0.0, "IBOV": -0.3, "SPX": 0.0, "DI1_2Y": 0.0}),  # unsorted
        pd.Series({"USDBRL": 0.0, "IBOV": 0.0}),  # flat: the all-missing rows only
        pd.Series({"IBOV": 1.0, "NOT_IN_MATRIX": 0.0, "SPX": 0.0}),  # a zero weight without returns
        pd.Series(dtype=float),  # no instrument
        pd.Series({"NOT_IN_MATRIX": 0.0}),
        pd.Series(rng.normal(size=5), index=list(mat.columns)[::-1]),
    ]
    for w in [*books, pd.Series(1.0, index=list(full.columns)), pd.Series({"SPX": 0.0, "USDBRL": 2.0})]:
        for window in (1, 5, 40, 400):
            _same_window(V.select_window(full, w, ASOF, window), _old_select_window(full, w, ASOF, window))
            _same_window(V.select_window(mat, w, ASOF, window), _old_select_window(mat, w, ASOF, window))
    with pytest.raises(V.RiskInputError):
        V.select_window(mat, pd.Series({"NOT_IN_MATRIX": 1.0}), ASOF, 10)


def test_select_window_falls_back_for_other_inputs() -> None:
    mat = _matrix(7)
    w = pd.Series({"USDBRL": 0.5, "IBOV": -0.3, "SPX": 0.0})
    ints = mat.copy()
    ints["SPX"] = 1  # an int column: the pandas path
    dup = pd.concat([mat, mat[["SPX"]]], axis=1)  # a repeated instrument column: the pandas path (and its error)
    full = _matrix(8, nan_rate=0.0).iloc[:-1]  # every row in the window
    f_order = pd.DataFrame(np.asfortranarray(full.to_numpy()), index=full.index, columns=full.columns)
    blocks = full[["DI1_1Y", "DI1_2Y"]].copy()
    for c in ("USDBRL", "IBOV", "SPX"):  # one block per inserted column
        blocks[c] = full[c].to_numpy()
    for m in (ints, mat.iloc[:0], mat.iloc[::-1], full, f_order, full.iloc[:, ::-1], blocks):
        _same_window(V.select_window(m, w, ASOF, 40), _old_select_window(m, w, ASOF, 40))
    with pytest.raises(Exception) as new:
        V.select_window(dup, w, ASOF, 40)
    with pytest.raises(Exception) as old:
        _old_select_window(dup, w, ASOF, 40)
    assert type(new.value) is type(old.value)
    assert V._window_of_arrays(ints, w, ["USDBRL", "IBOV"], np.ones(len(ints), bool)) is None
    assert V._window_of_arrays(mat, pd.Series({1: 0.5}), [], np.ones(len(mat), bool)) is None
    full = _matrix(8, nan_rate=0.0)
    rows = np.ones(len(full), bool)
    assert V._window_of_arrays(full, w, ["USDBRL", "IBOV"], rows) is not None  # a complete window: the array path
    holed = full.copy()
    holed.iloc[3, 4] = np.nan  # SPX, not held: a column to leave out, so the pandas path
    assert V._window_of_arrays(holed, w, ["USDBRL", "IBOV"], rows) is None


# ----------------------------------------------------------------------------------------------- choose_di1

def _old_choose_di1(b3: pd.DataFrame, asof: dt.date, tenor_du: int, cfg: dict[str, Any]) -> C.Contract:
    """choose_di1 before the eighth round (a sessions_left per row, the pandas sort)."""
    t = C.di1_candidates(b3, asof)
    min_oi = float(cfg.get("min_open_interest", defaults("desk.min_open_interest")))
    roll = C._roll("DI1", cfg)
    left = np.array([C.sessions_left(asof, s) for s in t["last_session"]])
    oi = t["open_interest"].astype(float).fillna(-1.0).to_numpy()
    ok = (left > roll) & (oi >= min_oi)
    if not ok.any():
        raise C.ContractError("none")
    jan_beyond = int(cfg.get("di1_january_beyond_du", defaults("desk.di1_january_beyond_du")))
    if tenor_du >= jan_beyond:
        jan = ok & (t["month"].to_numpy() == 1)
        if jan.any():
            ok = jan
    cand = t.loc[ok].copy()
    cand["_dist"] = (cand["du"].astype(int) - int(tenor_du)).abs()
    cand["_oi"] = -cand["open_interest"].astype(float)
    best = cand.sort_values(["_dist", "_oi", "maturity"], kind="mergesort").iloc[0]
    return C._di1_contract(best, asof)


def _b3(asof: dt.date, seed: int, oi_ties: bool = False, nan_oi: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mats = [di1_maturity(y, m) for y in range(asof.year, asof.year + 16) for m in range(1, 13)]
    mats = [m for m in mats if m > asof]
    mats += [di1_maturity(asof.year + 40, 1)]  # beyond the stored calendar
    rows = [{"trade_date": asof, "commodity": "DI1", "ticker": di1_ticker(m), "maturity": m,
             "du": int(du(asof, m)), "settlement_rate": 0.12, "settlement_price": 90_000.0,
             "open_interest": float(rng.choice([0.0, 5e3, 5e4, 5e5]) if oi_ties else rng.uniform(0, 1e6))}
            for m in mats]
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)  # unsorted
    if nan_oi:
        df.loc[df.index[::5], "open_interest"] = np.nan
    other = df.head(3).assign(commodity="DOL")  # another product's rows
    return pd.concat([df, other], ignore_index=True)


@pytest.mark.parametrize("seed", range(4))
def test_choose_di1_on_arrays_is_the_pandas_sort(seed: int) -> None:
    asof = dt.date(2025, 3, 14) if seed % 2 == 0 else dt.date(2024, 12, 30)
    cfgs: list[dict[str, Any]] = [{}, {"min_open_interest": 0.0}, {"min_open_interest": -5.0},
                                  {"min_open_interest": 4e5, "di1_january_beyond_du": 100}]
    for table in (_b3(asof, seed), _b3(asof, seed, oi_ties=True), _b3(asof, seed, nan_oi=True)):
        for cfg in cfgs:
            for tenor in (0, 1, 21, 63, 126, 200, 252, 378, 504, 756, 1260, 2520, 3000, 10_000):
                try:
                    want = _old_choose_di1(table, asof, tenor, cfg)
                except C.ContractError:
                    with pytest.raises(C.ContractError):
                        C.choose_di1(table, asof, tenor, cfg)
                    continue
                assert C.choose_di1(table, asof, tenor, cfg) == want


def test_sessions_left_of_many_is_one_by_one() -> None:
    asof = dt.date(2025, 3, 14)
    days = [asof - dt.timedelta(days=3), asof, asof + dt.timedelta(days=1), dt.date(2025, 12, 30), CALENDAR_END,
            CALENDAR_END + dt.timedelta(days=40), dt.date(2066, 1, 4)]
    assert C._sessions_left_pairs([asof] * len(days), days) == [C.sessions_left(asof, d) for d in days]
    assert C._sessions_left_pairs([], []) == []


def test_choose_di1_takes_the_array_path_on_a_plain_file_and_not_on_ties_at_zero() -> None:
    asof = dt.date(2025, 3, 14)
    t = C.di1_candidates(_b3(asof, 1), asof)
    oi = t["open_interest"].to_numpy(float)
    assert C._nearest_position(t, oi > 0, oi, 504) is not None
    assert C._nearest_position(t, oi >= 0, np.where(oi > 5e5, 0.0, oi), 504) is None


def _old_di1_listed(b3: pd.DataFrame, asof: dt.date, code: str) -> C.Contract | None:
    t = C.di1_candidates(b3, asof)
    hit = t.loc[t["ticker"] == code]
    if hit.empty:
        return None
    return C._di1_contract(next(hit.itertuples()), asof)


def test_di1_listed_by_position_is_the_itertuples_row() -> None:
    asof = dt.date(2025, 3, 14)
    for table in (_b3(asof, 0), _b3(asof, 1, nan_oi=True)):
        table = table.copy()
        table.loc[table.index[1], "settlement_price"] = np.nan
        codes = [*table["ticker"].unique(), "DI1X99", ""]
        for code in codes:
            new, old = C.di1_listed(table, asof, code), _old_di1_listed(table, asof, code)
            assert repr(new) == repr(old)
            if old is not None:
                assert new is not None
                assert [type(v) for v in vars(new).values()] == [type(v) for v in vars(old).values()]


# ----------------------------------------------------------------------------------------------- stress repricer

def _old_repricer(name: str, rate: float) -> Callable[[float], float]:
    ins = by_name(name)
    ok = bool(np.isfinite(rate)) and rate > -1.0
    base: Any = None
    if ok and ins.kind == "di1":
        base = di1_pu(rate, ins.tenor_du)
    elif ok and ins.kind == "ust":
        base = zn_price(float(rate))

    def at(dy: float) -> float:
        shocked = float(rate) + float(dy)
        if not np.isfinite(shocked) or shocked <= -1.0 or not ok:
            raise RiskInputError(f"stress: {name} at {rate:.4%} shocked by {dy * 1e4:+.0f} bp has no price")
        if ins.kind == "di1":
            return float(di1_pu(shocked, ins.tenor_du) / base) - 1.0
        if ins.kind == "ust":
            return float(zn_price(shocked) / base - 1.0)
        raise RiskInputError(f"stress: yield shock on {name}, which is not a rates instrument")

    return at


def test_repricer_gives_the_old_floats_and_errors() -> None:
    rng = np.random.default_rng(5)
    dys: list[Any] = [0.0, -0.0, 1e-4, -1e-4, 0, 1, -2, 0.5, -0.9999, -1.5, float("nan"), float("inf"),
                      np.float64(0.01), *rng.normal(0, 0.03, 200).tolist()]
    for name in ("DI1_1Y", "DI1_2Y", "DI1_5Y", "DI1_10Y", "UST_10Y", "IBOV", "USDBRL"):
        for rate in (0.1412, np.float64(0.1125), 0.0, -0.5, -1.0, float("nan"), 0.043, 3.0):
            new, old = S.repricer(name, rate), _old_repricer(name, rate)
            for dy in dys:
                try:
                    want = old(dy)
                except RiskInputError as exc:
                    with pytest.raises(RiskInputError) as got:
                        new(dy)
                    assert str(got.value) == str(exc)
                    continue
                got_v = new(dy)
                assert type(got_v) is type(want) and np.array(got_v).tobytes() == np.array(want).tobytes()


# ----------------------------------------------------------------------------------------------- shrunk_covariance

def _old_shrunk_covariance(returns: np.ndarray, names: Sequence[str] = (), vol_halflife: float | None = None
                           ) -> tuple[np.ndarray, float]:
    from sklearn.covariance import LedoitWolf

    x = np.asarray(returns, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise CovarianceError(f"covariance: need at least 2 return sessions, got {x.shape[0] if x.ndim else 0}")
    if not np.isfinite(x).all():
        raise CovarianceError("covariance: returns contain NaN or inf")
    sd = x.std(axis=0, ddof=1)
    flat = sd**2 <= cov_mod.EPS_VAR
    if flat.any():
        bad = [names[i] if i < len(names) else f"column {i}" for i in np.flatnonzero(flat).tolist()]
        raise CovarianceError(f"singular covariance: zero variance over the window for {bad}")
    lw = LedoitWolf(assume_centered=False).fit((x - x.mean(axis=0)) / sd)
    c = lw.covariance_
    d = np.sqrt(np.diag(c))
    corr = c / np.outer(d, d)
    corr = 0.5 * (corr + corr.T)
    np.fill_diagonal(corr, 1.0)
    vol = sd if vol_halflife is None else np.sqrt(cov_mod.ewma_variances(x, vol_halflife))
    return np.asarray(corr * np.outer(vol, vol), dtype=float), float(lw.shrinkage_)


def test_kept_shrunk_covariance_is_the_computed_one() -> None:
    rng = np.random.default_rng(11)
    base = rng.normal(0, 0.01, (300, 6))
    inputs = [base, np.asfortranarray(base), base[:, :3], base[::2], base[:50], base * 1e-3, base.T.copy().T,
              base[:2], np.zeros((40, 0))]
    cov_mod._KEPT.clear()
    for _round in range(2):  # the second round from the kept values
        for x in inputs:
            for hl in (None, 63.0, 10):
                try:
                    want = _old_shrunk_covariance(x, vol_halflife=hl)
                except (CovarianceError, ValueError) as exc:
                    with pytest.raises(type(exc)):
                        cov_mod.shrunk_covariance(x, vol_halflife=hl)
                    continue
                got = cov_mod.shrunk_covariance(x, vol_halflife=hl)
                assert got[0].tobytes() == want[0].tobytes() and got[0].flags.c_contiguous
                assert got[1] == want[1] and type(got[1]) is float
                got[0][:] = np.nan  # a caller's edit does not reach the kept value
    assert 0 < len(cov_mod._KEPT) <= 4


def test_shrunk_covariance_errors_are_the_old_ones() -> None:
    x = np.random.default_rng(2).normal(0, 0.01, (30, 3))
    bad = [x[:1], x[:, 0], np.where(np.arange(3) == 1, np.nan, x), np.column_stack([x[:, :2], np.ones(30)])]
    for b in bad:
        for _ in range(2):
            with pytest.raises(CovarianceError) as new:
                cov_mod.shrunk_covariance(b, ["a", "b", "c"])
            with pytest.raises(CovarianceError) as old:
                _old_shrunk_covariance(b, ["a", "b", "c"])
            assert str(new.value) == str(old.value)


def test_compute_var_on_the_callers_matrix_is_compute_var() -> None:
    rng = np.random.default_rng(4)
    days = [*previous_sessions(ASOF, 99), ASOF]
    names = ["DI1_1Y", "DI1_2Y", "USDBRL", "IBOV"]
    rows = [{"date": d, "instrument": n, "ret": float(rng.normal(0, 0.01))} for d in days for n in names]
    returns = pd.DataFrame(rows)
    mat = cov_mod.returns_matrix(returns, ASOF)
    before = mat.copy()
    for w in (pd.Series({"DI1_1Y": 1.0, "IBOV": -0.5, "USDBRL": 0.0, "DI1_2Y": 0.0}), pd.Series(0.3, index=names)):
        V._MC_SCENARIOS.clear()
        want_e, want_c = V.compute_var(returns, w, ASOF, {"window": 60, "mc_draws": 500})
        got_e, got_c = V.compute_var(returns, w, ASOF, {"window": 60, "mc_draws": 500}, matrix=mat)
        assert got_e == want_e
        pd.testing.assert_frame_equal(got_c, want_c, check_exact=True)
    pd.testing.assert_frame_equal(mat, before, check_exact=True)  # only read


# ----------------------------------------------------------------------------------------------- portfolio _level

class _Ctx:
    asset = "portfolio_sizing"

    def __init__(self, table: pd.DataFrame, date: dt.date) -> None:
        self._t, self.date = table, date

    def table(self, asset: str, name: str = "part") -> pd.DataFrame:
        return self._t.copy()


def _old_level(ctx: Any, name: str, cache: dict[str, Any]) -> float:
    if "levels" not in cache:
        r = ctx.table("silver_returns")
        r = r.loc[dates_on_or_before(r["date"], ctx.date)]
        cache["levels"] = (r, dict(iter(r.groupby("instrument", sort=False))))
    table, split = cache["levels"]
    r = split.get(name, table.iloc[:0])
    if r.empty:
        raise InputMissing(f"{ctx.asset} {ctx.date}: silver_returns has no level for {name}")
    return float(r.sort_values("date")["level"].iloc[-1])


def test_level_on_arrays_is_the_split_and_sort() -> None:
    rng = np.random.default_rng(8)
    days = [*previous_sessions(ASOF, 29), ASOF, dt.date(2025, 3, 17)]
    names = ["USDBRL", "IBOV", "SPX", "UST_10Y"]
    rows = [{"date": d, "instrument": n, "level": float(rng.normal(100, 5))} for d in days for n in names]
    base = pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)  # unsorted
    dup = pd.concat([base, base[(base["instrument"] == "IBOV") & (base["date"] == ASOF)].assign(level=1.0)],
                    ignore_index=True)  # IBOV's latest date twice: the pandas sort decides
    nan_last = base.copy()
    nan_last.loc[(nan_last["instrument"] == "SPX") & (nan_last["date"] == ASOF), "level"] = np.nan
    stamps = base.assign(date=pd.to_datetime(base["date"]))  # not datetime.date: the pandas path
    early = base[base["instrument"] != "UST_10Y"]
    for table in (base, dup, nan_last, stamps, early, base.iloc[:0]):
        for asof in (ASOF, days[0], dt.date(2020, 1, 2)):
            new_cache: dict[str, Any] = {}
            old_cache: dict[str, Any] = {}
            for name in [*names, "DI1_1Y", *names[::-1]]:
                try:
                    want = _old_level(_Ctx(table, asof), name, old_cache)
                except InputMissing as exc:
                    with pytest.raises(InputMissing) as got:
                        PS._level(_Ctx(table, asof), name, new_cache)  # type: ignore[arg-type]
                    assert str(got.value) == str(exc)
                    continue
                got_v = PS._level(_Ctx(table, asof), name, new_cache)  # type: ignore[arg-type]
                assert np.array(got_v).tobytes() == np.array(want).tobytes()


def test_sessions_left_from_many_starts_is_one_by_one() -> None:
    starts = [*previous_sessions(ASOF, 5), ASOF, dt.date(2025, 3, 15), dt.date(2025, 12, 30), dt.date(2026, 1, 5)]
    for last in (dt.date(2025, 3, 10), ASOF, dt.date(2025, 3, 16), dt.date(2025, 12, 30), CALENDAR_END,
                 CALENDAR_END + dt.timedelta(days=30)):
        assert C._sessions_left_pairs(starts, [last] * len(starts)) == [C.sessions_left(s, last) for s in starts]
    assert C._sessions_left_pairs([], []) == []


def _old_roll_calendar(asof: dt.date, codes: Any, cfg: dict[str, Any], b3: pd.DataFrame | None = None
                       ) -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as mp:  # the old per-session loop
        mp.setattr(C, "_sessions_left_pairs",
                   lambda asofs, lasts: [C.sessions_left(a, s) for a, s in zip(asofs, lasts, strict=True)])
        return C.roll_calendar(asof, codes, cfg, b3)


def test_roll_calendar_is_the_one_by_one_count() -> None:
    for asof in (dt.date(2025, 3, 14), dt.date(2024, 12, 30), dt.date(2025, 12, 22)):
        table = _b3(asof, 2)
        codes = [*C.di1_candidates(table, asof)["ticker"].tolist()[:6], "DOLJ25", "INDJ25", "ESM25", "ZNM25", "DOLK25"]
        for cfg in ({}, {"roll_calendar_sessions": 40}, {"roll_sessions": {"DI1": 30, "DOL": 3}}):
            pd.testing.assert_frame_equal(C.roll_calendar(asof, codes, cfg, table),
                                          _old_roll_calendar(asof, codes, cfg, table))


def _old_ptax(ctx: Any) -> float:
    px = ctx.table("silver_returns", "prices")
    px = px[(px["series"] == "ptax:USDBRL") & dates_on_or_before(px["date"], ctx.date)]
    if px.empty:
        raise InputMissing(f"{ctx.asset} {ctx.date}: silver_returns.prices has no ptax:USDBRL")
    return float(px.sort_values("date")["value"].iloc[-1])


def test_ptax_of_the_series_rows_first_is_the_whole_filter() -> None:
    rng = np.random.default_rng(6)
    days = [*previous_sessions(ASOF, 19), ASOF, dt.date(2025, 3, 17)]
    rows = [{"date": d, "series": s, "value": float(rng.normal(5, 0.1))}
            for d in days for s in ("cdi:daily", "ptax:USDBRL", "sofr")]
    base = pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)
    dup = pd.concat([base, base[base["series"] == "ptax:USDBRL"].head(3).assign(value=1.0)], ignore_index=True)
    strings = base.assign(date=base["date"].map(lambda d: d.isoformat()))  # not date objects: the whole filter
    mixed = base.copy()
    mixed.loc[mixed["series"] == "sofr", "date"] = "2025-03-03"  # another series' rows are not dates
    for table in (base, dup, strings, mixed, base[base["series"] != "ptax:USDBRL"]):
        for asof in (ASOF, days[0], dt.date(2020, 1, 2)):
            ctx = _Ctx(table, asof)
            try:
                want = _old_ptax(ctx)
            except InputMissing as exc:
                with pytest.raises(InputMissing) as got:
                    PS._ptax(ctx)  # type: ignore[arg-type]
                assert str(got.value) == str(exc)
                continue
            assert np.array(PS._ptax(ctx)).tobytes() == np.array(want).tobytes()  # type: ignore[arg-type]


def _old_di_curve(ctx: Any) -> tuple[np.ndarray, np.ndarray]:
    c = ctx.table("silver_curves")
    c = c[(c["curve"] == "DI_PRE") & dates_on(c["date"], ctx.date)]
    if c.empty:
        raise InputMissing(f"portfolio_sizing {ctx.date}: silver_curves has no DI_PRE curve on the session")
    return c["tenor_du"].to_numpy(float), c["rate"].to_numpy(float)


def test_di_curve_of_the_curve_rows_first_is_the_whole_filter() -> None:
    rng = np.random.default_rng(9)
    days = [*previous_sessions(ASOF, 4), ASOF, dt.date(2025, 3, 17)]
    rows = [{"date": d, "curve": cv, "tenor_du": t, "rate": float(rng.normal(0.12, 0.01))}
            for d in days for cv in ("DI_PRE", "BR_REAL") for t in (1260, 21, 252)]
    base = pd.DataFrame(rows).sample(frac=1.0, random_state=2).reset_index(drop=True)
    strings = base.assign(date=base["date"].map(lambda d: d.isoformat()))
    for table in (base, strings, base[base["curve"] != "DI_PRE"], base.iloc[:0]):
        for asof in (ASOF, days[0], dt.date(2020, 1, 2)):
            ctx = _Ctx(table, asof)
            try:
                want = _old_di_curve(ctx)
            except InputMissing as exc:
                with pytest.raises(InputMissing) as got:
                    PS._di_curve(ctx)  # type: ignore[arg-type]
                assert str(got.value) == str(exc)
                continue
            got_t, got_r = PS._di_curve(ctx)  # type: ignore[arg-type]
            assert got_t.tobytes() == want[0].tobytes() and got_r.tobytes() == want[1].tobytes()
