"""README's documented commands work after README's install: runtime pins, scripts/, cron and scrontab lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runtime_pins(extra: str | None = None) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    out = {}
    for d in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", d.split("#")[0].strip())
        assert m, f"pyproject dependency {d!r} is not pinned with =="
        out[m.group(1).lower()] = m.group(2)
    return out


def test_snakemake_report_dependency_is_a_runtime_pin() -> None:
    # `snakemake --report` (README) needs pygments; README installs `pip install -e .` without the test extra
    assert "pygments" in _runtime_pins()


def test_environment_yml_mirrors_every_runtime_pin() -> None:
    env = (ROOT / "environment.yml").read_text()
    for name, ver in _runtime_pins().items():
        assert re.search(rf"^\s*-\s*{re.escape(name)}(==|=){re.escape(ver)}\b", env, re.M | re.I), \
            f"environment.yml does not pin {name} {ver} like pyproject.toml"


def test_environment_yml_mirrors_the_test_extra_with_the_quality_bar() -> None:
    env = (ROOT / "environment.yml").read_text()
    test = _runtime_pins("test")
    assert {"ruff", "mypy", "pandas-stubs"} <= set(test), "the test extra installs the quality bar .ci/run runs"
    for name, ver in test.items():
        assert re.search(rf"^\s*-\s*{re.escape(name)}(==|=){re.escape(ver)}\b", env, re.M | re.I), \
            f"environment.yml does not pin {name} {ver} like pyproject.toml's test extra"


def test_cron_and_scrontab_lines_use_scripts_daily() -> None:
    readme = (ROOT / "README.md").read_text()
    cron = [ln for ln in readme.splitlines() if re.match(r"^0 6 \* \* 1-5\s", ln)]
    assert cron and all("scripts/daily" in ln for ln in cron)
    cluster = (ROOT / "docs" / "cluster.md").read_text()
    scron = [ln for ln in cluster.splitlines() if re.match(r"^0 9 \* \* 1-5\s", ln)]
    assert scron and all("scripts/daily" in ln for ln in scron)


def test_scripts_daily_is_executable_and_answers_help() -> None:
    script = ROOT / "scripts" / "daily"
    assert os.access(script, os.X_OK)
    r = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "BRMACRO_PYTHON": sys.executable})
    assert r.returncode == 0, r.stderr
    assert "--date" in r.stdout and "--no-send" in r.stdout
