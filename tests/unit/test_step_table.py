"""The step table: each StepSpec names its step function, found without importing anything at planning."""

from __future__ import annotations

import subprocess
import sys

from brmacro.pipeline import STEPS, step_function


def test_every_step_function_is_the_asset_of_its_layers_steps_module() -> None:
    for asset, spec in STEPS.items():
        fn = step_function(asset)
        assert callable(fn)
        # brmacro.codeversion hashes brmacro.<layer>.steps.<asset>: the table must name that very function
        assert (fn.__module__, fn.__name__) == (f"brmacro.{spec.layer}.steps", asset)


def test_planning_imports_no_step_module_nor_pandas() -> None:
    code = (
        "import sys, brmacro.pipeline as p\n"
        "p.STEPS['daily_report'].layer\n"
        "bad = sorted(m for m in sys.modules if m.endswith('.steps') or m in ('pandas', 'pyarrow', 'scipy'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_lazy_step_references_add_no_step_to_every_steps_code_version() -> None:
    """pipeline and _lazy are in every step's code version (brmacro.codeversion.RUNNER): a steps module named in
    them as a string would make every step rerun when any layer's steps change."""
    from brmacro import codeversion

    assert not [m for m in codeversion._closure(set(codeversion.RUNNER)) if m.endswith(".steps")]
