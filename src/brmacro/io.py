"""Artifacts: schemas declared once, checked on write and on read, written atomically.

Every table a step writes is described by a :class:`Schema`. :func:`write_table` checks the
frame against it, converts it to Arrow with exactly the declared types, stamps key-value
metadata (as-of date, brmacro version, source, parameter hash) and writes Parquet (zstd)
to a temporary file in the same folder before renaming it into place, so a killed job
never leaves a readable half-file. :func:`read_table` refuses a file whose schema differs
from the declared one, so a corrupt or foreign artifact is never read as data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from brmacro import __version__
from brmacro._orphan import owner_alive

__all__ = [
    "ArtifactError",
    "Col",
    "Schema",
    "check_complete",
    "date_objects",
    "dates_on",
    "dates_on_or_before",
    "holds_date_objects",
    "params_hash",
    "partition_session",
    "read_table",
    "rebuild_hint",
    "write_table",
]

_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def _day_cut(per_day: int, first: dt.date, last: dt.date) -> tuple[int, int]:
    epoch = dt.date(1970, 1, 1)
    return (first - epoch).days * per_day, (last - epoch).days * per_day


#: ``datetime64`` dtype -> [lo, hi) of its int64 values that :func:`date_objects` cuts to days in numpy: ``.dt.date``
#: floors each to its day, and so does numpy's cast to days, for values that are dates (years 1-9999) and not
#: within a day of the smallest ``datetime64[ns]`` (1677-09-21), where numpy's floor overflows; NaT (the smallest
#: int64) and anything else take pandas' path
_DAY_CUT: dict[str, tuple[int, int]] = {
    "datetime64[s]": _day_cut(86_400, dt.date(1, 1, 2), dt.date(9999, 12, 31)),
    "datetime64[ms]": _day_cut(86_400_000, dt.date(1, 1, 2), dt.date(9999, 12, 31)),
    "datetime64[us]": _day_cut(86_400_000_000, dt.date(1, 1, 2), dt.date(9999, 12, 31)),
    "datetime64[ns]": (_day_cut(86_400_000_000_000, dt.date(1678, 1, 1), dt.date(1970, 1, 1))[0], 2**63 - 1),
}


def holds_date_objects(col: pd.Series) -> bool:
    """Whether ``col`` is a non-empty object column of ``datetime.date`` objects only (not a ``datetime`` either:
    no time of day, no time zone, no missing value): ``pd.to_datetime`` converts such a column element by element."""
    return col.dtype == object and len(col) > 0 and set(map(type, col.to_numpy())) == {dt.date}


def date_objects(col: pd.Series) -> pd.Series:
    """``pd.to_datetime(col).dt.date`` without the round trip when ``col`` holds ``datetime.date`` objects only.

    Tables are read with dates as Python objects (:func:`read_table`), so most "as dates" conversions of a read
    column give back the very values they got. This returns a copy of such a column (same index, name and
    values) and converts anything else (strings, Timestamps, ``datetime64``, missing values) exactly as
    ``pd.to_datetime(col).dt.date`` does.
    """
    if holds_date_objects(col):
        return col.copy()
    bounds = _DAY_CUT.get(str(col.dtype))  # a naive datetime64 column: cut to days in numpy
    if bounds is not None:
        v = col.to_numpy()
        n = v.view("int64")
        if not len(n) or (int(n.min()) >= bounds[0] and int(n.max()) < bounds[1]):  # NaT is the smallest int64
            return pd.Series(v.astype("datetime64[D]").astype(object), index=col.index, name=col.name)
    out: pd.Series = pd.to_datetime(col).dt.date
    return out


def dates_on_or_before(col: pd.Series, day: dt.date) -> pd.Series:
    """``pd.to_datetime(col).dt.date <= day`` compared on ``datetime64`` (no ``datetime.date`` per row).

    A naive timestamp's date is on or before ``day`` exactly when the timestamp is before the next midnight;
    missing values give False, as they do in the object comparison.
    """
    out: pd.Series = pd.to_datetime(col) < pd.Timestamp(day + dt.timedelta(days=1))
    return out


def dates_on(col: pd.Series, day: dt.date) -> pd.Series:
    """``pd.to_datetime(col).dt.date == day`` compared on ``datetime64``: from ``day``'s midnight to the next one."""
    ts = pd.to_datetime(col)
    out: pd.Series = (ts >= pd.Timestamp(day)) & (ts < pd.Timestamp(day + dt.timedelta(days=1)))
    return out


class ArtifactError(ValueError):
    """An artifact (or a frame about to become one) does not match its declared schema."""


@dataclass(frozen=True)
class Col:
    """One column of a schema.

    Parameters
    ----------
    name : str
        Column name.
    kind : str
        One of ``str``, ``float``, ``int``, ``bool``, ``date``, ``timestamp``.
    nullable : bool
        Whether missing values are allowed. A non-nullable float column must also be finite.
    doc : str
        What the column holds, with its unit.
    lo, hi : float, optional
        Inclusive bounds checked on write (numeric columns only).
    """

    name: str
    kind: str
    nullable: bool = False
    doc: str = ""
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class Schema:
    """A table's declared columns, in order, and its natural key (unique, sorted on write)."""

    name: str
    cols: tuple[Col, ...]
    key: tuple[str, ...] = ()
    doc: str = ""
    _arrow: pa.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for c in self.cols:
            if c.kind not in _TYPES:
                raise ValueError(f"schema {self.name}: unknown kind {c.kind!r} for {c.name}")
        missing = set(self.key) - {c.name for c in self.cols}
        if missing:
            raise ValueError(f"schema {self.name}: key columns {sorted(missing)} not declared")
        nullable = [c.name for c in self.cols if c.name in self.key and c.nullable]
        if nullable:  # a key identifies a row: a missing part would be no key (and conform sorts on non-null keys)
            raise ValueError(f"schema {self.name}: key columns {nullable} are nullable")
        arrow = pa.schema([pa.field(c.name, _TYPES[c.kind], nullable=c.nullable) for c in self.cols])
        object.__setattr__(self, "_arrow", arrow)

    @property
    def arrow(self) -> pa.Schema:
        """The Arrow schema, exactly as written to Parquet."""
        return self._arrow

    @property
    def names(self) -> list[str]:
        """Column names in declared order."""
        return [c.name for c in self.cols]

    def empty(self) -> pd.DataFrame:
        """A zero-row frame with the declared columns."""
        out: pd.DataFrame = self.arrow.empty_table().to_pandas()
        return out

    def conform(self, df: pd.DataFrame, context: str = "") -> pa.Table:
        """Check ``df`` against the schema and return it as an Arrow table, sorted by the key.

        Column by column, without copying the frame: each column is checked, converted to its Arrow type
        (``from_pandas`` semantics: NaN, None and NaT are nulls), and the table is sorted by the key with Arrow's
        stable sort (the order of pandas' stable ``sort_values`` on these types: strings by code point, dates,
        numbers) only when it is not sorted already.

        Raises
        ------
        ArtifactError
            Naming the table, the column and the first offending row when a column is missing,
            extra, of the wrong type, null where not allowed, non-finite, out of bounds, or when
            the natural key repeats.
        """
        where = f"{self.name}{' (' + context + ')' if context else ''}"
        have = list(df.columns)
        missing = [n for n in self.names if n not in have]
        extra = [n for n in have if n not in self.names]
        if missing or extra:
            raise ArtifactError(f"{where}: columns differ from schema: missing {missing}, unexpected {extra}")
        arrays: dict[str, Any] = {}  # column name -> the values handed to Arrow
        dates: dict[str, pd.Series] = {}  # date columns given as datetime64, as dates

        def frame() -> pd.DataFrame:  # the frame as checked (dates as dates), for an error message
            shown = df.loc[:, self.names].reset_index(drop=True)
            for n, v in dates.items():
                shown[n] = v.to_numpy()
            return shown

        early: dict[str, pa.Array] = {}  # object columns handed to Arrow as they are, converted while checked
        for c in self.cols:
            s = df[c.name]
            if c.kind == "date" and s.dtype.kind == "M":
                s = dates[c.name] = s.dt.date  # Arrow takes datetime.date objects (and checks them) as they are
            values: Any = s
            null = None
            if s.dtype == object and c.kind not in ("float", "int"):
                # Converted now rather than below: Arrow's null count then proves the column has no missing value
                # without pandas' per-element test (every value pandas counts as missing, Arrow's from_pandas
                # conversion makes null or refuses). A column Arrow refuses is converted again below, where it
                # raises in the column order it always did, after every column's checks.
                try:
                    early[c.name] = pa.array(s, type=_TYPES[c.kind], from_pandas=True)
                except Exception:  # whatever it is, the conversion below meets it again and raises as it always did
                    pass
                else:
                    if early[c.name].null_count == 0:
                        null = np.zeros(len(s), bool)
            if null is None:
                null = _isna(s)
            if not c.nullable and null.any():
                i = int(np.flatnonzero(null)[0])
                raise ArtifactError(f"{where}: column {c.name!r} is missing a value at row {i}: "
                                    f"{_row(frame(), i)}")
            # Arrow would read an int as days since 1970 and a str fails late. Columnar first (every non-null
            # value a date, or none at all); the row-wise test only for a column that fails it, to name the row.
            if c.kind == "date" and len(s) and pd.api.types.infer_dtype(s, skipna=True) not in ("date", "empty"):
                not_date = ~null & ~np.fromiter((isinstance(x, dt.date) for x in s), bool, len(s))
                if not_date.any():
                    i = int(np.flatnonzero(not_date)[0])
                    raise ArtifactError(f"{where}: column {c.name!r} is not a date at row {i}: {_row(frame(), i)}")
            if c.kind in ("float", "int") and len(s):
                numpy_num = isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf"
                num = s if numpy_num else pd.to_numeric(s, errors="coerce")
                v = num.to_numpy(dtype=float)
                bad_num = ~null & np.isnan(v)
                if bad_num.any():
                    i = int(np.flatnonzero(bad_num)[0])
                    raise ArtifactError(f"{where}: column {c.name!r} is not numeric at row {i}: {_row(frame(), i)}")
                if c.kind == "int":  # Arrow would truncate 1.5 held in an object column to 1
                    frac = ~np.isnan(v) & ~np.isinf(v) & (v != np.floor(v))
                    if frac.any():
                        i = int(np.flatnonzero(frac)[0])
                        raise ArtifactError(f"{where}: column {c.name!r} is not a whole number at row {i}: "
                                            f"{_row(frame(), i)}")
                inf = np.isinf(v)
                if inf.any():
                    i = int(np.flatnonzero(inf)[0])
                    raise ArtifactError(f"{where}: column {c.name!r} is infinite at row {i}: {_row(frame(), i)}")
                ok = ~np.isnan(v)
                for bound, op in ((c.lo, np.less), (c.hi, np.greater)):
                    if bound is not None:
                        out = ok & op(v, bound)
                        if out.any():
                            i = int(np.flatnonzero(out)[0])
                            raise ArtifactError(
                                f"{where}: column {c.name!r} = {v[i]!r} outside [{c.lo}, {c.hi}] at row {i}: "
                                f"{_row(frame(), i)}"
                            )
                if c.kind == "float":
                    values = _canonical_float(v)
            arrays[c.name] = values
        converted = []
        for f in self.arrow:
            try:
                converted.append(early[f.name] if f.name in early else
                                 pa.array(arrays[f.name], type=f.type, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
                raise ArtifactError(f"{where}: column {f.name!r} cannot be converted to {f.type}: {exc}") from exc
        table = pa.Table.from_arrays(converted, schema=self.arrow)
        if self.key and table.num_rows:
            order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in self.key]).to_numpy()
            ranked = table.select(list(self.key)).take(order)
            same = np.ones(table.num_rows - 1, bool)
            for k in self.key:
                col = ranked.column(k)
                same &= pc.equal(col.slice(1), col.slice(0, table.num_rows - 1)).to_numpy()
            if same.any():  # equal as written (floats rounded, times cut to dates): the first such row given
                j = np.flatnonzero(same)
                i = int(min(order[j].min(), order[j + 1].min()))
                raise ArtifactError(f"{where}: duplicate key {list(self.key)} at row {i}: {_row(frame(), i)}")
            if not np.array_equal(order, np.arange(table.num_rows)):
                table = table.take(order)
        return table


SIGNIFICANT_DIGITS = 12
#: 10**0 .. 10**22, each exactly representable as a double (the scales of :func:`_canonical_float`)
_POW10 = 10.0 ** np.arange(23)


def _canonical_float(x: np.ndarray) -> np.ndarray:
    """Round to :data:`SIGNIFICANT_DIGITS` significant decimal digits (at most 22 decimals).

    Numpy's SIMD reductions may differ in the last bit with memory alignment and threading; rounding
    the stored values makes artifacts byte-reproducible across processes and machines while keeping
    far more precision than any figure needs. Decimal rounding keeps round values exact (0.95 stays the
    double nearest to 0.95), so parameters written into tables compare equal to the config.
    """
    out = x.astype(float, copy=True)
    ok = np.isfinite(out) & (out != 0.0)
    v = out[ok]
    k = np.clip(SIGNIFICANT_DIGITS - 1 - np.floor(np.log10(np.abs(v))), -22, 22).astype(np.intp)
    up = k >= 0
    dn = ~up
    rounded = np.empty_like(v)
    scale = _POW10[k[up]]  # each branch on its own elements only: the same float operations per element
    rounded[up] = np.round(v[up] * scale) / scale
    scale = _POW10[-k[dn]]
    rounded[dn] = np.round(v[dn] / scale) * scale
    out[ok] = rounded
    return out + 0.0


def _isna(s: pd.Series) -> np.ndarray:
    """``s.isna()`` as a boolean array (numpy columns without a pandas Series round trip)."""
    out: np.ndarray
    if isinstance(s.dtype, np.dtype) and s.dtype.kind == "f":
        out = np.isnan(s.to_numpy())
    elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iub":
        out = np.zeros(len(s), bool)
    else:
        out = s.isna().to_numpy()
    return out


def _row(df: pd.DataFrame, i: int) -> str:
    rec = df.iloc[i].to_dict()
    return ", ".join(f"{k}={v}" for k, v in list(rec.items())[:6])


def _canon(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _canon(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canon(v) for v in obj]
    if isinstance(obj, float) and math.isfinite(obj) and obj == int(obj):
        return obj
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    return obj


def params_hash(params: Any) -> str:
    """A stable short hash of a (nested) parameter mapping."""
    text = json.dumps(_canon(params), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    schema: Schema,
    *,
    asof: dt.date,
    source: str,
    params: Any = None,
    extra_meta: Mapping[str, str] | None = None,
    params_digest: str | None = None,
) -> Path:
    """Check ``df`` against ``schema`` and write it atomically as zstd Parquet.

    The metadata holds only run-independent facts (as-of date, version, source, parameter
    hash, schema name), so the same inputs give the same bytes. ``params_digest`` is
    ``params_hash(params)`` when the caller has it already (a step writing several tables with one ``params``).
    """
    path = Path(path)
    table = schema.conform(df, context=f"as of {asof.isoformat()}")
    meta = {
        "brmacro.asof": asof.isoformat(),
        "brmacro.version": __version__,
        "brmacro.source": source,
        "brmacro.params_hash": params_digest or params_hash(params if params is not None else {}),
        "brmacro.schema": schema.name,
    }
    if extra_meta:
        meta.update({f"brmacro.{k}": str(v) for k, v in extra_meta.items()})
    table = table.replace_schema_metadata({k.encode(): v.encode() for k, v in sorted(meta.items())})
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a writer killed mid-write (SIGKILL)
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd", use_dictionary=False, write_statistics=False)
        if not owner_alive():  # a pool worker whose Snakemake died: never publish after it
            raise ArtifactError(f"{schema.name}: not writing {path}: the process that started this job is gone")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def partition_session(path: str | os.PathLike[str]) -> dt.date | None:
    """The session of a partition file from its hive-style folder ``.../date=YYYY-MM-DD/<table>.parquet``."""
    name = Path(path).parent.name
    if not name.startswith("date="):
        return None
    try:
        return dt.date.fromisoformat(name.removeprefix("date="))
    except ValueError:
        return None


def rebuild_hint(path: str | os.PathLike[str]) -> str:
    """The command that rebuilds the partition holding ``path`` (both layouts), for error messages."""
    p = Path(path)
    d = partition_session(p)
    asset = p.parent.parent.name
    if d is None:
        return f"rebuild it: delete {p} and rerun the workflow"
    rule = asset
    try:
        from brmacro.pipeline import SESSION_GROUPS

        group = next((g for g, members in SESSION_GROUPS.items() if asset in members), None)
    except ImportError:  # pragma: no cover - pipeline is part of the package
        group = None
    alt = f" (with layout=session: --forcerun session_{group})" if group else ""
    return f"rebuild it: snakemake --cores 2 --forcerun {rule} --config date={d.isoformat()}{alt}"


def read_table(path: str | os.PathLike[str], schema: Schema, asof: dt.date | None = None) -> pd.DataFrame:
    """Read an artifact and check that it carries exactly the declared schema and belongs to its session.

    The expected session is ``asof`` or, when not given, the ``date=`` folder the file sits in. A partition
    file must carry that session in its ``brmacro.asof`` metadata; a ``date`` column that is not part of the
    table's key (one session's rows) must hold only that session, and one that is (a history) nothing later.
    So another session's file copied into a partition, or a history reaching past its session, is refused.

    Raises
    ------
    ArtifactError
        When the file is missing, unreadable (truncated, not Parquet), of another schema or of another
        session; the message names the file, what was expected and found, and how to rebuild it.
    """
    path = Path(path)
    expected = asof if asof is not None else partition_session(path)
    try:
        # One file, read as such: pq.read_table goes through the dataset layer (file discovery, a scan of one
        # fragment), which costs about as much as decoding a partition's small table. Arrow's thread pool too
        # costs more CPU than it saves on tables this small, and so does pre-buffering (coalescing the column
        # chunks' reads ahead, for remote storage): without it each chunk is read as it is decoded, the same bytes.
        with pq.ParquetFile(path, pre_buffer=False) as pf:
            table = pf.read(use_threads=False)
    except (OSError, pa.ArrowInvalid) as exc:
        hint = rebuild_hint(path) if path.exists() else "it was not built (see the run status and its log)"
        raise ArtifactError(f"{schema.name}: cannot read {path}: {exc}; {hint}") from exc
    if not table.schema.equals(schema.arrow, check_metadata=False):
        raise ArtifactError(
            f"{schema.name}: {path} has schema {table.schema.remove_metadata()} "
            f"but {schema.arrow} is declared; {rebuild_hint(path)}"
        )
    for c in schema.cols:  # a written artifact never holds these: the file was altered after writing
        if c.kind == "float" and not c.nullable and len(table):
            v = table.column(c.name).to_numpy(zero_copy_only=False)
            if not np.isfinite(v).all():
                i = int(np.flatnonzero(~np.isfinite(v))[0])
                raise ArtifactError(
                    f"{schema.name}: {path} column {c.name!r} holds a non-finite value at row {i} where a number "
                    f"is required; {rebuild_hint(path)}"
                )
    if expected is not None:
        _check_session(table, schema, path, expected)
    out: pd.DataFrame = table.to_pandas(date_as_object=True, use_threads=False)
    return out


def _check_session(table: pa.Table, schema: Schema, path: Path, expected: dt.date) -> None:
    """Refuse a partition file of another session (metadata ``brmacro.asof`` or its ``date`` column)."""
    md = table.schema.metadata or {}
    found = md.get(b"brmacro.asof", b"").decode() or None
    if found != expected.isoformat():
        raise ArtifactError(
            f"{schema.name}: {path} is the artifact of session {found or '(no brmacro.asof metadata)'}, expected "
            f"{expected.isoformat()}: another session's file was put in this partition; {rebuild_hint(path)}"
        )
    if "date" in schema.names and len(table):
        col = table.column("date")
        if "date" in schema.key:
            latest = pc.max(col).as_py()
            if latest is not None and latest > expected:
                raise ArtifactError(
                    f"{schema.name}: {path} column 'date' reaches {latest.isoformat()}, after its session "
                    f"{expected.isoformat()}; {rebuild_hint(path)}"
                )
        else:
            other = sorted({d for d in col.to_pylist() if d != expected}, key=str)
            if other:
                raise ArtifactError(
                    f"{schema.name}: {path} column 'date' holds {other[0]}, expected only {expected.isoformat()} "
                    f"(the partition's session); {rebuild_hint(path)}"
                )


def read_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    """The brmacro key-value metadata of an artifact."""
    md = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in md.items() if k.startswith(b"brmacro.")}


def check_complete(path: str | os.PathLike[str]) -> None:
    """Refuse an existing artifact that is not a whole Parquet file (truncated or overwritten) or whose footer's
    ``brmacro.asof`` is not its partition's session (another session's file put there); a missing file passes.

    Reads only the file's first bytes and its footer (:func:`read_meta`). The workflow checks every existing
    input with it before any job: Snakemake would count such a file as up to date and run its readers, which
    would fail and lose their own good outputs; naming it with the command that rebuilds it runs nothing.

    Raises
    ------
    ArtifactError
        Naming the file, what is wrong and the command that rebuilds it (:func:`rebuild_hint`).
    """
    p = Path(path)
    meta: dict[str, str] | None = None
    try:
        with p.open("rb") as fh:
            head = fh.read(4)
        if head == b"PAR1":
            meta = read_meta(p)
    except FileNotFoundError:
        return  # not built yet: the workflow builds it
    except (OSError, pa.ArrowException):
        meta = None
    if not meta:
        raise ArtifactError(f"input {p} is not a complete Parquet file (truncated or overwritten); {rebuild_hint(p)}")
    session = p.parent.name.removeprefix("date=")
    found = meta.get("brmacro.asof")
    if found != session:
        raise ArtifactError(
            f"input {p} is the artifact of session {found or '(no brmacro.asof metadata)'}, expected {session}: "
            f"another session's file was put in this partition; {rebuild_hint(p)}"
        )


#: The file in the results folder where :class:`CheckedInputs` keeps the inputs :func:`check_complete` has passed.
CHECKED_INPUTS = ".brmacro_checked.json"


class CheckedInputs:
    """:func:`check_complete` with a memory across runs: a file that passed is not read again while its size,
    modification time and inode are those it had when it passed.

    The workflow checks every existing input before any job; over a 16-year results folder that is ~200,000 Parquet
    footers (~0.2 ms each), most of a no-op rerun. Truncating or rewriting a file changes its size or mtime, and a
    file copied or moved in from another partition has another inode or another path, so each of those is checked
    again. The list lives in ``<results>/`` :data:`CHECKED_INPUTS` (written by :meth:`save`, atomically; an
    unreadable or foreign list is ignored, so deleting it only costs the reads).
    """

    VERSION = 1

    def __init__(self, results: str | os.PathLike[str]) -> None:
        self.root = Path(results)
        self.path = self.root / CHECKED_INPUTS
        self._passed: dict[str, tuple[int, int, int]] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == self.VERSION:
                self._passed = {str(k): (int(v[0]), int(v[1]), int(v[2])) for k, v in data["files"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            self._passed = {}

    def check(self, path: str | os.PathLike[str]) -> None:
        """:func:`check_complete` of ``path`` unless it passed before unchanged (a missing file passes)."""
        key = str(path)
        try:
            st = os.stat(key)
        except FileNotFoundError:
            return
        ident = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._passed.get(key) == ident:
            return
        check_complete(key)
        self._passed[key] = ident
        self._dirty = True

    def add_written(self, paths: Sequence[str | os.PathLike[str]], since: float) -> int:
        """Remember the files of ``paths`` modified at or after ``since`` (epoch seconds) as passed without reading
        them: the run that started then wrote them through :func:`write_table` (a temporary file renamed into place,
        its partition's session in the footer), so they are whole by construction. Returns how many were added."""
        n = 0
        for path in paths:
            key = str(path)
            try:
                st = os.stat(key)
            except FileNotFoundError:
                continue
            if st.st_mtime >= since:
                self._passed[key] = (st.st_size, st.st_mtime_ns, st.st_ino)
                self._dirty = True
                n += 1
        return n

    def save(self) -> None:
        """Write the list when a file passed since it was read, if the results folder exists."""
        if not self._dirty or not self.root.is_dir():
            return
        fd, tmp = tempfile.mkstemp(prefix=f"{self.path.name}.", suffix=".tmp", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": self.VERSION, "files": self._passed}, fh)
        os.replace(tmp, self.path)
        self._dirty = False


def frame(records: Sequence[Mapping[str, Any]], schema: Schema) -> pd.DataFrame:
    """A frame with the schema's columns from a list of records (empty list gives an empty frame)."""
    if not records:
        return schema.empty()
    return pd.DataFrame.from_records(list(records), columns=schema.names)
