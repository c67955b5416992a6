"""Golden figures of the demo run: the numbers a PM reads must not move unless the change is meant.

Reuses the shared demo run (``demo_run`` fixture), so it adds only the reading of a few tables. When a
change of the maths is intended, regenerate with ``python -m tests.golden.regen`` and review the diff of
``tests/golden/figures.csv`` in the same commit (``tests/golden/figures.py`` says what is in it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SESSIONS
from tests.golden.figures import GOLDEN, compare, extract, load

pytestmark = pytest.mark.workflow


def test_golden_figures_match(demo_run: Path) -> None:
    expected = load(GOLDEN)
    assert {f.session for f in expected} == set(SESSIONS), "golden table is for other sessions: regenerate it"
    found = [f for s in SESSIONS for f in extract(demo_run / "results", s)]
    bad = compare(expected, found)
    assert not bad, (f"{len(bad)} golden figure(s) differ from {GOLDEN.name} (if the change is intended: "
                     "`python -m tests.golden.regen`, then review the diff):\n  " + "\n  ".join(bad))


def test_golden_comparison_names_figure_session_expected_found_and_tolerance() -> None:
    from tests.golden.figures import Figure

    exp = [Figure("2026-11-24", "var.historical.0.95", 0.0123, "", 1e-8, "NAV fraction, 1 day"),
           Figure("2026-11-24", "regime", None, "goldilocks", 0.0, "label")]
    got = [Figure("2026-11-24", "var.historical.0.95", 0.0124, "", 1e-8, "NAV fraction, 1 day"),
           Figure("2026-11-24", "regime", None, "reflation", 0.0, "label")]
    msg = "\n".join(compare(exp, got))
    assert "var.historical.0.95 [session 2026-11-24]: expected 0.0123, found 0.0124" in msg and "tolerance 1e-08" in msg
    assert "regime [session 2026-11-24]: expected 'goldilocks', found 'reflation'" in msg
    assert compare(exp, exp) == []
    within = [Figure("2026-11-24", "var.historical.0.95", 0.0123 + 5e-9, "", 1e-8, ""), exp[1]]
    assert compare(exp, within) == []
