"""Bronze layer: what each of the seven sources said as of a session (demo market or live connectors)."""

from __future__ import annotations

from brmacro._lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_SEED": "demo",
    "BronzeConfigError": "demo",
    "BronzeParams": "demo",
    "parse_params": "demo",
    "snapshot": "demo",
    "true_regimes": "demo",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
