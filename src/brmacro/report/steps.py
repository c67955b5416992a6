"""The report step: ``daily_report(ctx)`` writes report.html/report.md and returns figures and alerts."""

from __future__ import annotations

import pandas as pd

from brmacro.params import section, value
from brmacro.pipeline import STEPS, Context
from brmacro.report.alerts import alerts_frame
from brmacro.report.build import build_report
from brmacro.report.inputs import load_inputs
from brmacro.report.render import render_html, render_markdown, write_text_atomic
from brmacro.report.schemas import FIGURES

__all__ = ["daily_report"]


def daily_report(ctx: Context) -> dict[str, pd.DataFrame]:
    """Build the daily report of ``ctx.date``.

    Reads every declared input tolerantly (a missing one is named in its section and fires
    PIPELINE_FAILURE), renders ``report.html`` and ``report.md`` atomically into ``ctx.out_dir``,
    and returns the ``part`` table (every headline figure shown) and the ``alerts`` table.

    Raises
    ------
    ValueError
        When the step has no output folder.
    """
    if ctx.out_dir is None:
        raise ValueError(f"daily_report {ctx.date.isoformat()}: no output folder (ctx.out_dir) to write the report")
    inp = load_inputs(ctx.inputs, ctx.prev, STEPS["daily_report"].inputs)
    built = build_report(inp, ctx.date, section(ctx.params, "report"), section(ctx.params, "risk"),
                         float(value(ctx.params, "nav_brl")), ctx.source)
    write_text_atomic(ctx.out_dir / "report.html", render_html(built.doc))
    write_text_atomic(ctx.out_dir / "report.md", render_markdown(built.doc))
    part = pd.DataFrame.from_records(built.figures, columns=FIGURES.names)
    ctx.log.info("daily_report %s: %d figures, %d alerts fired, %d input tables missing", ctx.date,
                 len(part), sum(a.fired for a in built.alerts), len(inp.missing))
    return {"part": part, "alerts": alerts_frame(built.alerts, ctx.date)}
