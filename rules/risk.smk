# Risk: VaR, stress and limits of the sized book.


rule risk_var:
    input:
        unpack(step_inputs("risk_var")),
    output:
        part("risk_var"),
    log:
        log_of("risk_var"),
    params:
        cfg=step_params("risk_var"),
    run:
        run_step(
            "risk_var",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule risk_stress:
    input:
        unpack(step_inputs("risk_stress")),
    output:
        part("risk_stress"),
    log:
        log_of("risk_stress"),
    params:
        cfg=step_params("risk_stress"),
    run:
        run_step(
            "risk_stress",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule risk_limits:
    input:
        unpack(step_inputs("risk_limits")),
    output:
        part("risk_limits"),
    log:
        log_of("risk_limits"),
    params:
        cfg=step_params("risk_limits"),
    run:
        run_step(
            "risk_limits",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
