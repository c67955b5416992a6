# The 23 step rules (layout: step), one per asset of brmacro.pipeline.STEPS, generated from that table: the
# graph (what each step reads, from which sessions, with which config) is declared there once and each
# rule's `run` calls the step its StepSpec.build names. docs/architecture.md, "How a rule maps to a step".
for asset, spec in STEPS.items():

    rule:
        name:
            asset
        input:
            unpack(step_inputs(asset)),
        output:
            part_with_report(asset),
        log:
            log_of(asset),
        retries: SOURCE_RETRIES if spec.layer == "bronze" else 0
        resources:
            **source_resources(asset),
        params:
            cfg=step_params(asset),
        run:
            run_step(
                rule,
                wildcards.date,
                params.cfg,
                input.same,
                input.prev,
                output,
                log[0],
            )
