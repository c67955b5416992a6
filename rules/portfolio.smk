# Portfolio: Black-Litterman + constrained mean-variance targets, then sizing into contracts.


rule portfolio_optimization:
    input:
        unpack(step_inputs("portfolio_optimization")),
    output:
        part("portfolio_optimization"),
    log:
        log_of("portfolio_optimization"),
    params:
        cfg=step_params("portfolio_optimization"),
    run:
        run_step(
            "portfolio_optimization",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule portfolio_sizing:
    input:
        unpack(step_inputs("portfolio_sizing")),
    output:
        part("portfolio_sizing"),
    log:
        log_of("portfolio_sizing"),
    params:
        cfg=step_params("portfolio_sizing"),
    run:
        run_step(
            "portfolio_sizing",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
