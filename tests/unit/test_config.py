"""The configuration: defaults valid against the schema, every key documented, README in sync."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.utils import validate

from brmacro.configdoc import render

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "config" / "schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def _leaves(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    for k, sub in node.get("properties", {}).items():
        yield f"{path}{k}", sub
        if sub.get("type") == "object":
            yield from _leaves(sub, f"{path}{k}.")


def test_defaults_validate() -> None:
    validate(copy.deepcopy(CONFIG), str(SCHEMA))


def test_every_key_has_a_description_and_every_leaf_a_default() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    for name, sub in _leaves(schema):
        assert sub.get("description"), f"{name} has no description"
        if sub.get("type") != "object":
            assert "default" in sub, f"{name} has no default"


def test_config_readme_is_generated_from_the_schema() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    assert (ROOT / "config" / "README.md").read_text() == render(schema), (
        "config/README.md is stale: python -m brmacro.configdoc config/schema.yaml > config/README.md"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [("source", "nowhere"), ("nav_brl", -1), ("results", "../x"), ("date", "26/11/2026"), ("unknown_key", 1)],
)
def test_bad_values_are_refused(key: str, value: object) -> None:
    cfg = copy.deepcopy(CONFIG)
    cfg[key] = value
    with pytest.raises(Exception, match="alidat"):
        validate(cfg, str(SCHEMA))
