"""The layer subtrees of the one configuration (config/config.yaml) and its schema, for layer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG: dict[str, Any] = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
SCHEMA: dict[str, Any] = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))


def config_part(key: str) -> dict[str, Any]:
    """``{key: subtree}`` of config/config.yaml."""
    return {key: CONFIG[key]}


def schema_part(key: str) -> dict[str, Any]:
    """``{key: sub-schema}`` of config/schema.yaml."""
    return {key: SCHEMA["properties"][key]}
