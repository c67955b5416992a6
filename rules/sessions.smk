# Session layout (`--config layout=session`): four jobs per session building the same partitions as the 23
# step rules, byte for byte (brmacro.pipeline.SESSION_GROUPS, which says where the groups are cut and why).
# For backfills: ~6x fewer jobs to plan and run.


rule session_bronze:
    output:
        session_outputs("bronze"),
    log:
        log_of("session_bronze"),
    retries: 2
    resources:
        src_bcb_sgs=1,
        src_fred=1,
        src_yahoo=1,
        src_bcb_ptax=1,
        src_b3_market_data=1,
        src_treasury_gov=1,
        src_bcb_focus=1,
    params:
        cfg=group_params("bronze"),
    run:
        run_session("bronze", wildcards.date, params.cfg, log[0])


# the groups after bronze: session_core, session_var, session_tail
for group in [g for g in _pl.SESSION_GROUPS if g != "bronze"]:

    rule:
        name:
            f"session_{group}"
        input:
            session_inputs(group),
        output:
            session_outputs(group),
        log:
            log_of(f"session_{group}"),
        params:
            group=group,
            cfg=group_params(group),
        run:
            run_session(params.group, wildcards.date, params.cfg, log[0])
