# Silver: curves, returns matrix and macro series, clean, aligned and point in time.


rule silver_curves:
    input:
        unpack(step_inputs("silver_curves")),
    output:
        part("silver_curves"),
    log:
        log_of("silver_curves"),
    params:
        cfg=step_params("silver_curves"),
    run:
        run_step(
            "silver_curves",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule silver_returns:
    input:
        unpack(step_inputs("silver_returns")),
    output:
        part("silver_returns"),
    log:
        log_of("silver_returns"),
    params:
        cfg=step_params("silver_returns"),
    run:
        run_step(
            "silver_returns",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule silver_macro:
    input:
        unpack(step_inputs("silver_macro")),
    output:
        part("silver_macro"),
    log:
        log_of("silver_macro"),
    params:
        cfg=step_params("silver_macro"),
    run:
        run_step(
            "silver_macro",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
