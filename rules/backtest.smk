# Range backtest tear sheet: `snakemake backtest --config start=... end=...`.
rule backtest:
    input:
        sizing=backtest_sizing(),
        returns=part("silver_returns", DATES[-1].isoformat())[0],
    output:
        html=report(
            f"{BACKTEST_DIR}/tearsheet.html",
            caption="../report/backtest.rst",
            category="Backtest",
        ),
        table=f"{BACKTEST_DIR}/backtest.parquet",
        summary=f"{BACKTEST_DIR}/backtest_summary.parquet",
        monthly=f"{BACKTEST_DIR}/backtest_monthly.parquet",
    log:
        f"{RESULTS}/logs/backtest/{DATES[0]}_{DATES[-1]}.log",
    params:
        cfg=backtest_params(),
    run:
        run_backtest(
            input.sizing,
            input.returns,
            params.cfg,
            output.html,
            output.table,
            log[0],
        )
