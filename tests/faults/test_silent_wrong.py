"""Issue 17: no silent wrong result. Each class a red team found, through the real Snakemake CLI where the class
lives there: config that passes a loose schema, another session's artifact, code changes that never rebuild,
good artifacts deleted by failing jobs, run status after a failure, range and path limits."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from brmacro.configdoc import ConfigError, validate_config
from brmacro.pipeline import STEPS, partition_paths
from tests.conftest import REPO, SESSIONS, job_counts
from tests.faults.conftest import Tally, run_snakemake

SCHEMA = REPO / "config" / "schema.yaml"


def _config() -> dict[str, Any]:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _copy_run(demo_run: Path, dst: Path) -> Path:
    """A copy of the demo run's working directory, with Snakemake's metadata and the files' times."""
    shutil.copytree(demo_run, dst, symlinks=True, ignore=shutil.ignore_patterns("locks", "incomplete"))
    return dst


def _snapshot(results: Path) -> dict[str, bytes]:
    return {str(p.relative_to(results)): p.read_bytes() for p in sorted(results.rglob("*.parquet"))}


def _dependants(asset: str) -> set[str]:
    out = {asset}
    changed = True
    while changed:
        changed = False
        for a, spec in STEPS.items():
            if a not in out and (out & set(spec.inputs) or out & set(spec.prev)):
                out.add(a)
                changed = True
    return out


# ------------------------------------------------------------------------------------------------ 2: config


def _set(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    node = cfg
    for k in head:
        node = node[k]
    node[last] = value


BAD_CONFIG: list[tuple[str, Any]] = [
    ("portfolio.sizing.target_vol", -0.1),  # inverted the book with exit 0
    ("portfolio.sizing.kelly_fraction", -0.5),  # same
    ("portfolio.sizing.target_vol", float("nan")),  # traceback naming nothing
    ("nav_brl", float("nan")),  # failed jobs deleted good bronze partitions
    ("portfolio.universe", []),
    ("portfolio.universe", ["DI1_1Y", "DI1_2Y", "DI1_1Y"]),
    ("risk.var.confidences", [0.95, 0.99, 0.99]),
    ("portfolio.cov_window", 1),
    ("portfolio.bounds.DI1_1Y", [1.0, 2.0]),  # sizing held +50 % of NAV on the flat fallback
    ("portfolio.bounds.DI1_1Y", [2.0, -2.0]),  # -200 %
    ("portfolio.min_obs", 400),  # above cov_window
    ("risk.var.min_obs", 5000),  # above risk.var.window
]


@pytest.mark.parametrize(("dotted", "value"), BAD_CONFIG, ids=[f"{k}={v}" for k, v in BAD_CONFIG])
def test_config_that_passed_the_schema_is_refused_naming_the_key(dotted: str, value: Any, tally: Tally) -> None:
    cfg = _config()
    _set(cfg, dotted, value)
    with pytest.raises(ConfigError) as ei:
        validate_config(cfg, SCHEMA)
    ok = dotted.split(".")[-1] in str(ei.value) and dotted.rsplit(".", 1)[0].split(".")[0] in str(ei.value)
    tally.bad_input(f"config {dotted}={value!r}", rejected=ok)
    assert ok, str(ei.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("nav_brl: .nan\n", "nav_brl"),
        ("portfolio:\n  sizing:\n    target_vol: -0.1\n", "portfolio.sizing.target_vol"),
        ("portfolio:\n  bounds:\n    DI1_1Y: [1.0, 2.0]\n", "portfolio.bounds.DI1_1Y"),
    ],
    ids=["nav-nan", "negative-target-vol", "bounds-exclude-zero"],
)
def test_bad_config_is_refused_before_any_job_and_deletes_nothing(
    demo_run: Path, tmp_path: Path, text: str, key: str, tally: Tally
) -> None:
    wd = _copy_run(demo_run, tmp_path / "wd")
    before = _snapshot(wd / "results")
    (wd / "bad.yaml").write_text(text)
    out = run_snakemake(wd, "--cores", "2", "--configfile", "bad.yaml", "--config",
                        f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    msg = out.stdout + out.stderr
    ok = out.returncode != 0 and key in msg and "Traceback" not in msg and _snapshot(wd / "results") == before
    ok = ok and "jobid" not in msg  # no job was started
    tally.bad_input(f"config file {key}", rejected=ok)
    assert ok, msg[-3000:]


# ------------------------------------------------------------------------------------------------ 3 + 8: sessions


def test_another_sessions_artifact_is_refused_before_any_job(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    """The red team's case: portfolio_sizing of D-1 copied over D gave exit 0 and risk and a report for D built
    from D-1's book. Now the run stops before any job, naming the file, the expected and found session and the
    command that rebuilds it; nothing is deleted."""
    wd = _copy_run(demo_run, tmp_path / "wd")
    d0, d = SESSIONS
    shutil.copyfile(partition_paths(wd / "results", "portfolio_sizing", d0)["part"],
                    partition_paths(wd / "results", "portfolio_sizing", d)["part"])
    before = _snapshot(wd / "results")
    out = run_snakemake(wd, "--cores", "2", "--keep-going", "--config", f"start={d0}", f"end={d}")
    msg = out.stdout + out.stderr
    rel = f"results/portfolio/portfolio_sizing/date={d}/part.parquet"
    ok = out.returncode != 0 and f"input {rel} is the artifact of session {d0}, expected {d}" in msg
    ok = ok and f"--forcerun portfolio_sizing --config date={d}" in msg and "jobid" not in msg
    ok = ok and _snapshot(wd / "results") == before
    tally.bad_input("another session's artifact in a partition", rejected=ok)
    assert ok, msg[-3000:]
    # the readers check it too (a file planted while a run is going): naming the file, expected and found
    from brmacro.io import ArtifactError, read_table
    from brmacro.pipeline import all_schemas

    with pytest.raises(ArtifactError, match=f"session {d0}, expected {d}"):
        read_table(wd / rel, all_schemas()["portfolio_sizing"]["part"])


def test_after_failed_jobs_the_status_names_them_with_logs_and_no_earlier_report(
    demo_run: Path, tmp_path: Path, tally: Tally
) -> None:
    """A foreign table in a partition (right session, wrong schema) fails its readers. The run status used to
    say "All target artifacts exist" and print the previous run's report path."""
    wd = _copy_run(demo_run, tmp_path / "wd")
    d0, d = SESSIONS
    shutil.copyfile(partition_paths(wd / "results", "portfolio_optimization", d)["part"],
                    partition_paths(wd / "results", "portfolio_sizing", d)["part"])
    out = run_snakemake(wd, "--cores", "2", "--keep-going", "--config", f"start={d0}", f"end={d}")
    msg = out.stdout + out.stderr
    status = (wd / "results" / "run_status.md").read_text()
    ok = out.returncode != 0
    ok = ok and re.search(rf"- risk_var {d}: \S*logs/risk_var/{d}\.log", status) is not None
    ok = ok and "All target artifacts exist" not in status and "No daily report was built by this run" in status
    ok = ok and f"brmacro: {d}: report" not in msg and f"brmacro: {d0}: report" not in msg
    ok = ok and f"brmacro: FAILED risk_var {d}" in msg
    tally.bad_input("failed jobs named in the run status", rejected=ok)
    assert ok, status + msg[-3000:]


# ------------------------------------------------------------------------------------------------ 4: code


def test_a_code_change_reruns_that_step_and_its_dependants_only(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    wd = _copy_run(demo_run, tmp_path / "wd")
    lib = tmp_path / "lib"
    shutil.copytree(REPO / "src" / "brmacro", lib / "brmacro", ignore=shutil.ignore_patterns("__pycache__"))
    os.environ["PYTHONPATH"], old = str(lib), os.environ.get("PYTHONPATH")
    try:
        args = ("-n", "--cores", "2", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
        clean = run_snakemake(wd, *args)
        assert clean.returncode == 0 and job_counts(clean.stdout + clean.stderr) == {}, clean.stdout[-2000:]
        target = lib / "brmacro" / "agents" / "fiscal.py"
        target.write_text(target.read_text() + "\n_EDITED = 1  # a change to agent_fiscal's code\n")
        changed = run_snakemake(wd, *args)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    rules = set(job_counts(changed.stdout + changed.stderr)) - {"all", "total"}
    expected = _dependants("agent_fiscal")
    ok = changed.returncode == 0 and rules == expected
    tally.fault(survived=ok)
    tally.note(f"code change in agents/fiscal.py: dry run reruns {len(rules)} rules (agent_fiscal and dependants)")
    assert ok, (sorted(rules), sorted(expected), changed.stdout[-2000:])


def test_artifacts_record_their_code_version(demo_run: Path) -> None:
    from brmacro.io import read_meta
    from brmacro.pipeline import code_version

    for asset in ("bronze_fred", "agent_fiscal", "portfolio_sizing", "daily_report"):
        p = partition_paths(demo_run / "results", asset, SESSIONS[-1])["part"]
        assert read_meta(p)["brmacro.code"] == code_version(asset)
    assert len({code_version(a) for a in STEPS}) > 15  # per step, not one hash for the package


# ------------------------------------------------------------------------------------------------ 9: smaller


@pytest.mark.parametrize("results", ["/", "/etc", "/usr", "/usr/local/out", "/proc/self", "~"])
def test_system_folders_are_refused_as_results(results: str, tally: Tally) -> None:
    from brmacro.guards import GuardError, check_results_dir

    with pytest.raises(GuardError, match="system folder") as ei:
        check_results_dir(results)
    tally.bad_input(f"results={results}", rejected=results in str(ei.value))


def test_a_non_empty_folder_brmacro_did_not_create_is_refused(tmp_path: Path, tally: Tally) -> None:
    from brmacro.guards import GuardError, check_results_dir, mark_results_dir

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("not brmacro's")
    with pytest.raises(GuardError, match="non-empty folder brmacro did not create") as ei:
        check_results_dir(tmp_path / "mine")
    tally.bad_input("results = someone else's folder", rejected="thesis.tex" in str(ei.value))
    check_results_dir(tmp_path / "new")  # absent: fine
    (tmp_path / "old" / "bronze").mkdir(parents=True)  # a results folder from before the marker: fine
    (tmp_path / "old" / ".run_status.md.abc123").write_text("")  # left by a killed atomic write
    check_results_dir(tmp_path / "old")
    mark_results_dir(tmp_path / "old")
    (tmp_path / "old" / "notes.txt").write_text("kept by the operator")
    check_results_dir(tmp_path / "old")  # marked as brmacro's: anything else inside is the operator's business


def test_cli_refuses_bad_results_backtest_range_and_future_live_before_planning(tmp_path: Path, tally: Tally) -> None:
    from tests.conftest import workflow_copy

    wd = workflow_copy(tmp_path / "wd")
    (wd / "short_lookback.yaml").write_text("silver:\n  lookback_sessions: 2\n")  # windows that cannot chain
    cases = [
        (("-n", "--config", "results=/etc"), "a system folder"),
        (("-n", "backtest", "--configfile", "config/config.yaml", "short_lookback.yaml", "--config",
          "start=2020-01-02", "end=2026-06-30", "layout=session"), "silver.lookback_sessions = 2 is too short"),
        (("-n", "--config", "source=live", "date=2030-06-03"), "has not completed yet"),
    ]
    for args, needle in cases:
        out = run_snakemake(wd, *args)
        msg = out.stdout + out.stderr
        ok = out.returncode != 0 and needle in msg and "Job stats" not in msg
        tally.bad_input(f"cli {' '.join(args[1:])}", rejected=ok)
        assert ok, msg[-2000:]


def test_report_markdown_never_keeps_a_link_from_a_name(tally: Tally) -> None:
    from brmacro.report.render import Document, render_markdown

    doc = Document(title="t [x](javascript:alert(1))", subtitle=["![i](javascript:alert(2))"], sections=[])
    md = render_markdown(doc)
    ok = re.search(r"(?<!\\)\]\(", md) is None and "\\[x\\](javascript" in md
    tally.bad_input("javascript: link in a name", rejected=ok)
    assert ok, md


def test_a_past_session_from_live_data_without_vintages_is_marked_reconstructed(tmp_path: Path, tally: Tally) -> None:
    import datetime as dt

    import pandas as pd

    from brmacro.io import Col, Schema, write_table
    from brmacro.pipeline import reconstructed

    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    past, latest = dt.date(2026, 11, 24), dt.date(2026, 12, 1)
    ok = reconstructed("bronze_bcb_sgs", past, "live", [], now) and not reconstructed(
        "bronze_bcb_sgs", latest, "live", [], now) and not reconstructed("bronze_bcb_sgs", past, "demo", [], now)
    s = Schema("x", (Col("v", "float"),))
    marked = write_table(pd.DataFrame({"v": [1.0]}), tmp_path / "a" / "part.parquet", s, asof=past, source="live",
                         extra_meta={"reconstructed": "true"})
    plain = write_table(pd.DataFrame({"v": [1.0]}), tmp_path / "b" / "part.parquet", s, asof=past, source="live")
    ok = ok and reconstructed("silver_macro", past, "live", [plain, marked], now)
    ok = ok and not reconstructed("silver_macro", past, "live", [plain], now)
    tally.bad_input("past session from live SGS not marked reconstructed", rejected=ok)
    assert ok


# ------------------------------------------------------------------------------------------------ 5: unreadable input


@pytest.mark.parametrize("layout", ["step", "session"])
def test_a_truncated_input_is_named_with_its_rebuild_command_and_no_good_artifact_is_lost(
    demo_run: Path, tmp_path: Path, layout: str, tally: Tally
) -> None:
    """The red team truncated silver_curves: the agents reading it ran, failed and lost their good partitions,
    and the corrupt file counted as up to date. Now the run stops before any job, naming it and its rebuild."""
    wd = _copy_run(demo_run, tmp_path / "wd")
    d = SESSIONS[-1]
    bad = partition_paths(wd / "results", "silver_curves", d)["part"]
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    before = _snapshot(wd / "results")
    out = run_snakemake(wd, "--cores", "2", "--config", f"start={SESSIONS[0]}", f"end={d}", f"layout={layout}")
    msg = out.stdout + out.stderr
    rel = f"results/silver/silver_curves/date={d}/part.parquet"
    ok = out.returncode != 0 and f"input {rel} is not a complete Parquet file" in msg
    ok = ok and f"--forcerun silver_curves --config date={d}" in msg and "jobid" not in msg
    ok = ok and _snapshot(wd / "results") == before  # nothing deleted, nothing rewritten
    tally.bad_input(f"truncated input ({layout} layout)", rejected=ok)
    assert ok, msg[-3000:]


def test_code_versions_follow_what_each_step_runs(tmp_path: Path, tally: Tally) -> None:
    """Per step, not per package: an agent's model changes that agent only; the artifact writer changes all;
    the backtest (no step) changes none; an edit of one step function in a shared steps module, that step only."""
    import importlib.util
    import time

    lib = tmp_path / "brmacro"
    shutil.copytree(REPO / "src" / "brmacro", lib, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("cv_copy", lib / "codeversion.py")
    assert spec is not None and spec.loader is not None
    cv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cv)
    layers = {a: s.layer for a, s in STEPS.items()}

    def changed_by(rel: str, old: str | None = None, new: str | None = None) -> set[str]:
        before = cv.code_hashes(layers)
        f = lib / rel
        text = f.read_text()
        f.write_text(text.replace(old, new, 1) if old else text + "\n# edited\n")
        os.utime(f, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        after = cv.code_hashes(layers)
        return {a for a in STEPS if before[a] != after[a]}

    ok = changed_by("agents/fiscal.py") == {"agent_fiscal"}
    ok = ok and changed_by("report/backtest.py") == set()
    ok = ok and changed_by("risk/steps.py", "def risk_stress(", "def risk_stress(  ") == {"risk_stress"}
    ok = ok and changed_by("io.py") == set(STEPS)
    tally.fault(survived=ok)
    assert ok
