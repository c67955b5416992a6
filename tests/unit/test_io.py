"""Artifacts: schema checks on write and read, atomic writes, deterministic bytes."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brmacro.io import ArtifactError, Col, Schema, read_meta, read_table, write_table

S = Schema(
    "t",
    (Col("date", "date"), Col("name", "str"), Col("x", "float", lo=-1.0, hi=1.0), Col("y", "float", nullable=True)),
    key=("date", "name"),
)
ASOF = dt.date(2026, 11, 24)


def _df(**over: object) -> pd.DataFrame:
    base = {"date": [ASOF, ASOF], "name": ["b", "a"], "x": [0.5, -0.2], "y": [np.nan, 1.0]}
    base.update(over)  # type: ignore[arg-type]
    return pd.DataFrame(base)


def test_roundtrip_sorted_by_key_with_metadata(tmp_path: Path) -> None:
    p = write_table(_df(), tmp_path / "p.parquet", S, asof=ASOF, source="demo", params={"a": 1})
    back = read_table(p, S)
    assert list(back["name"]) == ["a", "b"]
    meta = read_meta(p)
    assert meta["brmacro.asof"] == "2026-11-24" and meta["brmacro.source"] == "demo"


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    a = write_table(_df(), tmp_path / "a.parquet", S, asof=ASOF, source="demo", params={"a": 1})
    b = write_table(_df().iloc[::-1], tmp_path / "b.parquet", S, asof=ASOF, source="demo", params={"a": 1})
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("frame", "msg"),
    [
        (_df(x=[np.nan, 0.1]), "'x' is missing a value"),
        (_df(x=[np.inf, 0.1]), "'x' is infinite"),
        (_df(x=[2.0, 0.1]), "outside"),
        (_df(name=["a", "a"]), "duplicate key"),
        (_df().drop(columns=["y"]), "missing \\['y'\\]"),
        (_df().assign(z=1), "unexpected \\['z'\\]"),
        (_df(x=["abc", 0.1]), "not numeric"),
        (_df(name=["a", 1]), "column 'name' cannot be converted to string"),
    ],
)
def test_bad_frames_are_refused_and_nothing_is_written(tmp_path: Path, frame: pd.DataFrame, msg: str) -> None:
    with pytest.raises(ArtifactError, match=msg):
        write_table(frame, tmp_path / "p.parquet", S, asof=ASOF, source="demo")
    assert list(tmp_path.iterdir()) == []


def test_conform_orders_rows_as_pandas_stable_sort_does() -> None:
    """Arrow's stable key sort (skipped when sorted) gives the rows pandas' ``sort_values(kind="mergesort")`` gives."""
    rng = np.random.default_rng(7)
    n = 400
    sch = Schema("k", (Col("name", "str"), Col("date", "date"), Col("n", "int"), Col("x", "float"),
                       Col("y", "float", nullable=True)), key=("name", "date", "n"))
    names = np.array(["b", "a", "Ä", "é", "z", "ab", "a b", "ß", "日本"], dtype=object)
    df = pd.DataFrame({"name": names[rng.integers(0, len(names), n)],
                       "date": [ASOF - dt.timedelta(days=int(k)) for k in rng.integers(0, 40, n)],
                       "n": rng.integers(-3, 3, n), "x": rng.standard_normal(n),
                       "y": np.where(rng.random(n) < 0.2, np.nan, rng.standard_normal(n))})
    df = df.drop_duplicates(["name", "date", "n"])
    want = df.sort_values(["name", "date", "n"], kind="mergesort").reset_index(drop=True)
    for frame in (df, want, df.iloc[::-1], df.set_index("x", drop=False)):
        got = sch.conform(frame).to_pandas(date_as_object=True)
        assert got[["name", "date", "n"]].equals(want[["name", "date", "n"]])
        assert np.array_equal(got["y"].isna(), want["y"].isna())


def test_canonical_float_is_the_formula_it_replaced() -> None:
    """The rounding with a table of exact powers of ten and one branch per element is the old two-branch formula."""
    from brmacro.io import SIGNIFICANT_DIGITS, _canonical_float

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(20_000) * 10.0 ** rng.integers(-30, 30, 20_000),
                        [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1e-300, 1e300, 0.95, 123456789012345.0]])
    out = x.astype(float, copy=True)
    ok = np.isfinite(out) & (out != 0.0)
    v = out[ok]
    k = np.clip(SIGNIFICANT_DIGITS - 1 - np.floor(np.log10(np.abs(v))), -22, 22)
    up = k >= 0
    scale_up = 10.0 ** np.where(up, k, 0)
    scale_dn = 10.0 ** np.where(up, 0, -k)
    out[ok] = np.where(up, np.round(v * scale_up) / scale_up, np.round(v / scale_dn) * scale_dn)
    assert (out + 0.0).tobytes() == _canonical_float(x).tobytes()


def test_corrupt_or_foreign_artifacts_are_refused(tmp_path: Path) -> None:
    p = write_table(_df(), tmp_path / "p.parquet", S, asof=ASOF, source="demo")
    data = p.read_bytes()
    (tmp_path / "trunc.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="cannot read"):
        read_table(tmp_path / "trunc.parquet", S)
    other = Schema("o", (Col("date", "date"), Col("v", "float")))
    q = write_table(pd.DataFrame({"date": [ASOF], "v": [1.0]}), tmp_path / "o.parquet", other, asof=ASOF, source="demo")
    with pytest.raises(ArtifactError, match="rebuild it"):
        read_table(q, S)


def test_last_bit_noise_does_not_change_bytes(tmp_path: Path) -> None:
    noisy = _df(x=[0.1 + 0.2, -0.2], y=[np.nan, 1.0 + 2e-16])
    clean = _df(x=[0.3, -0.2], y=[np.nan, 1.0])
    a = write_table(noisy, tmp_path / "a.parquet", S, asof=ASOF, source="demo")
    b = write_table(clean, tmp_path / "b.parquet", S, asof=ASOF, source="demo")
    assert a.read_bytes() == b.read_bytes()
    assert read_table(a, S)["x"].tolist() == pytest.approx([-0.2, 0.3], rel=1e-12)


def test_write_is_atomic_a_failed_write_leaves_the_previous_artifact(tmp_path: Path, monkeypatch) -> None:
    """Parquet bytes go to a temporary file beside the target and are renamed into place.

    A writer that dies half-way (simulated: the Parquet writer writes half a file and raises) leaves the
    previous artifact readable and unchanged, and no temporary file behind; the final path is never the
    one being written to.
    """
    import pyarrow.parquet as pq

    import brmacro.io as bio

    p = write_table(_df(), tmp_path / "p.parquet", S, asof=ASOF, source="demo")
    before = p.read_bytes()
    seen: list[Path] = []
    real = pq.write_table

    def dying(table, where, **kw):  # noqa: ANN001, ANN003 - a stand-in for pyarrow's writer
        seen.append(Path(where))
        real(table, where, **kw)
        Path(where).write_bytes(Path(where).read_bytes()[:40])  # half a file, then the crash
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(bio.pq, "write_table", dying)
    with pytest.raises(KeyboardInterrupt):
        write_table(_df(x=[0.9, 0.8]), p, S, asof=ASOF, source="demo")
    assert seen and all(w.parent == p.parent and w != p for w in seen)
    assert p.read_bytes() == before
    assert read_table(p, S)["x"].tolist() == [-0.2, 0.5]
    assert [f.name for f in tmp_path.iterdir()] == ["p.parquet"]
    monkeypatch.undo()
    write_table(_df(x=[0.9, 0.8]), p, S, asof=ASOF, source="demo")  # a completed write replaces it
    assert read_table(p, S)["x"].tolist() == [0.8, 0.9]


# ------------------------------------------------------------------------------------------------ issue 17: sessions

ONE = Schema("one", (Col("date", "date"), Col("name", "str"), Col("x", "float")), key=("name",))


def _partition(root: Path, d: dt.date, table: str = "part") -> Path:
    return root / "layer" / "asset_x" / f"date={d.isoformat()}" / f"{table}.parquet"


def test_another_sessions_file_copied_into_a_partition_is_refused(tmp_path: Path) -> None:
    prev = dt.date(2026, 11, 23)
    src = write_table(pd.DataFrame({"date": [prev], "name": ["a"], "x": [0.1]}), _partition(tmp_path, prev), ONE,
                      asof=prev, source="demo")
    dst = _partition(tmp_path, ASOF)
    dst.parent.mkdir(parents=True)
    dst.write_bytes(src.read_bytes())
    read_table(src, ONE)  # in its own partition: fine
    with pytest.raises(ArtifactError, match="session 2026-11-23, expected 2026-11-24") as ei:
        read_table(dst, ONE)
    assert str(dst) in str(ei.value) and "--forcerun asset_x --config date=2026-11-24" in str(ei.value)
    with pytest.raises(ArtifactError, match="expected 2026-11-24"):  # an explicit session wins over the folder
        read_table(src, ONE, asof=ASOF)


def test_a_date_column_of_another_session_is_refused_even_with_the_right_metadata(tmp_path: Path) -> None:
    p = write_table(pd.DataFrame({"date": [dt.date(2026, 11, 23)], "name": ["a"], "x": [0.1]}),
                    _partition(tmp_path, ASOF), ONE, asof=ASOF, source="demo")
    with pytest.raises(ArtifactError, match="column 'date' holds 2026-11-23, expected only 2026-11-24"):
        read_table(p, ONE)


def test_a_history_reaching_past_its_session_is_refused(tmp_path: Path) -> None:
    later = ASOF + dt.timedelta(days=1)
    ok = write_table(_df(), _partition(tmp_path, ASOF), S, asof=ASOF, source="demo")
    read_table(ok, S)
    p = write_table(_df(date=[ASOF, later]), _partition(tmp_path, ASOF, "hist"), S, asof=ASOF, source="demo")
    with pytest.raises(ArtifactError, match="reaches 2026-11-25, after its session 2026-11-24"):
        read_table(p, S)


def test_a_truncated_partition_names_the_file_and_the_command_that_rebuilds_it(tmp_path: Path) -> None:
    p = write_table(_df(), _partition(tmp_path, ASOF), S, asof=ASOF, source="demo")
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(ArtifactError) as ei:
        read_table(p, S)
    msg = str(ei.value)
    assert str(p) in msg and "snakemake --cores 2 --forcerun asset_x --config date=2026-11-24" in msg


def test_check_complete_refuses_a_truncated_or_foreign_file_and_passes_a_missing_one(tmp_path: Path) -> None:
    from brmacro.io import check_complete

    s = Schema("x", (Col("v", "float"),))
    good = tmp_path / "silver" / "silver_curves" / "date=2024-06-03" / "part.parquet"
    write_table(pd.DataFrame({"v": [1.0, 2.0]}), good, s, asof=dt.date(2024, 6, 3), source="demo")
    check_complete(good)
    check_complete(tmp_path / "silver" / "silver_curves" / "date=2024-06-04" / "part.parquet")  # not built yet
    foreign = tmp_path / "silver" / "silver_curves" / "date=2024-06-04" / "part.parquet"
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(good.read_bytes())
    with pytest.raises(ArtifactError, match="of session 2024-06-03, expected 2024-06-04.*--forcerun silver_curves"):
        check_complete(foreign)
    data = good.read_bytes()
    for broken in (data[: len(data) // 2], b"XXXX" + data[4:], b""):
        good.write_bytes(broken)
        with pytest.raises(ArtifactError, match="is not a complete Parquet file.*--forcerun silver_curves"):
            check_complete(good)


def _footer_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths :func:`brmacro.io.check_complete` reads from now on (it still checks them)."""
    import brmacro.io as bio

    reads: list[str] = []
    real = bio.check_complete
    monkeypatch.setattr(bio, "check_complete", lambda p: (reads.append(str(p)), real(p))[1])
    return reads


def test_checked_inputs_reads_a_footer_once_until_the_file_changes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's memory of passed inputs (brmacro.io.CheckedInputs): a passed file is not read again in this
    run or the next while unchanged; a truncated, rewritten, replaced or moved-in file is checked again."""
    import os
    import shutil

    import brmacro.io as bio

    s = Schema("x", (Col("v", "float"),))
    results = tmp_path / "results"
    good = results / "silver" / "silver_curves" / "date=2024-06-03" / "part.parquet"
    write_table(pd.DataFrame({"v": [1.0, 2.0]}), good, s, asof=dt.date(2024, 6, 3), source="demo")
    other = results / "silver" / "silver_curves" / "date=2024-06-04" / "part.parquet"
    write_table(pd.DataFrame({"v": [3.0]}), other, s, asof=dt.date(2024, 6, 4), source="demo")
    reads = _footer_reads(monkeypatch)

    first = bio.CheckedInputs(results)
    first.check(good)
    first.check(good)
    first.check(results / "silver" / "silver_curves" / "date=2024-06-05" / "part.parquet")  # missing: passes
    assert reads == [str(good)]
    first.save()
    assert (results / bio.CHECKED_INPUTS).is_file()

    again = bio.CheckedInputs(results)  # the next run
    again.check(good)
    assert reads == [str(good)]
    # another session's file moved in keeps its inode but not its path; a copy gets a new inode: both re-checked
    shutil.copy2(good, other)  # copy2 keeps the mtime
    with pytest.raises(ArtifactError, match="of session 2024-06-03, expected 2024-06-04"):
        again.check(other)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="is not a complete Parquet file"):
        again.check(good)
    os.utime(good, ns=(first._passed[str(good)][1], first._passed[str(good)][1]))  # same mtime, other size
    with pytest.raises(ArtifactError, match="is not a complete Parquet file"):
        again.check(good)
    # a foreign or unreadable list is ignored: every file is read again
    (results / bio.CHECKED_INPUTS).write_text("{not json", encoding="utf-8")
    write_table(pd.DataFrame({"v": [1.0]}), good, s, asof=dt.date(2024, 6, 3), source="demo")
    reads.clear()
    bio.CheckedInputs(results).check(good)
    assert reads == [str(good)]


def test_checked_inputs_takes_the_files_a_run_wrote_as_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the end of a run the workflow adds the tables it wrote (brmacro.io.write_table: whole by construction), so
    the next run does not read their footers; a file older than the run is left to be checked."""
    import os
    import time

    import brmacro.io as bio

    s = Schema("x", (Col("v", "float"),))
    results = tmp_path / "results"
    old = results / "silver" / "silver_curves" / "date=2024-06-03" / "part.parquet"
    write_table(pd.DataFrame({"v": [1.0]}), old, s, asof=dt.date(2024, 6, 3), source="demo")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    started = time.time()
    new = results / "silver" / "silver_curves" / "date=2024-06-04" / "part.parquet"
    write_table(pd.DataFrame({"v": [2.0]}), new, s, asof=dt.date(2024, 6, 4), source="demo")
    missing = results / "silver" / "silver_curves" / "date=2024-06-05" / "part.parquet"
    checked = bio.CheckedInputs(results)
    assert checked.add_written([old, new, missing], since=started) == 1
    checked.save()
    reads = _footer_reads(monkeypatch)
    nxt = bio.CheckedInputs(results)
    nxt.check(new)
    nxt.check(old)
    assert reads == [str(old)]


def test_keys_equal_only_as_written_are_a_duplicate_key_naming_the_first_row(tmp_path: Path) -> None:
    """Floats rounded to 12 digits and times cut to dates make equal keys: refused, naming the first such row."""
    fk = Schema("fk", (Col("date", "date"), Col("q", "float"), Col("v", "float")), key=("q",))
    frame = pd.DataFrame({"date": [ASOF] * 3, "q": [0.99, 0.95, 0.9500000000000001], "v": [1.0, 2.0, 3.0]})
    with pytest.raises(ArtifactError, match=r"duplicate key \['q'\] at row 1"):
        write_table(frame, tmp_path / "p.parquet", fk, asof=ASOF, source="demo")
    dk = Schema("dk", (Col("date", "date"), Col("v", "float")), key=("date",))
    times = pd.DataFrame({"date": [pd.Timestamp(ASOF) + pd.Timedelta(hours=h) for h in (1, 2)], "v": [1.0, 2.0]},
                         dtype=object)
    with pytest.raises(ArtifactError, match=r"duplicate key \['date'\] at row 0"):
        write_table(times.astype({"v": float}), tmp_path / "p.parquet", dk, asof=ASOF, source="demo")
    assert list(tmp_path.iterdir()) == []


def test_a_nullable_key_column_is_refused_when_the_schema_is_declared() -> None:
    with pytest.raises(ValueError, match=r"key columns \['name'\] are nullable"):
        Schema("nk", (Col("date", "date"), Col("name", "str", nullable=True)), key=("name",))


_NULLS = [None, np.nan, pd.NaT, pd.NA, np.datetime64("NaT"), np.float32("nan"), decimal.Decimal("NaN")]
N = Schema("n", (Col("date", "date"), Col("name", "str"), Col("flag", "bool", nullable=True),
                 Col("note", "str", nullable=True), Col("when", "date", nullable=True)), key=("date", "name"))


@pytest.mark.parametrize("null", _NULLS, ids=repr)
@pytest.mark.parametrize("column", ["name", "flag", "note", "when", "date"])
def test_object_columns_checked_from_arrows_nulls_as_from_pandas_isna(column: str, null: object) -> None:
    """A missing value of any kind in an object column: refused where the column is not nullable (naming its row),
    written as null where it is, or refused by Arrow's conversion, exactly as the pandas null test decides."""
    from brmacro.io import _isna

    df = pd.DataFrame({"date": [ASOF, ASOF, ASOF], "name": ["c", "a", "b"], "flag": [True, False, True],
                       "note": ["x", "y", "z"], "when": [ASOF, ASOF, ASOF]}, dtype=object)
    df.loc[1, column] = null
    assert bool(_isna(df[column]).any())  # pandas counts it missing
    col = next(c for c in N.cols if c.name == column)
    if not col.nullable:
        with pytest.raises(ArtifactError, match=f"'{column}' is (missing a value at row 1|not a date at row 1)"):
            N.conform(df)
        return
    try:
        table = N.conform(df)
    except ArtifactError as exc:
        assert "cannot be converted" in str(exc) and repr(column) in str(exc)
        return
    assert table.column(column).null_count == 1
    assert table.column("name").to_pylist() == ["a", "b", "c"]


def test_a_column_arrow_refuses_still_fails_after_the_checks_of_later_columns() -> None:
    """The first column Arrow cannot convert fails only after every column was checked, as before: a missing value
    in a later non-nullable column is the error given."""
    df = pd.DataFrame({"date": [ASOF, ASOF], "name": ["a", "b"], "flag": [True, False], "note": [1, "y"],
                       "when": [ASOF, ASOF]}, dtype=object)
    with pytest.raises(ArtifactError, match="'note' cannot be converted"):
        N.conform(df)
    df.loc[0, "name"] = None
    with pytest.raises(ArtifactError, match="'name' is missing a value at row 0"):
        N.conform(df)


def test_read_without_pre_buffering_is_the_default_read(tmp_path: Path) -> None:
    """read_table reads column chunks as they are decoded (no pre-buffering): the table of a default read, metadata
    included."""
    import pyarrow.parquet as pq

    rows = 5000
    df = pd.DataFrame({"date": [ASOF] * rows, "name": [f"n{i:05d}" for i in range(rows)],
                       "x": np.linspace(-1.0, 1.0, rows), "y": [np.nan if i % 7 else float(i) for i in range(rows)]})
    p = write_table(df, tmp_path / "date=2026-11-24" / "p.parquet", S, asof=ASOF, source="demo")
    want = pq.ParquetFile(p).read()
    got = read_table(p, S)
    pd.testing.assert_frame_equal(got, want.to_pandas(date_as_object=True), check_exact=True)
    with pq.ParquetFile(p, pre_buffer=False) as pf:
        assert pf.read(use_threads=False).equals(want) and pf.schema_arrow.metadata == want.schema.metadata
