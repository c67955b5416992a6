# Session layout (`--config layout=session`): three jobs per session building the same partitions as the 23
# step rules, byte for byte (brmacro.pipeline.SESSION_GROUPS). For backfills: ~8x fewer jobs to plan and run.


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


rule session_core:
    input:
        session_inputs("core"),
    output:
        session_outputs("core"),
    log:
        log_of("session_core"),
    params:
        cfg=group_params("core"),
    run:
        run_session("core", wildcards.date, params.cfg, log[0])


rule session_tail:
    input:
        session_inputs("tail"),
    output:
        session_outputs("tail"),
    log:
        log_of("session_tail"),
    params:
        cfg=group_params("tail"),
    run:
        run_session("tail", wildcards.date, params.cfg, log[0])
