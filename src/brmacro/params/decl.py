"""The two kinds of declaration: a parameter (:class:`P`) and a section of parameters (:class:`S`).

Each parameter is declared once, here in ``brmacro.params``, with its JSON-Schema type, bounds, default and
description. Everything else is derived: ``config/schema.yaml`` and ``config/README.md`` (generated), the
defaults a step falls back to (:func:`brmacro.params.section`) and the validation of a run's config.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["P", "S"]


@dataclass(frozen=True)
class P:
    """One parameter (a leaf of the config tree).

    Attributes
    ----------
    type : str or tuple of str
        JSON-Schema type(s): ``number``, ``integer``, ``string``, ``boolean``, ``array``, ``object``, ``null``.
    default : Any
        The default (``config/config.yaml`` holds the same value).
    description : str
        What it means, its unit, and why it may be unbounded (``unbounded: <why>``).
    schema : mapping
        The rest of its JSON Schema: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``enum``, ``items``, ...
    """

    type: str | tuple[str, ...]
    default: Any
    description: str
    schema: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, type: str | tuple[str, ...], default: Any, description: str, **schema: Any) -> None:
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "schema", schema)

    def json_schema(self) -> dict[str, Any]:
        t = list(self.type) if isinstance(self.type, tuple) else self.type
        return {
            "description": self.description,
            "type": t,
            **copy.deepcopy(dict(self.schema)),
            "default": copy.deepcopy(self.default),
        }

    def defaults(self) -> Any:
        return copy.deepcopy(self.default)


@dataclass(frozen=True)
class S:
    """A section: a mapping of named parameters and sub-sections (an object of the config tree).

    ``schema`` holds further JSON-Schema keywords of the object (``additionalProperties``, ``required``).
    """

    description: str
    keys: Mapping[str, P | S]
    schema: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, description: str, /, *, _schema: Mapping[str, Any] | None = None, **keys: P | S) -> None:
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "schema", dict(_schema or {}))

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description, "type": "object"}
        out.update(copy.deepcopy(dict(self.schema)))
        out["properties"] = {k: v.json_schema() for k, v in self.keys.items()}
        return out

    def defaults(self) -> dict[str, Any]:
        return {k: v.defaults() for k, v in self.keys.items()}

    def node(self, dotted: str) -> P | S:
        """The declaration at a dotted key path below this section."""
        node: P | S = self
        for k in dotted.split(".") if dotted else ():
            if not isinstance(node, S) or k not in node.keys:
                raise KeyError(f"config key {dotted!r} is not declared in brmacro.params")
            node = node.keys[k]
        return node
