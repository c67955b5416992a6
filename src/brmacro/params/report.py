"""The ``report`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

REPORT = S(
    "Report layer. Alert thresholds and risk limits are read from risk.limits and risk.alerts, not from here.",
    _schema={"additionalProperties": False},
    title=P(
        "string",
        "brmacro daily report",
        "Heading of the HTML and Markdown report (the session date is appended).",
    ),
    key_signals_per_agent=P(
        "integer",
        3,
        "Non-composite signals listed per agent in the Agent views section, highest confidence first.",
        maximum=100,
        minimum=0,
    ),
    track_record=P(
        "string",
        "mtd",
        (
            "Window of the report's track record (summary MTD/YTD, daily and cumulative P&L in BRL, drawdown from the "
            "window's peak, VaR exceptions with Kupiec's test, equity curve): mtd (sessions of the "
            "report's month), ytd "
            "(of its year) or a quoted start date 'YYYY-MM-DD'. The report reads the portfolio_sizing and risk_var of "
            "every session of the window (two sessions earlier: P&L(D) = sizing(D-2) x returns(D)), so "
            "a cold run builds"
            " the upstream assets of each of them: mtd costs at most ~23 sessions (demo, 2 cores: about 2-3 s of wall "
            "time per extra session), ytd up to ~250 (several minutes cold; nothing extra once results/ persists). YTD "
            "in the summary needs ytd or an earlier start date."
        ),
        pattern="^(mtd|ytd|\\d{4}-\\d{2}-\\d{2})$",
    ),
    track_record_max_sessions=P(
        "integer",
        260,
        (
            "Longest track-record window in B3 sessions (bounded inputs); a longer window is refused when the run is "
            "planned, naming this key. At most 780 because the returns come from one silver_returns (800 sessions)."
        ),
        minimum=1,
        maximum=780,
    ),
    outliers=P(
        "string",
        "flag",
        (
            "What a flagged input does (a session move of a price or rate the book uses at or beyond outlier_z robust "
            "standard deviations of its own history). flag = the report and the INPUT_OUTLIER alert say so; hold = in "
            "addition, the session's orders are withheld in the report (no new orders from flagged inputs)."
        ),
        enum=["flag", "hold"],
    ),
    outlier_z=P(
        "number",
        5.0,
        (
            "Threshold of the robust z (session change minus the median of the series' previous daily changes, over "
            "1.4826 x their median absolute deviation). On the demo, 5 flags 2 sessions in 560 besides 2026-12-01 (a "
            "+4.6% USDBRL and a -6.2% SPX day)."
        ),
        minimum=2,
        maximum=50,
    ),
    outlier_window=P(
        "integer",
        252,
        "Previous daily changes (B3 sessions) forming each series' history for the robust z.",
        minimum=20,
        maximum=780,
    ),
    outlier_min_obs=P(
        "integer",
        60,
        "A series with fewer previous changes is listed as not checked (never flagged).",
        minimum=10,
        maximum=780,
    ),
    dispatch=S(
        (
            "Optional delivery of fired alerts (Slack-style webhook, SMTP) by the Snakefile's onsuccess handler; never "
            "required for a run to succeed."
        ),
        _schema={"additionalProperties": False},
        cooldown_minutes=P(
            "number",
            30,
            (
                "A fired rule is not re-sent within this many minutes; the state file is <results>/alerts_state.json, "
                "outside partitions."
            ),
            maximum=10080,
            minimum=0,
        ),
        timeout_seconds=P(
            "number",
            10,
            "Network timeout of one webhook POST or SMTP session, seconds.",
            maximum=600,
            exclusiveMinimum=0,
        ),
        latest_only=P(
            "boolean",
            True,
            "Dispatch only the alerts of the last session of a run, so a backfill does not send one message per day.",
        ),
        deadline_seconds=P(
            "number",
            60,
            (
                "Total time the whole dispatch (every channel) may take, seconds; a delivery still running then is "
                "abandoned and reported in the run status, so a slow server never holds the run or its lock."
            ),
            exclusiveMinimum=0,
            maximum=3600,
        ),
    ),
    rates=S(
        (
            "The report's rates desk section (COPOM-implied Selic path from the DI1 curve on a point-in-time COPOM "
            "calendar, carry and roll-down, DV01 ladder, slopes, DAP real rates and breakevens, with 1-day, 1-week and "
            "month-to-date changes from the history inside the session's silver tables)."
        ),
        _schema={"additionalProperties": False},
        copom_meetings_ahead=P(
            "integer",
            8,
            (
                "Upcoming COPOM meetings priced from the session's DI1 settlements; only meetings whose calendar was "
                "announced on or before the session (src/brmacro/data/copom_meetings.csv)."
            ),
            minimum=1,
            maximum=24,
        ),
        carry_horizons_du=P(
            "array",
            [21, 63],
            "Horizons of carry and roll-down, ANBIMA business days (21 is about one month, 63 three).",
            items={"type": "integer", "minimum": 1, "maximum": 252},
            minItems=1,
            maxItems=4,
            uniqueItems=True,
        ),
        dv01_buckets_years=P(
            "array",
            [1.0, 2.0, 5.0],
            (
                "Increasing edges of the DV01 ladder's maturity buckets in years ([1, 2, 5] gives 0-1y, 1-2y, 2-5y, "
                "5y+); a maturity on an edge belongs to the longer bucket."
            ),
            items={"type": "number", "exclusiveMinimum": 0, "maximum": 30},
            minItems=1,
            maxItems=8,
            uniqueItems=True,
        ),
        slopes=P(
            "array",
            ["DI_1s2s", "DI_2s5s", "DI_5s10s"],
            (
                "Names of silver_curves slopes (silver.slopes) shown with their changes; a name silver does"
                " not compute "
                "is shown as n/a."
            ),
            items={"type": "string"},
            uniqueItems=True,
            maxItems=12,
        ),
    ),
    backtest=S(
        "Range backtest tear sheet (P&L(D) = portfolio_sizing(D-2) . silver_returns(D), net of costs).",
        _schema={"additionalProperties": False},
        annualisation=P(
            "integer",
            252,
            "B3 sessions per year used to annualise return, volatility and Sharpe.",
            maximum=366,
            minimum=1,
        ),
        rolling_sessions=P(
            "integer",
            63,
            (
                "Window (B3 sessions) of the tear sheet's rolling Sharpe and volatility of the net excess returns "
                "(backtest_rolling table; docs/backtest.md)."
            ),
            minimum=2,
            maximum=2520,
        ),
    ),
)
