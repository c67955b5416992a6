"""The ``demo`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

DEMO = S(
    "The deterministic demo market (source demo).",
    _schema={"additionalProperties": False},
    seed=P(
        "integer",
        20260101,
        "Seed of the simulated economy; the same seed gives the same history and the same bytes for every date.",
        maximum=4294967295,
        minimum=0,
    ),
)
