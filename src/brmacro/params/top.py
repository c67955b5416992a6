"""The top-level keys of the config (sessions, paths, layout, data source, book size)."""

from brmacro.params.decl import P

TOP = {
    "date": P(
        ("string", "null"),
        "latest",
        (
            "Target session, 'latest' (last completed B3 session in America/Sao_Paulo) or YYYY-MM-DD. Ignored when "
            "start/end are given."
        ),
        pattern="^(latest|\\d{4}-\\d{2}-\\d{2})$",
    ),
    "start": P(
        ("string", "null"),
        None,
        "First session of a range (YYYY-MM-DD, inclusive); give end too.",
        pattern="^\\d{4}-\\d{2}-\\d{2}$",
    ),
    "end": P(
        ("string", "null"),
        None,
        "Last session of a range (YYYY-MM-DD, inclusive); give start too.",
        pattern="^\\d{4}-\\d{2}-\\d{2}$",
    ),
    "results": P(
        "string",
        "results",
        "Root folder of artifacts and logs (relative to the working directory, or absolute); no '..' components.",
        pattern="^(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_./-]+$",
    ),
    "layout": P(
        "string",
        "auto",
        (
            "How partitions map to Snakemake jobs (the artifacts are the same byte for byte). 'auto': the step "
            "layout for fewer than 6 target sessions, the session layout from 6, the batch layout from 250 "
            "(docs/performance.md). 'step': one job per step and session (the 23 rules; single-step targets, "
            "--forcerun of one step, snakemake --report). 'session': four jobs per session (bronze, core, var, "
            "tail), ~6x fewer jobs (backfills). 'batch': the same four groups, one job per group and calendar month "
            "of target sessions (long backfills: ~20x fewer jobs again; a job killed midway reruns its month). "
            "Switching from session to step rebuilds nothing; from step to session only the core of the first "
            "session's fan-out sessions reruns (docs/performance.md)."
        ),
        enum=["auto", "step", "session", "batch"],
    ),
    "source": P(
        "string",
        "demo",
        (
            "Data source of the bronze layer. 'demo' is the deterministic synthetic market; 'live' fetches the public "
            "sources."
        ),
        enum=["demo", "live"],
    ),
    "nav_brl": P(
        "number",
        100000000,
        "Net asset value of the model book in BRL.",
        maximum=10000000000000.0,
        exclusiveMinimum=0,
    ),
}
