# Session layout (`--config layout=session`): four jobs per session building the same partitions as the 23
# step rules, byte for byte (brmacro.pipeline.SESSION_GROUPS, which says where the groups are cut and why).
# For backfills: ~6x fewer jobs to plan and run. The batch rules (rules/batches.smk) have this same `run:` text and
# the same params, so Snakemake's code and params triggers see one rule: switching between the two layouts on one
# results folder reruns nothing.
for group in _pl.SESSION_GROUPS:

    rule:
        name:
            f"session_{group}"
        input:
            session_inputs(group),
        output:
            session_outputs(group),
        log:
            log_of(f"session_{group}"),
        wildcard_constraints:
            date=SESSION_RULE_DATES,
        retries: SOURCE_RETRIES if group == "bronze" else 0
        resources:
            **(group_resources(group)),
        params:
            group=group,
            cfg=group_params(group),
        run:
            run_session(params.group, output_sessions(output), params.cfg, log[0])
