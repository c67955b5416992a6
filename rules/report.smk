# Report: the daily HTML/Markdown report and the alerts.


rule daily_report:
    input:
        unpack(step_inputs("daily_report")),
    output:
        part_with_report("daily_report"),
    log:
        log_of("daily_report"),
    params:
        cfg=step_params("daily_report"),
    run:
        run_step(
            "daily_report",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
