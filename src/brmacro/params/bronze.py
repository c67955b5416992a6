"""The ``bronze`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

BRONZE = S(
    "Bronze snapshots (what each source said as of the session) - history windows shared by demo and live sources.",
    _schema={"additionalProperties": False},
    daily_lookback_years=P(
        "integer",
        4,
        (
            "Years of daily history (prices, PTAX, DI1/DAP settlements, Treasury curves, daily SGS/FRED"
            " series) in each "
            "bronze partition, up to its session."
        ),
        maximum=50,
        minimum=1,
    ),
    macro_lookback_years=P(
        "integer",
        20,
        "Years of monthly, quarterly and weekly macro observations (SGS, FRED) in each bronze partition.",
        maximum=50,
        minimum=1,
    ),
    focus_lookback_years=P(
        "integer",
        5,
        "Years of BCB Focus surveys (by survey date) in each bronze_bcb_focus partition.",
        maximum=50,
        minimum=1,
    ),
    crisis_windows=P(
        "array",
        [
            {"name": "taper_tantrum_2013", "start": "2013-05-22", "end": "2013-08-30"},
            {"name": "brazil_2015_2016", "start": "2015-09-01", "end": "2016-02-29"},
            {"name": "covid_2020", "start": "2020-02-20", "end": "2020-03-31"},
            {"name": "brazil_election_2022", "start": "2022-10-01", "end": "2022-11-30"},
        ],
        (
            "Slices of daily history kept in every partition in addition to the rolling lookback, once "
            "they start before"
            " the session (historical replay and stress need them)."
        ),
        uniqueItems=True,
        items={
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "start", "end"],
            "properties": {
                "name": {"type": "string", "description": "Label of the window."},
                "start": {
                    "type": "string",
                    "format": "date",
                    "description": "First date of the window (ISO, inclusive).",
                },
                "end": {"type": "string", "format": "date", "description": "Last date of the window (ISO, inclusive)."},
            },
        },
    ),
)
