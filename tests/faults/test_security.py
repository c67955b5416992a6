"""Security: hostile strings are escaped in the report, paths from the command line never leave the results
folder, and no data is ever unpickled or evaluated. (API keys: the ``--keep-going`` live run in
``test_transient.py`` and the two-directory run in ``test_concurrency.py`` grep every file they write for the
fake ``FRED_API_KEY``; the bad-payload tests check messages and logs.)"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest
from snakemake.utils import validate

from brmacro.io import read_table, write_table
from brmacro.pipeline import all_schemas, build_partition, partition_paths
from tests.conftest import REPO, SESSIONS, run_config, workflow_copy
from tests.faults.conftest import Tally, run_snakemake

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>{{7*7}}|**bold**"


def test_report_escapes_hostile_strings_from_data_and_config(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    d = dt.date.fromisoformat(SESSIONS[1])
    results = tmp_path / "results"
    shutil.copytree(demo_run / "results", results, ignore=shutil.ignore_patterns("logs", "benchmarks", "report"))
    schema = all_schemas()["agent_inflation"]["part"]
    p = partition_paths(results, "agent_inflation", d)["part"]
    df = read_table(p, schema)
    df.loc[df.index[0], "signal_id"] = HOSTILE
    write_table(df, p, schema, asof=d, source="demo")
    cfg = run_config()  # the demo run's config (its track-record window)
    validate(cfg, str(REPO / "config" / "schema.yaml"))
    cfg = copy.deepcopy(cfg)
    cfg["report"]["title"] = HOSTILE
    build_partition(results, "daily_report", d, cfg)
    base = results / "report" / "daily_report" / f"date={d}"
    html = (base / "report.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "{{7*7}}" not in html
    assert "&lt;script&gt;alert(" in html
    md = (base / "report.md").read_text()
    assert "<script>" not in md
    tally.bad_input("hostile strings in report", rejected=True)


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("results/bronze/bronze_fred/date=2026-13-45/part.parquet", "is not a valid YYYY-MM-DD date"),
        ("results/bronze/bronze_fred/date=../../etc/part.parquet", "No rule to produce"),
        ("results/../x/bronze/bronze_fred/date=2026-11-24/part.parquet", "No rule to produce"),
    ],
    ids=["bad-date-wildcard", "dotdot-date", "dotdot-results"],
)
def test_paths_outside_the_results_folder_are_refused(tmp_path: Path, target: str, needle: str,
                                                      tally: Tally) -> None:
    wd = workflow_copy(tmp_path / "wd")
    before = {p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts}
    out = run_snakemake(wd, target, "--cores", "1")
    text = out.stdout + out.stderr
    ok = out.returncode != 0 and needle in text
    assert ok, text[-2000:]
    after = {p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts}
    assert after == before  # nothing written anywhere (no results/, no x/, no etc/)
    tally.bad_input(f"path {target}", rejected=ok)


_FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "cloudpickle", "joblib"}
_FORBIDDEN_CALLS = {"eval", "exec", "read_pickle", "to_pickle", "__import__"}


def _scan(path: Path, text: str) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            bad += [f"{path}:{node.lineno} import {a.name}" for a in node.names if a.name.split(".")[0] in
                    _FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
            bad.append(f"{path}:{node.lineno} from {node.module} import")
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in _FORBIDDEN_CALLS:
                bad.append(f"{path}:{node.lineno} {name}()")
            if name == "load" and isinstance(f, ast.Attribute) and getattr(f.value, "id", "") == "yaml":
                loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
                loader_name = getattr(loader, "attr", getattr(loader, "id", ""))
                if not loader_name.endswith("SafeLoader"):  # yaml.load with (C)SafeLoader is safe_load
                    bad.append(f"{path}:{node.lineno} yaml.load() (use safe_load)")
            if any(k.arg == "allow_pickle" and getattr(k.value, "value", False) is True for k in node.keywords):
                bad.append(f"{path}:{node.lineno} allow_pickle=True")
    return bad


def test_no_pickle_or_eval_on_data_anywhere_in_the_source_tree(tally: Tally) -> None:
    files = sorted((REPO / "src").rglob("*.py"))
    assert len(files) > 30
    bad = [b for f in files for b in _scan(f, f.read_text())]
    # the scanner itself must catch what it looks for
    assert len(_scan(Path("x.py"), "import pickle\nfrom dill import x\neval('1')\ndf.to_pickle('p')\n"
                     "yaml.load(s)\nnp.load(p, allow_pickle=True)\nyaml.load(s, Loader=yaml.Loader)\n"
                     "yaml.load(s, Loader=yaml.CSafeLoader)\n")) == 7
    assert bad == []
    tally.note(f"source scan: {len(files)} files, no pickle/eval/exec/yaml.load/allow_pickle")
