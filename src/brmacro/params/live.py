"""The ``live`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

LIVE = S(
    "Live connectors (source: live): HTTP cache, retry policy and the services' base URLs.",
    _schema={"additionalProperties": False},
    cache_dir=P(
        ("string", "null"),
        ".cache/live",
        (
            "Root of the on-disk HTTP cache and the append-only raw archive of responses with their fetch times "
            "(relative to the working directory); null disables both."
        ),
    ),
    timeout_seconds=P(
        "number",
        30.0,
        "Connect and read timeout of one request, seconds.",
        maximum=600,
        exclusiveMinimum=0,
    ),
    retries=P(
        "integer",
        4,
        "Retries after the first attempt on HTTP 5xx, 429, timeouts and connection errors.",
        maximum=20,
        minimum=0,
    ),
    backoff_seconds=P(
        "number",
        1.0,
        (
            "Base of the exponential backoff with full jitter: retry k waits uniform in [0, min(max_backoff_seconds, "
            "backoff_seconds * 2^(k-1))]."
        ),
        maximum=600,
        minimum=0,
    ),
    max_backoff_seconds=P(
        "number",
        60.0,
        "Cap of one wait, also of a 429 Retry-After.",
        maximum=3600,
        minimum=0,
    ),
    on_source_failure=P(
        "string",
        "fail",
        (
            "What a live source that still fails after its retries does: fail (its bronze job fails; "
            "with --keep-going, "
            "scripts/daily, only its branch and the report are missing) or stale (its snapshot is rebuilt from the "
            "connector's cache, every row still released on or before the session, and marked stale in the artifact "
            "metadata brmacro.stale, the run status and the report). A chunk not in the cache still fails."
        ),
        enum=["fail", "stale"],
    ),
    sources=S(
        "Per-source settings.",
        _schema={"additionalProperties": False},
        bcb_sgs=S(
            "BCB SGS JSON API (bcdata.sgs.<code>/dados), one request per series and calendar year.",
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://api.bcb.gov.br/dados/serie",
                "Root URL of the bcb_sgs service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                400,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
        ),
        fred=S(
            "FRED/ALFRED series/observations, one request per series and calendar year (paged).",
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://api.stlouisfed.org/fred",
                "Root URL of the fred service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                730,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
            api_key_env=P(
                "string",
                "FRED_API_KEY",
                (
                    "Environment variable holding the FRED API key (required for source live; never logged, never in "
                    "cache names)."
                ),
                minLength=1,
            ),
            page_limit=P(
                "integer",
                100000,
                "Rows per FRED request (FRED's maximum is 100000); larger answers are paged by offset.",
                minimum=1,
                maximum=100000,
            ),
        ),
        bcb_ptax=S(
            "BCB Olinda PTAX OData (CotacaoDolarPeriodo), one request per calendar year.",
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata",
                "Root URL of the bcb_ptax service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                7,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
        ),
        bcb_focus=S(
            (
                "BCB Olinda Expectativas OData (ExpectativasMercadoAnuais, ExpectativasMercadoInflacao12Meses), one "
                "request per entity and calendar year (paged)."
            ),
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://olinda.bcb.gov.br/olinda/servico/Expectativas/versao/v1/odata",
                "Root URL of the bcb_focus service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                14,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
            page_size=P(
                "integer",
                10000,
                "Rows per Olinda request ($top); larger answers are paged with $skip.",
                maximum=1000000,
                minimum=1,
            ),
            years_ahead=P(
                "integer",
                1,
                "Calendar-year references kept: from the survey's year to this many years after it.",
                maximum=10,
                minimum=0,
            ),
        ),
        yahoo=S(
            "Yahoo Finance chart API (connector brmacro.bronze.live.yahoo).",
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://query1.finance.yahoo.com",
                "Root URL of the yahoo service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                7,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
            tickers=P(
                "array",
                [
                    "BRL=X",
                    "EURUSD=X",
                    "^BVSP",
                    "VALE3.SA",
                    "^GSPC",
                    "^VIX",
                    "DX-Y.NYB",
                    "CL=F",
                    "GC=F",
                    "HG=F",
                    "ZS=F",
                    "EWZ",
                ],
                "Yahoo tickers fetched (the ones the pipeline uses).",
                minItems=1,
                uniqueItems=True,
                items={"type": "string"},
            ),
            continuous_futures=P(
                ("array", "null"),
                None,
                "Tickers whose jumps are flagged as rolls (null: every ticker ending in =F).",
                uniqueItems=True,
                items={"type": "string"},
            ),
            jump_threshold=P(
                "number",
                0.08,
                "Absolute daily log return of a continuous future above which roll_jump is set.",
                maximum=1,
                exclusiveMinimum=0,
            ),
            user_agent=P(
                "string",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                "User-Agent header sent to Yahoo.",
            ),
        ),
        b3_market_data=S(
            "B3 settlement files (connector brmacro.bronze.live.b3).",
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://www.b3.com.br",
                "Root URL of the b3_market_data service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                7,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
            report=P(
                "string",
                "SPRD",
                "B3 PriceReport file: SPRD (settlement prices, ~50 kB) or PR (full report, ~5 MB).",
                enum=["SPRD", "PR"],
            ),
            commodities=P(
                "array",
                ["DAP", "DI1"],
                "Futures kept from each session file.",
                minItems=1,
                uniqueItems=True,
                items={"type": "string", "enum": ["DI1", "DAP"]},
            ),
            price_tolerance=P(
                "number",
                0.001,
                (
                    "Relative tolerance between the settlement PU and 100,000/(1+rate)^(du/252); larger means a unit "
                    "error."
                ),
                maximum=0.1,
                exclusiveMinimum=0,
            ),
            known_missing_sessions=P(
                "array",
                [],
                "Sessions B3 publishes no file for (skipped instead of failing).",
                uniqueItems=True,
                items={"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            ),
            history_start=P(
                ("string", "null"),
                None,
                "First session whose file B3 still serves (earlier sessions are not requested; null: no limit).",
                pattern="^\\d{4}-\\d{2}-\\d{2}$",
            ),
            user_agent=P(
                "string",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                "User-Agent header sent to B3.",
            ),
        ),
        treasury_gov=S(
            "US Treasury daily par yield curve CSVs (connector brmacro.bronze.live.treasury).",
            _schema={"additionalProperties": False},
            base_url=P(
                "string",
                "https://home.treasury.gov",
                "Root URL of the treasury_gov service (tests point it at the local fixture server).",
                pattern="^https?://",
            ),
            settle_days=P(
                "integer",
                7,
                (
                    "Days after a yearly chunk's last day after which a cached chunk is final and never re-fetched; "
                    "before that, a chunk fetched before the end of the session (America/Sao_Paulo) is fetched again."
                ),
                maximum=3660,
                minimum=0,
            ),
            curves=P(
                "object",
                {"nominal": "daily_treasury_yield_curve", "real": "daily_treasury_real_yield_curve"},
                "Curve name -> Treasury CSV type parameter.",
                additionalProperties={"type": "string"},
            ),
        ),
    ),
)
