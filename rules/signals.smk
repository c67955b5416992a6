# Signals: strategies and aggregation, and the monitor against previous sessions.


rule signal_aggregation:
    input:
        unpack(step_inputs("signal_aggregation")),
    output:
        part("signal_aggregation"),
    log:
        log_of("signal_aggregation"),
    params:
        cfg=step_params("signal_aggregation"),
    run:
        run_step(
            "signal_aggregation",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule signal_monitor:
    input:
        unpack(step_inputs("signal_monitor")),
    output:
        part("signal_monitor"),
    log:
        log_of("signal_monitor"),
    params:
        cfg=step_params("signal_monitor"),
    run:
        run_step(
            "signal_monitor",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
