"""``python -m brmacro.params schema > config/schema.yaml`` and ``python -m brmacro.params readme >
config/README.md``: the two files generated from the declarations (a test checks both are up to date)."""

from __future__ import annotations

import sys

from brmacro.configdoc import render, schema_yaml
from brmacro.params import json_schema


def main(argv: list[str]) -> int:
    if argv[1:] == ["schema"]:
        sys.stdout.write(schema_yaml(json_schema()))
        return 0
    if argv[1:] == ["readme"]:
        sys.stdout.write(render(json_schema()))
        return 0
    sys.stderr.write("usage: python -m brmacro.params {schema|readme}\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
