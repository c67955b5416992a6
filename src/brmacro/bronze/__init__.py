"""Bronze layer: what each of the seven sources said as of a session (demo market or live connectors)."""

from __future__ import annotations

from brmacro._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DEFAULT_SEED": "demo",
        "BronzeConfigError": "demo",
        "BronzeParams": "demo",
        "parse_params": "demo",
        "snapshot": "demo",
        "true_regimes": "demo",
    },
)
