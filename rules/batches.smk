# Batch layout (`--config layout=batch`, and `auto` from brmacro.pipeline.AUTO_BATCH_LAYOUT_FROM target sessions):
# one job per session group and calendar month of target sessions (BATCH_JOBS), building the same partitions as the
# step and session layouts, byte for byte (brmacro.pipeline.session_batches, run_session). For long backfills: ~20x
# fewer jobs than the session layout to plan and schedule. The rules have no wildcards, so Snakemake prefers them
# over the session rules, which build only the earlier sessions outside the range that the targets read
# (SESSION_RULE_DATES). `run:` text and params are the session rules', so a folder built in one layout is up to
# date in the other.
for job_name, (group, sessions) in BATCH_JOBS.items():

    rule:
        name:
            job_name
        input:
            batch_inputs(group, sessions),
        output:
            session_outputs(group, sessions),
        log:
            f"{RESULTS}/logs/batch_{group}/{sessions[0].isoformat()}_{sessions[-1].isoformat()}.log",
        retries: SOURCE_RETRIES if group == "bronze" else 0
        resources:
            **(batch_resources(group, sessions)),
        params:
            group=group,
            cfg=group_params(group),
        run:
            run_session(params.group, output_sessions(output), params.cfg, log[0])
