# Bronze: what each source said as of the session (snapshot over its lookback, release-date filtered).


rule bronze_bcb_sgs:
    input:
        unpack(step_inputs("bronze_bcb_sgs")),
    output:
        part("bronze_bcb_sgs"),
    log:
        log_of("bronze_bcb_sgs"),
    retries: 2
    resources:
        src_bcb_sgs=1,
    params:
        cfg=step_params("bronze_bcb_sgs"),
    run:
        run_step(
            "bronze_bcb_sgs",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule bronze_fred:
    input:
        unpack(step_inputs("bronze_fred")),
    output:
        part("bronze_fred"),
    log:
        log_of("bronze_fred"),
    retries: 2
    resources:
        src_fred=1,
    params:
        cfg=step_params("bronze_fred"),
    run:
        run_step(
            "bronze_fred",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule bronze_yahoo:
    input:
        unpack(step_inputs("bronze_yahoo")),
    output:
        part("bronze_yahoo"),
    log:
        log_of("bronze_yahoo"),
    retries: 2
    resources:
        src_yahoo=1,
    params:
        cfg=step_params("bronze_yahoo"),
    run:
        run_step(
            "bronze_yahoo",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule bronze_bcb_ptax:
    input:
        unpack(step_inputs("bronze_bcb_ptax")),
    output:
        part("bronze_bcb_ptax"),
    log:
        log_of("bronze_bcb_ptax"),
    retries: 2
    resources:
        src_bcb_ptax=1,
    params:
        cfg=step_params("bronze_bcb_ptax"),
    run:
        run_step(
            "bronze_bcb_ptax",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule bronze_b3_market_data:
    input:
        unpack(step_inputs("bronze_b3_market_data")),
    output:
        part("bronze_b3_market_data"),
    log:
        log_of("bronze_b3_market_data"),
    retries: 2
    resources:
        src_b3_market_data=1,
    params:
        cfg=step_params("bronze_b3_market_data"),
    run:
        run_step(
            "bronze_b3_market_data",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule bronze_treasury_gov:
    input:
        unpack(step_inputs("bronze_treasury_gov")),
    output:
        part("bronze_treasury_gov"),
    log:
        log_of("bronze_treasury_gov"),
    retries: 2
    resources:
        src_treasury_gov=1,
    params:
        cfg=step_params("bronze_treasury_gov"),
    run:
        run_step(
            "bronze_treasury_gov",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule bronze_bcb_focus:
    input:
        unpack(step_inputs("bronze_bcb_focus")),
    output:
        part("bronze_bcb_focus"),
    log:
        log_of("bronze_bcb_focus"),
    retries: 2
    resources:
        src_bcb_focus=1,
    params:
        cfg=step_params("bronze_bcb_focus"),
    run:
        run_step(
            "bronze_bcb_focus",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
