"""The agents' only data access: silver tables, filtered to what was public by the session.

Every agent reads silver through :class:`SilverData`, so a series or curve name lives in one
place and a missing one fails with a message naming it and the session. The filter is applied
here, whatever the inputs hold: macro rows released after the session, and curve, return and
price rows dated after it, are dropped (silver should not contain them; if it ever does, the
agents still cannot see them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from brmacro.errors import InputMissing
from brmacro.kept import KeptFrames
from brmacro.series import known_asof

if TYPE_CHECKING:  # pragma: no cover
    from brmacro.pipeline import Context

__all__ = ["SeriesMissing", "SilverData"]


class SeriesMissing(InputMissing):
    """A series, curve point, price or instrument the model needs is absent from silver."""


def _dates(s: pd.Series) -> pd.Series:
    """``pd.to_datetime(s).dt.normalize()``: the conversion itself when every value is already a midnight (dates
    read as ``datetime.date`` objects are), where normalizing would give back the same values."""
    ts: pd.Series = pd.to_datetime(s)
    v = ts.to_numpy()
    if v.dtype.kind == "M" and len(v) and bool((v.astype("datetime64[D]") == v).all()):  # NaT is never equal
        return ts
    out: pd.Series = ts.dt.normalize()
    return out


def _on_or_before(f: pd.DataFrame, col: str, d: pd.Timestamp) -> pd.DataFrame:
    """``f.loc[f[col] <= d].reset_index(drop=True)`` of the frame ``f`` the caller owns (a copy made for it).

    Silver holds nothing after the session, so every row is usually kept: then, when ``f`` already has the index
    ``reset_index`` would give (0..n-1), the filter and the reset would only copy ``f`` (the same rows, values, dtypes
    and index), and ``f`` itself is returned.
    """
    keep = f[col] <= d
    idx = f.index
    if bool(keep.all()) and isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return f
    out: pd.DataFrame = f.loc[keep].reset_index(drop=True)
    return out


#: SilverData's frames: the (asset, table) each is read from.
_TABLES = {
    "macro_df": ("silver_macro", "part"),
    "curves_df": ("silver_curves", "part"),
    "slopes_df": ("silver_curves", "slopes"),
    "returns_df": ("silver_returns", "part"),
    "prices_df": ("silver_returns", "prices"),
}


#: The key columns :meth:`SilverData._rows` splits each frame by.
_SPLITS = {
    "macro_df": ("series",),
    "curves_df": ("curve", "tenor_label"),
    "returns_df": ("instrument",),
    "prices_df": ("series",),
}


@dataclass(frozen=True)
class _View:
    """SilverData's five frames as constructed (filtered, dates converted) and their splits by the key columns
    (:data:`_SPLITS`, those that are factorizations): what :data:`_KEPT_VIEWS` keeps."""

    frames: dict[str, pd.DataFrame]
    splits: dict[str, tuple[tuple[str, ...], _Codes]]

    def copy(self) -> _View:
        """The frames copied; the splits' codes (read-only) shared, their taken groups not."""
        return _View({name: f.copy() for name, f in self.frames.items()},
                     {name: (by, c.fresh()) for name, (by, c) in self.splits.items()})


#: The views of the last sessions built in this process (one session's five agents share one).
_KEPT_VIEWS: KeptFrames[_View] = KeptFrames(2)


def _view_key(ctx: Context) -> tuple[Any, ...] | None:
    """The session and each silver table's path and file identity (size, modification time in ns, inode), taken
    before the tables are read (as :class:`brmacro.pipeline.SharedReads` does: a file rewritten in between is read
    new under its old identity, never old under its new one); None (not kept) when a table is not declared or not
    there, for the read to raise as it does."""
    from brmacro.pipeline import file_identity

    parts: list[Any] = [ctx.date.isoformat()]
    try:
        for asset, table in _TABLES.values():
            parts.append((asset, table, *file_identity(ctx.inputs[asset][table])))
    except (KeyError, OSError):
        return None
    return tuple(parts)


class _Codes:
    """A frame's rows split by one or two object key columns, as ``groupby(by, sort=False)`` splits them: each key
    column factorized (missing keys out, as ``groupby`` drops them), a group's rows taken on demand and held."""

    def __init__(self, codes: np.ndarray, levels: list[dict[Any, int]], sizes: list[int]) -> None:
        codes.setflags(write=False)
        self.codes = codes
        self.levels = levels
        self.sizes = sizes
        self.taken: dict[int, pd.DataFrame | None] = {}

    def fresh(self) -> _Codes:
        """The same split (codes and levels shared, never written) with no group taken yet: for a copy of the
        frame."""
        return _Codes(self.codes, self.levels, self.sizes)

    def rows(self, df: pd.DataFrame, key: Any) -> pd.DataFrame | None:
        """The group ``key`` (a value, or a tuple of two) of ``df``: its rows in table order, or None."""
        hash(key)  # an unhashable key raises TypeError, as the dict of groups did
        parts = key if len(self.levels) > 1 else (key,)
        if len(self.levels) > 1 and (not isinstance(key, tuple) or len(key) != len(self.levels)):
            return None
        code = 0
        for level, size, part in zip(self.levels, self.sizes, parts, strict=True):
            i = level.get(part)
            if i is None:
                return None
            code = code * size + i
        if code not in self.taken:
            pos = np.flatnonzero(self.codes == code)
            self.taken[code] = df.iloc[pos] if len(pos) else None
        return self.taken[code]


def _split_codes(df: pd.DataFrame, by: tuple[str, ...]) -> _Codes | dict[Any, pd.DataFrame]:
    """The split of ``df`` by the columns ``by`` :meth:`SilverData._rows` uses: :class:`_Codes` for one or two
    ``object`` key columns, else the groups of ``groupby`` themselves."""
    if 1 <= len(by) <= 2 and all(df[c].dtype == object for c in by):
        codes = np.zeros(len(df), dtype=np.int64)
        missing = np.zeros(len(df), dtype=bool)
        levels: list[dict[Any, int]] = []
        sizes: list[int] = []
        for c in by:
            cc, uniques = pd.factorize(df[c].to_numpy(), use_na_sentinel=True)
            codes = codes * max(len(uniques), 1) + cc
            missing |= cc < 0
            levels.append({u: i for i, u in enumerate(uniques)})
            sizes.append(max(len(uniques), 1))
        codes[missing] = -1
        return _Codes(codes, levels, sizes)
    col = list(by) if len(by) > 1 else by[0]
    return dict(iter(df.groupby(col, sort=False)))


def _asof_released(rows: pd.DataFrame, at: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """:meth:`SilverData.macro_asof` without a year-on-year change or a monthly lag, in numpy: the dates of ``at``
    sorted and the value of each, or None unless both date columns and ``at`` are naive ``datetime64[ns]`` without
    ``NaT`` and the values float64 (then the frames do it).

    The same steps on the dates as integers (:func:`brmacro.series.known_asof`).
    """
    obs, rel, val = rows["observation_date"], rows["release_date"], rows["value"]
    ns = np.dtype("datetime64[ns]")
    if obs.dtype != ns or rel.dtype != ns or val.dtype != np.float64:
        return None
    t = pd.DatetimeIndex(at)
    if t.dtype != ns or not len(t):
        return None
    seen = obs.to_numpy().view(np.int64)
    released = rel.to_numpy().view(np.int64)
    when = np.sort(t.to_numpy())
    nat = np.iinfo(np.int64).min
    if (seen == nat).any() or (released == nat).any() or (when.view(np.int64) == nat).any():
        return None
    return when, known_asof(seen, released, val.to_numpy(), when.view(np.int64))


def _indexed(rows: pd.DataFrame, index: str, value: str) -> pd.Series:
    """``rows.set_index(index)[value]``: the column ``value`` on the column ``index`` (an index of that name), without
    building the whole re-indexed frame first."""
    return pd.Series(rows[value].to_numpy(), index=pd.Index(rows[index]), name=value)


@dataclass
class SilverData:
    """Point-in-time view of the three silver assets as of one session.

    Parameters
    ----------
    date : datetime.date
        The session D. Nothing released (macro) or dated (markets) after D is visible.
    macro_df : pandas.DataFrame
        ``silver_macro`` part (series, observation_date, value, release_date).
    curves_df : pandas.DataFrame
        ``silver_curves`` part (date, curve, tenor_label, tenor_du, tenor_years, rate).
    slopes_df : pandas.DataFrame
        ``silver_curves`` slopes (date, name, value).
    returns_df : pandas.DataFrame
        ``silver_returns`` part (date, instrument, level, ret, vol_21, vol_63, vol_252, z_252).
    prices_df : pandas.DataFrame
        ``silver_returns`` prices (date, series, value).
    asset : str
        The asset being built (only for error messages).
    """

    date: dt.date
    macro_df: pd.DataFrame
    curves_df: pd.DataFrame
    slopes_df: pd.DataFrame
    returns_df: pd.DataFrame
    prices_df: pd.DataFrame
    asset: str = "agents"
    _cache: dict[tuple[str, str], pd.Series] = field(default_factory=dict, repr=False)
    _split: dict[str, tuple[pd.DataFrame, tuple[str, ...], _Codes | dict[Any, pd.DataFrame]]] = field(
        default_factory=dict, repr=False)
    _ready: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self._ready:  # frames already filtered and converted (from_context's kept view)
            return
        d = pd.Timestamp(self.date)
        m = self.macro_df.copy()
        m["observation_date"] = _dates(m["observation_date"])
        m["release_date"] = _dates(m["release_date"])
        self.macro_df = _on_or_before(m, "release_date", d)
        for name in ("curves_df", "slopes_df", "returns_df", "prices_df"):
            f = getattr(self, name).copy()
            f["date"] = _dates(f["date"])
            setattr(self, name, _on_or_before(f, "date", d))

    @property
    def ts(self) -> pd.Timestamp:
        """The session as a timestamp."""
        return pd.Timestamp(self.date)

    @classmethod
    def from_context(cls, ctx: Context) -> SilverData:
        """Read the silver inputs of a step's context.

        The five agents of a session read the same five silver tables and build the same view of them; the view
        (the frames as :meth:`__post_init__` leaves them) is kept per process (:data:`_KEPT_VIEWS`) under the
        session and each table's file identity -- path, size, modification time and inode, the key under which
        :class:`brmacro.pipeline.SharedReads` hands out one read of the file -- and each agent gets copies.
        """
        key = _view_key(ctx)
        frames = {name: ctx.table(asset, table) for name, (asset, table) in _TABLES.items()}

        def build() -> _View:
            full = cls(ctx.date, frames["macro_df"], frames["curves_df"], frames["slopes_df"], frames["returns_df"],
                       frames["prices_df"], asset=ctx.asset)
            splits = {name: (by, _split_codes(getattr(full, name), by)) for name, by in _SPLITS.items()}
            return _View({name: getattr(full, name) for name in _TABLES},
                         {name: (by, c) for name, (by, c) in splits.items() if isinstance(c, _Codes)})

        view = _KEPT_VIEWS.get(key, build)
        f = view.frames
        out = cls(ctx.date, f["macro_df"], f["curves_df"], f["slopes_df"], f["returns_df"], f["prices_df"],
                  asset=ctx.asset, _ready=True)
        for name, (by, codes) in view.splits.items():
            out._split[name] = (f[name], by, codes)
        return out

    def _rows(self, frame: str, by: tuple[str, ...], key: Any) -> pd.DataFrame:
        """``df.loc[(df[by[0]] == key[0]) & ...]`` of the frame attribute ``frame``, from one split of the frame.

        The frame is split by ``by`` once (rows in table order, index kept), so each question is a lookup
        instead of a comparison over the whole table. A frame replaced since is split again. The split is a
        factorization of the key columns (:func:`_split_codes`); a group's rows are taken when first asked.
        """
        df: pd.DataFrame = getattr(self, frame)
        held = self._split.get(frame)
        if held is None or held[0] is not df or held[1] != by:
            held = (df, by, _split_codes(df, by))
            self._split[frame] = held
        split = held[2]
        rows = split.rows(df, key) if isinstance(split, _Codes) else split.get(key)
        return df.iloc[:0] if rows is None else rows

    def _missing(self, what: str) -> SeriesMissing:
        return SeriesMissing(f"{self.asset} {self.date.isoformat()}: {what} is not in silver (as of the session)")

    # ----------------------------------------------------------------- macro
    def has_macro(self, name: str) -> bool:
        """Whether a macro series has at least one value public by the session."""
        return not self._rows("macro_df", ("series",), name).empty

    def macro(self, name: str) -> pd.Series:
        """A macro series (latest vintage public by D), indexed by observation date, ascending.

        Raises
        ------
        SeriesMissing
            When the series has no row public by the session.
        """
        key = ("macro", name)
        if key not in self._cache:
            rows = self._rows("macro_df", ("series",), name)
            if rows.empty:
                raise self._missing(f"macro series {name!r}")
            s = _indexed(rows, "observation_date", "value").astype(float).sort_index()
            s.name = name
            self._cache[key] = s
        return self._cache[key].copy()

    def macro_last(self, name: str) -> float:
        """The latest observation of a macro series public by D."""
        return float(self.macro(name).iloc[-1])

    def macro_asof(
        self, name: str, at: pd.DatetimeIndex, yoy_periods: int = 0, monthly_lag_days: int | None = None
    ) -> pd.Series:
        """For each date in ``at``: the latest observation of ``name`` available on or before it.

        Available means released (``release_date``), which reconstructs what was known on each past
        session, so a history built from it has no look-ahead. NaN before the first release.

        Parameters
        ----------
        name : str
            Macro series.
        at : DatetimeIndex
            The dates to evaluate.
        yoy_periods : int
            When ``n > 0``, each observation is first replaced by its change over ``n`` observations
            (``x_t / x_{t-n} - 1``, e.g. 12 for a monthly index's year-on-year change).
        monthly_lag_days : int, optional
            For a *derived monthly* series that silver recomputes whole at each release (a filtered
            output gap: every row carries the latest input release), availability is taken as the
            end of the observation month plus this lag instead: the session's vintage, published on
            the usual lag (pseudo real time; the values themselves are the latest vintage).
        """
        held = self._rows("macro_df", ("series",), name)
        if held.empty:
            raise self._missing(f"macro series {name!r}")
        if yoy_periods <= 0 and monthly_lag_days is None:
            fast = _asof_released(held, at)
            if fast is not None:
                return pd.Series(fast[1], index=pd.DatetimeIndex(fast[0], name="t"), name=name)
        rows = held.loc[:, ["observation_date", "release_date", "value"]]
        rows = rows.sort_values("observation_date", kind="mergesort")
        if monthly_lag_days is not None:
            avail = rows["observation_date"] + pd.offsets.MonthEnd(0) + pd.Timedelta(days=monthly_lag_days)
            rows = rows.assign(release_date=avail.where(avail <= rows["release_date"], rows["release_date"]))
        if yoy_periods > 0:
            rows = rows.assign(value=rows["value"] / rows["value"].shift(yoy_periods) - 1.0).dropna(subset=["value"])
        rows = rows.sort_values(["release_date", "observation_date"], kind="mergesort")
        # the frontier: rows that bring a newer observation than any released before them
        frontier = rows.loc[rows["observation_date"] >= rows["observation_date"].cummax()]
        frontier = frontier.drop_duplicates("release_date", keep="last")
        left = pd.DataFrame({"t": pd.DatetimeIndex(at)}).sort_values("t")
        out = pd.merge_asof(left, frontier, left_on="t", right_on="release_date", direction="backward")
        return pd.Series(out["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(out["t"]), name=name)

    # ----------------------------------------------------------------- curves
    def curve(self, curve: str, label: str) -> pd.Series:
        """The history of one curve point (decimal per year), indexed by session."""
        key = ("curve", f"{curve}|{label}")
        if key not in self._cache:
            rows = self._rows("curves_df", ("curve", "tenor_label"), (curve, label))
            if rows.empty:
                raise self._missing(f"curve point {curve} {label}")
            self._cache[key] = _indexed(rows, "date", "rate").astype(float).sort_index().rename(f"{curve}_{label}")
        return self._cache[key].copy()

    def curve_last(self, curve: str, label: str) -> float:
        """The latest value of a curve point on or before D."""
        return float(self.curve(curve, label).iloc[-1])

    def slope(self, name: str) -> pd.Series:
        """A named slope history (DI_1s2s, UST_2s10s, ...), decimal per year."""
        key = ("slope", name)
        if key not in self._cache:
            rows = self.slopes_df.loc[self.slopes_df["name"] == name]
            if rows.empty:
                raise self._missing(f"slope {name!r}")
            self._cache[key] = _indexed(rows, "date", "value").astype(float).sort_index().rename(name)
        return self._cache[key].copy()

    # ----------------------------------------------------------------- markets
    def returns(self, instrument: str) -> pd.DataFrame:
        """The returns-matrix rows of one tradable (level, ret, vol_21, vol_63, vol_252, z_252) by session."""
        rows = self._rows("returns_df", ("instrument",), instrument)
        if rows.empty:
            raise self._missing(f"instrument {instrument!r} in silver_returns")
        return rows.set_index("date").sort_index().drop(columns=["instrument"])

    def price(self, series: str) -> pd.Series:
        """A price series of ``silver_returns.prices`` (``yahoo:^VIX``, ``ptax:USDBRL``...) by session."""
        key = ("price", series)
        if key not in self._cache:
            rows = self._rows("prices_df", ("series",), series)
            if rows.empty:
                raise self._missing(f"price series {series!r}")
            self._cache[key] = _indexed(rows, "date", "value").astype(float).sort_index().rename(series)
        return self._cache[key].copy()

    def usdbrl(self) -> pd.Series:
        """Daily USDBRL: the SGS PTAX mirror in silver_macro when present (longer history), else ``ptax:USDBRL``."""
        if self.has_macro("br_ptax_sell_sgs"):
            return self.macro("br_ptax_sell_sgs")
        return self.price("ptax:USDBRL")

    def sessions(self, lookback: int) -> pd.DatetimeIndex:
        """The last ``lookback`` sessions of the returns matrix up to D (the common market index)."""
        idx = pd.DatetimeIndex(np.unique(self.returns_df["date"].to_numpy()))
        if idx.empty:
            raise self._missing("any session in silver_returns")
        return idx[-lookback:]
