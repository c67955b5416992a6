"""The ``silver`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

SILVER = S(
    "Silver layer (silver_curves, silver_returns, silver_macro).",
    _schema={"additionalProperties": False},
    lookback_sessions=P(
        "integer",
        800,
        (
            "B3 sessions (ending at the partition date) covered by silver_curves and silver_returns. When the bronze "
            "history starts later, the window starts at the first session with every required input."
        ),
        maximum=10000,
        minimum=2,
    ),
    di_tenors_du=P(
        "array",
        [21, 63, 126, 252, 504, 756, 1260, 2520],
        'Standard tenors (ANBIMA business days) of the DI_PRE, BR_REAL and BR_BEI curves, labelled "<du>du".',
        uniqueItems=True,
        items={"type": "integer", "maximum": 10080, "minimum": 1},
        minItems=1,
    ),
    us_tenors=P(
        "array",
        ["3M", "6M", "1Y", "2Y", "5Y", "10Y", "30Y"],
        (
            "Standard tenors of UST_NOM, UST_REAL and US_BEI (par yields interpolated linearly in years, never "
            "extrapolated)."
        ),
        uniqueItems=True,
        items={"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?[MY]$"},
        minItems=1,
    ),
    spread_tenors=P(
        "array",
        ["1Y", "2Y", "5Y", "10Y"],
        "Tenors of DI_UST_SPREAD = DI_PRE zero rate at years x 252 du minus UST_NOM par yield.",
        uniqueItems=True,
        items={"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?[MY]$"},
        minItems=1,
    ),
    slopes=P(
        "object",
        {
            "DI_1s2s": ["DI_PRE", "252du", "504du"],
            "DI_2s5s": ["DI_PRE", "504du", "1260du"],
            "DI_1s10s": ["DI_PRE", "252du", "2520du"],
            "DI_5s10s": ["DI_PRE", "1260du", "2520du"],
            "UST_2s10s": ["UST_NOM", "2Y", "10Y"],
            "UST_2s30s": ["UST_NOM", "2Y", "30Y"],
        },
        "Slope name -> [curve, short tenor label, long tenor label]; value = long minus short.",
        additionalProperties={
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string"},
            "minItems": 3,
            "maxItems": 3,
        },
    ),
    nelson_siegel=S(
        "Nelson-Siegel fit of each curve's raw vertices on the partition date.",
        _schema={"additionalProperties": False},
        tau_bounds=P(
            "array",
            [0.05, 10.0],
            "Bounds of the decay tau, in years.",
            uniqueItems=True,
            items={"type": "number", "maximum": 100, "exclusiveMinimum": 0},
            minItems=2,
            maxItems=2,
        ),
        beta_bound=P(
            "number",
            1.0,
            "Bound on |beta0|, |beta1|, |beta2| (decimal per year).",
            maximum=10,
            exclusiveMinimum=0,
        ),
        tau_grid_size=P(
            "integer",
            60,
            "Log-spaced tau grid (betas by linear least squares) that picks the deterministic start point.",
            maximum=10000,
            minimum=2,
        ),
        min_points=P(
            "integer",
            4,
            "Fewer vertices than this and the curve gets no fit (row omitted, warning logged).",
            maximum=100,
            minimum=4,
        ),
    ),
    treasury_ffill_sessions=P(
        "integer",
        5,
        (
            "A Treasury curve is carried at most this many B3 sessions; beyond, the nominal curve is an error and the "
            "real curve a gap."
        ),
        maximum=2520,
        minimum=0,
    ),
    instrument_ffill_sessions=P(
        "integer",
        3,
        (
            "A tradable's level is carried at most this many B3 sessions in silver_returns; beyond, an error naming "
            "instrument and session."
        ),
        maximum=2520,
        minimum=0,
    ),
    price_ffill_sessions=P(
        "integer",
        5,
        "Series of the prices table are carried at most this many B3 sessions (as-of join); beyond, rows are absent.",
        maximum=2520,
        minimum=0,
    ),
    rate_ffill_sessions=P(
        "integer",
        5,
        "CDI and SOFR are carried at most this many B3 sessions; beyond, an error.",
        maximum=2520,
        minimum=0,
    ),
    vol_windows=P(
        "array",
        [21, 63, 252],
        "Realised-vol windows in sessions (fixed by the schema's vol_21, vol_63, vol_252 columns).",
        minItems=1,
        uniqueItems=True,
        items={"type": "integer", "minimum": 2, "maximum": 10000, "enum": [21, 63, 252]},
    ),
    z_window=P(
        "integer",
        252,
        "Window of the level z-score (column z_252).",
        maximum=10000,
        minimum=2,
    ),
    annualisation=P(
        "number",
        252,
        "Sessions per year used to annualise vol (x sqrt).",
        maximum=366,
        exclusiveMinimum=0,
    ),
    ust_tenor_years=P(
        "number",
        10.0,
        "Tenor (years) of the Treasury par yield that is the UST_10Y level and the par bond of its duration.",
        maximum=50,
        exclusiveMinimum=0,
    ),
    return_series=S(
        "Source identifiers of the series the returns use.",
        _schema={"additionalProperties": False},
        cdi=P(
            "string",
            "bcb_sgs:12",
            "Daily CDI (decimal per day) in bronze_bcb_sgs.",
        ),
        sofr=P(
            "string",
            "fred:SOFR",
            "SOFR (decimal per year) in bronze_fred.",
        ),
        ibov=P(
            "string",
            "^BVSP",
            "Yahoo ticker of the IBOV level.",
        ),
        spx=P(
            "string",
            "^GSPC",
            "Yahoo ticker of the SPX level.",
        ),
    ),
    macro=S(
        "silver_macro parameters.",
        _schema={"additionalProperties": False},
        hp_lambda_monthly=P(
            "number",
            129600,
            "HP-filter lambda for monthly series (br_output_gap from log IBC-Br).",
            maximum=1000000000.0,
            exclusiveMinimum=0,
        ),
        hp_lambda_quarterly=P(
            "number",
            1600,
            "HP-filter lambda for quarterly series (br_gdp_gap from the chained GDP q/q index).",
            maximum=1000000000.0,
            exclusiveMinimum=0,
        ),
        hp_min_obs_monthly=P(
            "integer",
            36,
            "Fewest consecutive monthly observations for an HP gap.",
            maximum=10000,
            minimum=3,
        ),
        hp_min_obs_quarterly=P(
            "integer",
            12,
            "Fewest consecutive quarterly observations for an HP gap.",
            maximum=10000,
            minimum=3,
        ),
        core_measures=P(
            "array",
            ["br_ipca_core_ex0", "br_ipca_core_ex3", "br_ipca_core_ma", "br_ipca_core_dp", "br_ipca_core_p55"],
            "Registry names of the IPCA core measures averaged (12-month each) into br_ipca_core_12m.",
            minItems=1,
            uniqueItems=True,
            items={"type": "string"},
        ),
        core_min_measures=P(
            "integer",
            3,
            "Fewest core measures with a 12-month value for br_ipca_core_12m on a month.",
            maximum=20,
            minimum=1,
        ),
        ibc_yoy_series=P(
            "string",
            "br_ibc_br_nsa",
            "Registry name of the IBC-Br index whose 12-month change is br_ibc_br_yoy.",
        ),
        max_abs_decimal=P(
            "number",
            1.5,
            "Unit check; a 'dec' series beyond this in absolute value is refused (percent given instead of decimal).",
            maximum=100,
            exclusiveMinimum=0,
        ),
        max_abs_decimal_day=P(
            "number",
            0.01,
            "Unit check for 'dec_day' series (CDI, Selic per day).",
            maximum=1,
            exclusiveMinimum=0,
        ),
        focus=P(
            "object",
            {
                "focus_ipca_12m": ["IPCA", "12m"],
                "focus_ipca_cy0": ["IPCA", "cy0"],
                "focus_ipca_cy1": ["IPCA", "cy1"],
                "focus_selic_cy0": ["Selic", "cy0"],
                "focus_selic_cy1": ["Selic", "cy1"],
                "focus_gdp_cy0": ["PIB Total", "cy0"],
                "focus_fx_cy0": ["Câmbio", "cy0"],
            },
            (
                "Focus output name -> [indicator, reference]; reference is 12m, cy0 (survey year), cy1 "
                "(next year) or a "
                "year."
            ),
            additionalProperties={
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "string"},
                "minItems": 2,
                "maxItems": 2,
            },
        ),
    ),
)
