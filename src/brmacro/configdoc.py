"""Render config/README.md from config/schema.yaml, so every key's explanation lives in one place.

Usage: ``python -m brmacro.configdoc config/schema.yaml > config/README.md``; a test checks that the file is
up to date.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["render"]

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
    sys.stdout.write(render(yaml.safe_load(Path(sys.argv[1]).read_text())))
