"""Workflow tests: the real Snakefile on the demo source in a temporary directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from brmacro.io import read_meta, read_table
from brmacro.pipeline import SESSION_GROUPS, STEPS, all_schemas, partition_paths, plan
from brmacro.workdir import copy_workflow
from tests.conftest import REPO, SESSIONS, TEST_CONFIG, job_counts, snakemake, workflow_copy

pytestmark = pytest.mark.workflow


def test_every_asset_of_every_session_exists_and_passes_its_schema(demo_run: Path) -> None:
    checked = 0
    for d in SESSIONS:
        for asset in STEPS:
            for table, path in partition_paths(demo_run / "results", asset, d).items():
                assert path.exists(), f"{asset}/{table} missing for {d}"
                df = read_table(path, all_schemas()[asset][table])
                meta = read_meta(path)
                assert meta["brmacro.asof"] == d
                assert meta["brmacro.source"] == "demo"
                if table == "part" and asset.startswith(("bronze", "silver", "agent", "portfolio_sizing", "risk_var")):
                    assert len(df) > 0, f"{asset} is empty on {d}"
                checked += 1
    assert checked >= 2 * 23
    assert len(STEPS) == 23


def test_report_files_exist(demo_run: Path) -> None:
    for d in SESSIONS:
        base = demo_run / "results" / "report" / "daily_report" / f"date={d}"
        html = (base / "report.html").read_text()
        assert "<html" in html.lower()
        assert (base / "report.md").stat().st_size > 0


def test_second_run_has_nothing_to_do(demo_run: Path) -> None:
    out = snakemake(demo_run, "-n", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_layout_auto_on_a_folder_built_by_the_step_rules_rebuilds_nothing(demo_run: Path) -> None:
    """Two target sessions: layout=auto takes the step layout, and the step-built folder is up to date."""
    out = snakemake(demo_run, "-n", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}", "layout=auto")
    assert "Nothing to be done" in out.stdout + out.stderr, out.stdout[-2000:]


@pytest.mark.parametrize("layout", ["batch", "session"])
def test_switching_from_the_step_to_a_grouped_layout_rebuilds_nothing(demo_run: Path, layout: str) -> None:
    """From the step layout to the batch layout (the folder taken over month by month), then to the session layout
    on the same folder. (From the session to the batch layout, a month the session jobs built can rerun some of its
    groups: docs/performance.md.)"""
    out = snakemake(demo_run, "-n", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}", f"layout={layout}")
    assert "Nothing to be done" in out.stdout + out.stderr, out.stdout[-2000:]


def test_the_default_track_record_window_is_planned_by_snakemake(tmp_path: Path) -> None:
    """The test runs shorten the report's track record (tests/conftest.py TEST_CONFIG); with the repository's own
    config (default window) the real Snakefile plans exactly the library's closure, window included."""
    wd = copy_workflow(REPO, tmp_path / "wd")  # config/config.yaml as shipped
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    assert cfg["report"]["track_record"] != TEST_CONFIG["report"]["track_record"]
    sessions = [dt.date.fromisoformat(d) for d in SESSIONS]
    expected: dict[str, int] = {}
    for asset, _ in plan(list(STEPS), sessions, cfg):
        expected[asset] = expected.get(asset, 0) + 1
    short = plan(list(STEPS), sessions, {**cfg, **TEST_CONFIG})
    assert sum(expected.values()) > len(short)  # the default window reads more sessions than the tests' one
    out = snakemake(wd, "-n", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    counts = job_counts(out.stdout + out.stderr)
    assert counts.pop("total") == sum(expected.values()) + counts.pop("all")
    assert counts == expected


def test_no_temporary_files_left(demo_run: Path) -> None:
    leftovers = list((demo_run / "results").rglob("*.tmp"))
    assert leftovers == []


def test_run_status_written(demo_run: Path) -> None:
    text = (demo_run / "results" / "run_status.md").read_text()
    assert "success" in text and "All target artifacts exist" in text


def test_bronze_all_builds_only_bronze(tmp_path: Path) -> None:
    wd = workflow_copy(tmp_path / "wd")
    snakemake(wd, "bronze_all", "--cores", "2", "--config", f"date={SESSIONS[0]}")
    layers = {p.name for p in (wd / "results").iterdir() if p.is_dir()} - {"logs", "benchmarks"}
    assert layers == {"bronze"}
    assert len(list((wd / "results" / "bronze").glob("*/date=*/part.parquet"))) == 7


def test_holiday_is_refused_naming_neighbours(tmp_path: Path) -> None:
    wd = workflow_copy(tmp_path / "wd")
    out = snakemake(wd, "-n", "--config", "date=2026-11-20", check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "2026-11-20 is not a B3 session" in text
    assert "2026-11-19" in text and "2026-11-23" in text
    assert not (wd / "results").exists()


def test_inverted_range_is_refused(tmp_path: Path) -> None:
    wd = workflow_copy(tmp_path / "wd")
    out = snakemake(wd, "-n", "--config", "start=2026-11-24", "end=2026-11-02", check=False)
    assert out.returncode != 0
    assert "after end" in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("source=nowhere", "nowhere"),
        ("nav_brl=-5", "nav_brl"),
        ("date=26/11/2026", "date"),
        ("results=../outside", "results"),
    ],
)
def test_invalid_config_is_refused_with_the_schema_message(tmp_path: Path, override: str, needle: str) -> None:
    wd = workflow_copy(tmp_path / "wd")
    out = snakemake(wd, "-n", "--config", override, check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "ValidationError" in text or "validat" in text.lower()
    assert needle in text


def test_live_source_unreachable_fails_loudly_without_falling_back(tmp_path: Path) -> None:
    wd = workflow_copy(tmp_path / "wd")
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    sources = ("bcb_sgs", "fred", "yahoo", "bcb_ptax", "b3_market_data", "treasury_gov", "bcb_focus")
    override = {
        "live": {
            "cache_dir": str(tmp_path / "cache"),
            "retries": 0,
            "timeout_seconds": 2,
            "sources": {s: {"base_url": dead} for s in sources},
        }
    }
    (wd / "dead.yaml").write_text(yaml.safe_dump(override))
    out = snakemake(
        wd, "bronze_all", "--cores", "1", "--keep-going", "--configfile", "dead.yaml",
        "--config", f"date={SESSIONS[0]}", "source=live", check=False,
    )
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "bcb_ptax" in text and "127.0.0.1:9" in text
    assert "FRED_API_KEY" in text  # no key in this environment: named before any request
    assert not list((wd / "results").rglob("*.parquet"))


def test_latest_is_the_last_completed_session() -> None:
    from brmacro.calendar import latest_session

    # Friday 27 Nov 2026 09:00 in Sao Paulo (12:00 UTC): the session of Thursday 26 is the latest completed one.
    assert latest_session(dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 26)
    # Same Friday after 18:30 local (21:45 UTC): Friday itself is complete.
    assert latest_session(dt.datetime(2026, 11, 27, 21, 45, tzinfo=dt.UTC)) == dt.date(2026, 11, 27)
    # Saturday: Friday.
    assert latest_session(dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 27)


def test_snakemake_report_includes_the_daily_report(demo_run: Path) -> None:
    import zipfile

    out = demo_run / "smk_report.zip"
    snakemake(demo_run, "--report", str(out), "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    zf = zipfile.ZipFile(out)
    daily = [n for n in zf.namelist() if "/data/raw/" in n and n.endswith("report.html")]
    assert len(daily) == len(SESSIONS), zf.namelist()[:20]
    assert all(b"brmacro daily report" in zf.read(n) for n in daily)


def _partition_files(results: Path) -> dict[str, bytes]:
    """Every artifact file (tables, report) by relative path; logs, run status and Snakemake markers left out."""
    return {
        str(p.relative_to(results)): p.read_bytes()
        for p in results.rglob("*")
        if p.is_file() and "date=" in str(p) and p.parts[-3] != "logs" and p.name != ".snakemake_timestamp"
    }


def test_session_and_batch_layouts_build_the_same_bytes(demo_run: Path, batch_layout_run: tuple[Path, str],
                                                       tmp_path: Path) -> None:
    """layout=batch (the target session by one job per group and month, the earlier sessions it reads by the
    session rules, 4 jobs per session, all in worker processes) writes the partitions the step layout writes, byte
    for byte and no more (the fan-out sessions are whole groups in every layout); switching layouts on the folder
    rebuilds nothing; bronze_all plans only the bronze group."""
    wd, log = batch_layout_run
    assert "worker processes" in log
    assert log.count("rule batch_") == len(SESSION_GROUPS)  # one month of target sessions: one job per group
    month = SESSIONS[-1][:7].replace("-", "_")
    assert all(f"rule batch_{g}_{month}:" in log for g in SESSION_GROUPS)
    jobs = log.count("rule session_")
    fan_out = {d for _, d in plan(list(STEPS), [dt.date.fromisoformat(SESSIONS[-1])])}  # incl. the track record's
    assert 0 < jobs <= len(SESSION_GROUPS) * (len(fan_out) - 1)  # the earlier sessions the target reads
    ours, theirs = _partition_files(wd / "results"), _partition_files(demo_run / "results")
    target = [k for k in ours if f"date={SESSIONS[-1]}" in k]
    assert {k.split("/")[1] for k in target} == set(STEPS)
    assert set(ours) <= set(theirs)  # demo_run (step layout) holds this target session and an earlier one
    common = sorted(ours)
    assert [k for k in common if ours[k] != theirs[k]] == []
    assert (wd / "results" / "logs" / "batch_core" / f"{SESSIONS[-1]}_{SESSIONS[-1]}.log").stat().st_size > 0
    again = snakemake(wd, "-n", "--config", f"date={SESSIONS[-1]}", "layout=batch")
    assert "Nothing to be done" in again.stdout + again.stderr
    # a missing folder that is not the first of its batch job still reruns the job (and what reads it)
    gone = wd / "results" / "portfolio" / "portfolio_sizing" / f"date={SESSIONS[-1]}"
    kept = gone.with_name(gone.name + ".kept")
    gone.rename(kept)
    try:
        missing = snakemake(wd, "-n", "--config", f"date={SESSIONS[-1]}", "layout=batch")
        assert {f"batch_core_{month}", f"batch_tail_{month}"} <= set(job_counts(missing.stdout + missing.stderr))
    finally:
        kept.rename(gone)
    # switching layouts on one results folder rebuilds nothing: batch -> session, step (and auto, one session: step)
    for layout in ("session", "step", "auto"):
        switched = snakemake(wd, "-n", "--config", f"date={SESSIONS[-1]}", f"layout={layout}")
        assert "Nothing to be done" in switched.stdout + switched.stderr, layout
    # bronze_all plans only the bronze group (test_bronze_all_builds_only_bronze builds it in the step layout)
    bronze = snakemake(workflow_copy(tmp_path / "bronze"), "bronze_all", "-n", "--config", f"date={SESSIONS[0]}",
                       "layout=session")
    assert set(job_counts(bronze.stdout + bronze.stderr)) == {"session_bronze", "bronze_all", "total"}
    bronze = snakemake(workflow_copy(tmp_path / "bronze_b"), "bronze_all", "-n", "--config", f"date={SESSIONS[0]}",
                       "layout=batch")
    assert set(job_counts(bronze.stdout + bronze.stderr)) == {f"batch_bronze_{month}", "bronze_all", "total"}
