# Agents: the five analytical models, from silver only.


rule agent_inflation:
    input:
        unpack(step_inputs("agent_inflation")),
    output:
        part("agent_inflation"),
    log:
        log_of("agent_inflation"),
    params:
        cfg=step_params("agent_inflation"),
    run:
        run_step(
            "agent_inflation",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule agent_monetary_policy:
    input:
        unpack(step_inputs("agent_monetary_policy")),
    output:
        part("agent_monetary_policy"),
    log:
        log_of("agent_monetary_policy"),
    params:
        cfg=step_params("agent_monetary_policy"),
    run:
        run_step(
            "agent_monetary_policy",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule agent_fiscal:
    input:
        unpack(step_inputs("agent_fiscal")),
    output:
        part("agent_fiscal"),
    log:
        log_of("agent_fiscal"),
    params:
        cfg=step_params("agent_fiscal"),
    run:
        run_step(
            "agent_fiscal",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule agent_fx_equilibrium:
    input:
        unpack(step_inputs("agent_fx_equilibrium")),
    output:
        part("agent_fx_equilibrium"),
    log:
        log_of("agent_fx_equilibrium"),
    params:
        cfg=step_params("agent_fx_equilibrium"),
    run:
        run_step(
            "agent_fx_equilibrium",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )


rule agent_cross_asset:
    input:
        unpack(step_inputs("agent_cross_asset")),
    output:
        part("agent_cross_asset"),
    log:
        log_of("agent_cross_asset"),
    params:
        cfg=step_params("agent_cross_asset"),
    run:
        run_step(
            "agent_cross_asset",
            wildcards.date,
            params.cfg,
            input.same,
            input.prev,
            output,
            log[0],
        )
