"""The config schema (config/schema.yaml): validation at workflow start, and config/README.md rendered from it.

Usage: ``python -m brmacro.configdoc config/schema.yaml > config/README.md``; a test checks that the file is
up to date.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

__all__ = ["ConfigError", "load_schema", "render", "validate_config"]

HEADER = """# Configuration keys

`config/config.yaml` holds every setting with its default; `config/schema.yaml` validates it when the
workflow starts (an invalid key or value stops the run before any job, with the schema's message). Override
any key on the command line, e.g. `snakemake --config date=2026-11-24 nav_brl=50000000`, or with
`--configfile my.yaml`. Each rule receives only the subtrees it uses, so editing one setting reruns only the
assets that depend on it.

This page is generated from `config/schema.yaml` (`python -m brmacro.configdoc config/schema.yaml >
config/README.md`).

| key | type | default | description |
| --- | --- | --- | --- |
"""


class ConfigError(ValueError):
    """The configuration does not satisfy config/schema.yaml."""


def load_schema(path: str | Path) -> dict[str, Any]:
    """The schema, parsed by libyaml's safe loader (Snakemake's own loader takes ~0.8 s for this file)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=SafeLoader)  # noqa: S506 - the safe loader


def validate_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Check ``config`` against the schema (JSON Schema 2020-12) and fill defaults of absent keys in place.

    Raises
    ------
    ConfigError
        Naming the key path, the offending value and the schema's rule.
    """
    from jsonschema import Draft202012Validator

    schema = load_schema(schema_path)
    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.path))), None)
    if error is not None:
        where = ".".join(map(str, error.absolute_path)) or "(top level)"
        raise ConfigError(f"config failed validation against {schema_path} at {where}: {error.message}")
    _fill_defaults(config, schema)


def _fill_defaults(node: dict[str, Any], schema: Mapping[str, Any]) -> None:
    for key, sub in schema.get("properties", {}).items():
        if key not in node and "default" in sub:
            node[key] = copy.deepcopy(sub["default"])
        if isinstance(node.get(key), dict):
            _fill_defaults(node[key], sub)


def _type(node: Mapping[str, Any]) -> str:
    t = node.get("type", "")
    t = "/".join(t) if isinstance(t, list) else str(t)
    if "enum" in node:
        t += " (" + ", ".join(map(str, node["enum"])) + ")"
    return t


def _rows(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, sub in node.get("properties", {}).items():
        name = f"{prefix}{key}"
        default = sub.get("default", "")
        if sub.get("type") == "object" and "properties" in sub:
            yield f"| `{name}` | object | | {sub.get('description', '')} |"
            yield from _rows(sub, name + ".")
            continue
        dflt = json.dumps(default, ensure_ascii=False) if default != "" else ""
        if len(dflt) > 60:
            dflt = dflt[:57] + "..."
        desc = str(sub.get("description", "")).replace("|", "\\|").replace("\n", " ")
        yield f"| `{name}` | {_type(sub)} | `{dflt}` | {desc} |"


def render(schema: Mapping[str, Any]) -> str:
    """Markdown table of every key of a JSON-Schema (nested objects flattened with dots)."""
    return HEADER + "\n".join(_rows(schema)) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(load_schema(sys.argv[1])))
