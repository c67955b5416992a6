"""Readable sentences from the agents' recorded drivers (no dict dumps in the report).

Each signal's ``drivers`` column is a JSON object (:mod:`brmacro.agents.common`): a ``mapping`` text
stating the branch of the rule that fired with the numbers that decided it, the inputs, and for a
composite its sub-signals' weights, directions and confidences. These functions turn one into a
short sentence; the report's escaping happens later, in rendering.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["composite_sentence", "driver_sentence", "parse_drivers", "plain"]

_DIR = {1: "long", -1: "short", 0: "neutral"}

#: Driver keys that are bookkeeping, not a reason.
_SKIP = {"mapping", "note", "not_computed", "weights", "directions", "confidences", "disagree", "damped", "coef",
         "terminal", "probs"}


def parse_drivers(text: Any) -> dict[str, Any]:
    """The drivers JSON as a dict ({} when it is not a JSON object)."""
    try:
        obj = json.loads(str(text))
    except (TypeError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def plain(text: str) -> str:
    """Arrows as arrows (``->`` becomes ``→``), so no markup-looking characters reach the page."""
    return text.replace("->", "→")


def _fmt(v: Any) -> str | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) and math.isfinite(float(v)):
        f = float(v)
        if f == int(f) and abs(f) < 1e6:
            return f"{int(f)}"
        return f"{f:.3g}" if abs(f) >= 1e-3 else f"{f:.2e}"
    if isinstance(v, str) and v and len(v) < 40:
        return v
    return None


def _name(k: str) -> str:
    return k.replace("_", " ")


def composite_sentence(d: Mapping[str, Any]) -> str:
    """A composite's drivers: which sub-signals voted how, with their weights and confidences."""
    w = d.get("weights") or {}
    dirs = d.get("directions") or {}
    conf = d.get("confidences") or {}
    if not isinstance(w, Mapping) or not w:
        why = d.get("not_computed") or d.get("note") or "no active sub-signal"
        return f"no sub-signal voted ({why})"
    parts = []
    for k in sorted(w, key=lambda k: (-float(w[k]) * float(conf.get(k, 0) or 0), k)):
        c = conf.get(k)
        cs = f"{float(c):.2f}" if isinstance(c, (int, float)) else "n/a"
        parts.append(f"{_name(k)} {_DIR.get(int(dirs.get(k, 0) or 0), 'neutral')} "
                     f"(confidence {cs}, weight {float(w[k]):.2f})")
    s = "votes: " + "; ".join(parts)
    n = int(d.get("disagree", 0) or 0)
    if n:
        s += f"; {n} sub-signal{'s disagree' if n > 1 else ' disagrees'}"
    if d.get("damped"):
        s += ", so the confidence is damped"
    return s


def driver_sentence(text: Any, limit: int = 4) -> str:
    """One signal's drivers as a sentence: the branch that fired (it carries its deciding numbers), else inputs.

    Parameters
    ----------
    text : str
        The ``drivers`` JSON of a signal row.
    limit : int
        Most input values listed when no branch text is recorded.
    """
    d = parse_drivers(text)
    if not d:
        return "no drivers recorded"
    if "weights" in d and "directions" in d:
        return composite_sentence(d)
    head = []
    if d.get("not_computed"):
        head.append(f"not computed: {d['not_computed']}")
    if isinstance(d.get("mapping"), str):
        head.append(d["mapping"])
    if d.get("note"):
        head.append(str(d["note"]))
    if isinstance(d.get("mapping"), str):
        limit = 0  # the branch states the numbers that decided it
    vals = []
    for k, v in d.items():
        if k in _SKIP:
            continue
        if isinstance(v, Mapping):
            inner = [f"{_name(str(ik))} {f}" for ik, iv in list(v.items())[:4] if (f := _fmt(iv)) is not None]
            if inner:
                vals.append(f"{_name(k)} ({', '.join(inner)})")
        elif (f := _fmt(v)) is not None:
            vals.append(f"{_name(k)} {f}")
        if len(vals) >= limit:
            break
    vals = vals[:limit]
    s = "; ".join(head)
    if vals:
        s = f"{s} (inputs: {', '.join(vals)})" if s else f"inputs: {', '.join(vals)}"
    return plain(s) or "no drivers recorded"
