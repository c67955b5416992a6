"""The ``risk`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

RISK = S(
    "Risk layer. All figures are fractions of NAV; VaR, CVaR and losses are positive numbers for losses.",
    _schema={"additionalProperties": False},
    var=S(
        (
            "risk_var estimation (historical, parametric Ledoit-Wolf normal, Monte Carlo t-marginals with a Gaussian "
            "copula)."
        ),
        _schema={"additionalProperties": False},
        window=P(
            "integer",
            756,
            "B3 sessions of returns ending at the session used for the historical VaR and all estimates.",
            maximum=10000,
            minimum=20,
        ),
        min_obs=P(
            "integer",
            250,
            "Minimum complete sessions for the historical VaR; fewer falls back to parametric, stated in the note.",
            maximum=10000,
            minimum=10,
        ),
        confidences=P(
            "array",
            [0.95, 0.99],
            "One-day confidence levels reported for every method (limits read 0.95 and 0.99).",
            uniqueItems=True,
            items={"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 1.0},
            minItems=1,
        ),
        mc_draws=P(
            "integer",
            10000,
            "Monte Carlo scenarios.",
            maximum=10000000,
            minimum=1000,
        ),
        mc_seed=P(
            "integer",
            7,
            (
                "Monte Carlo seed; the generator is seeded with [mc_seed, ordinal of the session] so a session repeats "
                "its bytes."
            ),
            maximum=4294967295,
            minimum=0,
        ),
        t_fit=P(
            "string",
            "moments",
            (
                "Student-t marginal fit: moments (nu = 4 + 6 / excess kurtosis, variance kept) or mle "
                "(scipy.stats.t.fit, location 0)."
            ),
            enum=["moments", "mle"],
        ),
        min_df=P(
            "number",
            2.5,
            "Lower clamp of the fitted degrees of freedom.",
            maximum=1000,
            exclusiveMinimum=2.0,
        ),
        max_df=P(
            "number",
            1000.0,
            "Upper clamp of the degrees of freedom; a marginal at it is drawn normal.",
            maximum=1000000,
            minimum=30,
        ),
        components_confidence=P(
            "number",
            0.95,
            (
                "Confidence of the marginal and component (Euler, parametric) VaR; percentage contributions do not "
                "depend on it."
            ),
            exclusiveMinimum=0.5,
            exclusiveMaximum=1.0,
        ),
    ),
    stress=S(
        (
            "risk_stress scenarios (full repricing of DI1 and ZN from the shocked yield), reverse "
            "stress and historical "
            "replay."
        ),
        _schema={"additionalProperties": False},
        reverse_loss=P(
            "number",
            0.1,
            "Loss (NAV fraction) the reverse stress solves for.",
            maximum=1,
            exclusiveMinimum=0,
        ),
        reverse_max_multiplier=P(
            "number",
            5.0,
            (
                "A reverse-stress multiple above this is flagged as beyond the plausible range; multiples are searched "
                "up to 20 times it."
            ),
            maximum=1000,
            exclusiveMinimum=0,
        ),
        factors=P(
            "object",
            {
                "USDBRL": {"type": "price", "instruments": ["USDBRL"]},
                "DI_PRE": {"type": "yield", "instruments": ["DI1_1Y", "DI1_2Y", "DI1_5Y", "DI1_10Y"]},
                "NTN_B_REAL": {"type": "price", "instruments": []},
                "IBOVESPA": {"type": "price", "instruments": ["IBOV"]},
                "SP500": {"type": "price", "instruments": ["SPX"]},
                "OIL": {"type": "price", "instruments": []},
                "UST_NOM": {"type": "yield", "instruments": ["UST_10Y"]},
                "CDS_BR": {"type": "price", "instruments": []},
            },
            (
                "Shock factor -> how it applies (price move on weights, or yield change repricing the "
                "instrument) and to"
                " which instruments. A factor with no instruments shocks nothing (its exposure is reported unmapped)."
            ),
            additionalProperties={
                "type": "object",
                "description": "One factor.",
                "additionalProperties": False,
                "required": ["type", "instruments"],
                "properties": {
                    "type": {
                        "type": "string",
                        "enum": ["price", "yield"],
                        "description": (
                            "price: P&L = weight x shock; yield: P&L = weight x (P(y + dy) / P(y) - 1), DI1 PU or ZN "
                            "note repriced from the shocked yield."
                        ),
                    },
                    "instruments": {
                        "type": "array",
                        "uniqueItems": True,
                        "items": {"type": "string"},
                        "description": "Instrument table names the factor moves.",
                    },
                },
            },
        ),
        scenarios=P(
            "object",
            {
                "taper_tantrum_2013": {
                    "period": "May-Aug 2013 (taper tantrum; stylised magnitudes)",
                    "window": "taper_tantrum_2013",
                    "shocks": {"USDBRL": 0.15, "DI_PRE": 0.02, "NTN_B_REAL": -0.08, "IBOVESPA": -0.15, "UST_NOM": 0.01},
                },
                "br_crisis_2015": {
                    "period": "Sep 2015-Feb 2016 (downgrade to junk; stylised magnitudes)",
                    "window": "br_crisis_2015",
                    "shocks": {"USDBRL": 0.15, "DI_PRE": 0.04, "NTN_B_REAL": -0.15, "IBOVESPA": -0.25},
                },
                "covid_2020": {
                    "period": "Feb-Mar 2020 (COVID crash; stylised magnitudes)",
                    "window": "covid_2020",
                    "shocks": {"USDBRL": 0.2, "DI_PRE": 0.02, "IBOVESPA": -0.35, "SP500": -0.3, "OIL": -0.5},
                },
                "br_election_2022": {
                    "period": "Oct-Nov 2022 (election and transition-PEC fiscal scare: DI up 175-235 bp, USDBRL flat)",
                    "window": "br_election_2022",
                    "shocks": {"DI_PRE": {"du": [252, 1008], "dy": [0.0175, 0.0235]}},
                },
                "br_fiscal_crisis": {
                    "period": "hypothetical fiscal crisis (2015 magnitude)",
                    "shocks": {"USDBRL": 0.25, "DI_PRE": 0.035, "NTN_B_REAL": -0.1, "IBOVESPA": -0.18, "CDS_BR": 0.4},
                },
                "global_risk_off": {
                    "period": "hypothetical global risk-off (COVID magnitude)",
                    "shocks": {
                        "USDBRL": 0.2,
                        "DI_PRE": 0.015,
                        "IBOVESPA": -0.3,
                        "SP500": -0.25,
                        "OIL": -0.4,
                        "UST_NOM": -0.005,
                        "CDS_BR": 0.3,
                    },
                },
                "bear_steepener": {
                    "period": "hypothetical DI bear steepener (1Y +50, 2Y +100, 5Y +175, 10Y +200 bp)",
                    "shocks": {"DI_PRE": {"du": [252, 504, 1260, 2520], "dy": [0.005, 0.01, 0.0175, 0.02]}},
                },
                "bull_flattener": {
                    "period": "hypothetical DI bull flattener (1Y -25, 2Y -50, 5Y -100, 10Y -125 bp)",
                    "shocks": {"DI_PRE": {"du": [252, 504, 1260, 2520], "dy": [-0.0025, -0.005, -0.01, -0.0125]}},
                },
                "copom_hawkish_surprise": {
                    "period": "hypothetical COPOM surprise +100 bp at the front, fading with a 1-year mean life",
                    "shocks": {"DI_PRE": {"front": 0.01, "fade_years": 1.0}},
                },
                "copom_dovish_surprise": {
                    "period": "hypothetical COPOM surprise -100 bp at the front, fading with a 1-year mean life",
                    "shocks": {"DI_PRE": {"front": -0.01, "fade_years": 1.0}},
                },
            },
            (
                "Hypothetical scenarios (Part B 10.2); name -> period label, optional replay window the "
                "magnitudes come "
                "from (the note then shows that window's realised moves), and shocks by factor. Historical magnitudes "
                "and their sources: docs/risk.md."
            ),
            additionalProperties={
                "type": "object",
                "description": "One scenario.",
                "additionalProperties": False,
                "required": ["shocks"],
                "properties": {
                    "period": {
                        "type": "string",
                        "default": "",
                        "description": "What the magnitudes are (historical period or hypothetical).",
                    },
                    "window": {
                        "type": "string",
                        "description": "Name of a replay window whose realised moves the note reports.",
                    },
                    "shocks": {
                        "type": "object",
                        "description": "Factor -> shock.",
                        "additionalProperties": {
                            "description": (
                                "A yield shock (decimal per year): a number (parallel), a curve {du, dy} (linear in du "
                                "between the points, flat beyond), or a front shock fading along the curve {front, "
                                "fade_years}: dy(du) = front (1 - exp(-x)) / x with x = du / 252 / fade_years. A price "
                                "shock is a number (fractional move)."
                            ),
                            "oneOf": [
                                {"type": "number", "minimum": -1.0, "maximum": 5.0},
                                {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["du", "dy"],
                                    "properties": {
                                        "du": {
                                            "type": "array",
                                            "minItems": 1,
                                            "items": {"type": "integer", "minimum": 1, "maximum": 10080},
                                            "description": "Tenors in ANBIMA business days, increasing.",
                                        },
                                        "dy": {
                                            "type": "array",
                                            "minItems": 1,
                                            "items": {"type": "number", "minimum": -0.5, "maximum": 0.5},
                                            "description": "Yield change at each tenor (decimal per year).",
                                        },
                                    },
                                },
                                {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["front", "fade_years"],
                                    "properties": {
                                        "front": {
                                            "type": "number",
                                            "minimum": -0.5,
                                            "maximum": 0.5,
                                            "description": "Shock at the very front (decimal per year).",
                                        },
                                        "fade_years": {
                                            "type": "number",
                                            "exclusiveMinimum": 0,
                                            "maximum": 30.0,
                                            "description": (
                                                "Mean life (years) of the exponentially decaying overnight-rate shock."
                                            ),
                                        },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
        ),
        replay_windows=P(
            "array",
            [
                {"name": "taper_tantrum_2013", "start": "2013-05-22", "end": "2013-08-30"},
                {"name": "br_crisis_2015", "start": "2015-09-01", "end": "2016-02-29"},
                {"name": "covid_2020", "start": "2020-02-20", "end": "2020-03-31"},
                {"name": "br_election_2022", "start": "2022-10-01", "end": "2022-11-30"},
            ],
            (
                "Crisis windows replayed on today's weights, from the close of start to the close of end; "
                "returns older "
                "than silver.lookback_sessions come from silver_returns.crisis (bronze.crisis_windows), a "
                "window absent "
                'from both is reported "not in history".'
            ),
            uniqueItems=True,
            items={
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "start", "end"],
                "properties": {
                    "name": {"type": "string", "description": "Window name."},
                    "start": {"type": "string", "format": "date", "description": "First day (ISO)."},
                    "end": {"type": "string", "format": "date", "description": "Last day (ISO)."},
                },
            },
        ),
    ),
    limits=S(
        (
            "Single source of truth for risk limits and the alerts built on them (VaR alerts, limit "
            "alert at utilisation"
            " 1, critical drawdown). Utilisation = value / limit, WARNING at warn_fraction, BREACHED at 1."
        ),
        _schema={"additionalProperties": False},
        var_method=P(
            "string",
            "max",
            "Which risk_var method the VaR limits use; max takes the largest of the three.",
            enum=["historical", "parametric", "monte_carlo", "max"],
        ),
        var_95=P(
            "number",
            0.03,
            "Maximum one-day VaR 95% (NAV fraction).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        var_99=P(
            "number",
            0.05,
            "Maximum one-day VaR 99% (NAV fraction).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        max_drawdown=P(
            "number",
            0.1,
            (
                "Maximum drawdown of the model book over the five-session window (NAV fraction); also the critical "
                "drawdown alert."
            ),
            maximum=1,
            exclusiveMinimum=0,
        ),
        max_gross_leverage=P(
            "number",
            8.0,
            "Maximum sum of absolute weights over all instruments (times NAV).",
            maximum=100,
            exclusiveMinimum=0,
        ),
        max_position=P(
            "number",
            0.25,
            "Maximum absolute weight of one position outside notional_exempt_classes (NAV fraction).",
            maximum=100,
            exclusiveMinimum=0,
        ),
        max_asset_class_exposure=P(
            "number",
            0.5,
            "Maximum gross exposure of one asset class outside notional_exempt_classes (NAV fraction).",
            maximum=100,
            exclusiveMinimum=0,
        ),
        max_risk_contribution=P(
            "number",
            0.4,
            "Maximum share of the parametric VaR from one position; also the per-position risk budget.",
            maximum=1,
            exclusiveMinimum=0,
        ),
        asset_class_risk_budget=P(
            "number",
            0.7,
            "Maximum share of the parametric VaR from one asset class (risk budget).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        max_risk_contribution_by_size=P(
            "array",
            [1.0, 0.55],
            (
                "Share-of-VaR limit per position for books of exactly 1, 2, ... positions, replacing "
                "max_risk_contribution where it cannot be met (shares sum to 1, so with n positions the largest is "
                "at least 1/n; a 40 % limit needs 3 or more). Larger books use max_risk_contribution "
                "(docs/portfolio.md)."
            ),
            items={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            minItems=0,
            maxItems=10,
        ),
        asset_class_risk_budget_by_size=P(
            "array",
            [1.0],
            (
                "Share-of-VaR limit per asset class for books of exactly 1, 2, ... asset classes, replacing "
                "asset_class_risk_budget where it cannot be met. Larger books use asset_class_risk_budget."
            ),
            items={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            minItems=0,
            maxItems=10,
        ),
        max_strategy_daily_loss=P(
            "number",
            0.02,
            "Maximum daily loss per strategy (NAV fraction); N/A while the book has no per-strategy attribution.",
            maximum=1,
            exclusiveMinimum=0,
        ),
        max_asset_class_daily_loss=P(
            "number",
            0.03,
            "Maximum daily loss of one asset class of the model book (NAV fraction).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        daily_loss=P(
            "number",
            0.02,
            "Daily loss limit of the model book (losses only; NAV fraction).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        weekly_loss=P(
            "number",
            0.05,
            "Loss limit over the last five B3 sessions (losses only; NAV fraction).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        dv01_brl_per_bp=P(
            "number",
            50000.0,
            "Maximum gross DV01 of the rates instruments in BRL per basis point.",
            maximum=1000000000.0,
            exclusiveMinimum=0,
        ),
        max_stress_loss=P(
            "number",
            0.2,
            (
                "Maximum loss (NAV fraction) of the worst risk_stress scenario, fully repriced; the stress_loss limit "
                "row and the STRESS_LOSS alert."
            ),
            exclusiveMinimum=0,
            maximum=1.0,
        ),
        max_open_interest_share=P(
            "number",
            0.05,
            (
                "Liquidity limit, largest |position| / open interest of its DI1 contract in the session's "
                "B3 settlement "
                "file (model book, held book and proposed book; DOL, IND, ES and ZN have no open interest "
                "in bronze and "
                "are not measured)."
            ),
            exclusiveMinimum=0,
            maximum=1,
        ),
        notional_exempt_classes=P(
            "array",
            ["rates_br", "rates_us"],
            (
                "Asset classes exempt from the notional caps (single position, asset-class exposure); they are limited "
                "by DV01 and risk contribution."
            ),
            uniqueItems=True,
            items={"type": "string", "enum": ["rates_br", "fx", "equity_br", "rates_us", "equity_us"]},
        ),
        warn_fraction=P(
            "number",
            0.8,
            "Utilisation from which a limit is WARNING.",
            exclusiveMinimum=0,
            maximum=1,
        ),
    ),
    alerts=S(
        "Thresholds used only by alerts (Part B 11.2); VaR, limit and critical drawdown alerts read risk.limits.",
        _schema={"additionalProperties": False},
        drawdown_warning=P(
            "number",
            0.05,
            "Drawdown (NAV fraction) from which a warning alert fires.",
            maximum=1,
            exclusiveMinimum=0,
        ),
        conviction_surge=P(
            "number",
            0.3,
            "Absolute change of a signal's conviction between sessions that fires an alert.",
            maximum=2,
            exclusiveMinimum=0,
        ),
        signal_flip_count=P(
            "integer",
            1,
            "Number of direction flips versus the previous session that fires an alert.",
            maximum=100,
            minimum=1,
        ),
        stale_data_sessions=P(
            ("integer", "object"),
            {"default": 2, "bronze_bcb_focus": 6},
            (
                "B3 sessions a bronze source's latest observation may lag the session before STALE_DATA "
                "fires (a number,"
                " or a mapping source -> sessions with an optional 'default'); partition terms, never a wall-clock age."
            ),
            maximum=2520,
            minimum=0,
            additionalProperties={"type": "integer", "maximum": 260, "minimum": 0},
        ),
        limit_breach_utilisation=P(
            "number",
            1.0,
            (
                "Limit utilisation (fraction) from which LIMIT_BREACH fires; 1.0 = at the limit as risk_limits marks "
                "BREACHED."
            ),
            maximum=10,
            exclusiveMinimum=0,
        ),
        pipeline_failure_missing=P(
            "integer",
            0,
            "Missing or unreadable input tables of the report tolerated before PIPELINE_FAILURE fires.",
            maximum=1000,
            minimum=0,
        ),
        agent_stale_missing=P(
            "integer",
            0,
            "Agents without a composite signal for the session tolerated before AGENT_STALE fires.",
            maximum=5,
            minimum=0,
        ),
    ),
)
