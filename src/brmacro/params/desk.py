"""The ``desk`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

DESK = S(
    "The desk's own book (docs/desk.md) - positions input, listed contracts and rolls, circuit breaker.",
    _schema={"additionalProperties": False},
    positions_dir=P(
        "string",
        "positions",
        (
            "Folder of the desk's positions files, one per session, <dir>/date=<D>/positions.csv or positions.parquet "
            "(holdings at the close of D); optional, declared as inputs only when present."
        ),
        pattern="^(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_./-]+$",
    ),
    min_open_interest=P(
        "number",
        1000,
        "Open interest (contracts, session's B3 settlement file) a DI1 contract needs to carry a model position.",
        minimum=0,
        maximum=10000000,
    ),
    roll_sessions=S(
        (
            "Per product, the B3 sessions before a contract's last session from which the desk no longer opens it and "
            "rolls to the next."
        ),
        _schema={"additionalProperties": False},
        DI1=P(
            "integer",
            5,
            "DI1 roll window (sessions).",
            minimum=0,
            maximum=60,
        ),
        DOL=P(
            "integer",
            3,
            "DOL roll window (sessions).",
            minimum=0,
            maximum=15,
        ),
        IND=P(
            "integer",
            3,
            "IND roll window (sessions).",
            minimum=0,
            maximum=30,
        ),
        ES=P(
            "integer",
            5,
            "ES roll window (sessions).",
            minimum=0,
            maximum=40,
        ),
        ZN=P(
            "integer",
            3,
            "ZN roll window (sessions).",
            minimum=0,
            maximum=40,
        ),
    ),
    roll_calendar_sessions=P(
        "integer",
        20,
        "Horizon of the roll calendar, B3 sessions.",
        minimum=1,
        maximum=250,
    ),
    di1_january_beyond_du=P(
        "integer",
        252,
        (
            "DI1 points of this many business days or more are carried by January contracts (the liquid ones) when one "
            "qualifies."
        ),
        minimum=0,
        maximum=5000,
    ),
    circuit_breaker=S(
        (
            "When the held book breaches its daily, weekly or drawdown loss limit (risk.limits), the proposal only "
            "reduces risk."
        ),
        _schema={"additionalProperties": False},
        enabled=P(
            "boolean",
            True,
            "Whether a breach switches the proposal to reduce-only.",
        ),
        size_factor=P(
            "number",
            0.5,
            (
                "Under the breaker each held position is cut to at most this fraction of its size (0 = close "
                "everything)."
            ),
            minimum=0,
            maximum=1,
        ),
    ),
)
