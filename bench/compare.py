"""Compare every artifact of two results folders built from the same inputs by two versions of the code.

Usage: python -m bench.compare RESULTS_A RESULTS_B

Parquet files: the same set of files, tables equal with pandas ``equals`` (dtypes included), the same Arrow
schema (fields and types), and every key of the schema metadata equal except ``brmacro.code`` (the code
version, which differs by design). Any other file (report.html, report.md): byte for byte. Prints the number of
artifacts compared and each one that differs; exits 1 when one does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

#: metadata keys allowed to differ between two versions of the code
IGNORED_KEYS = {b"brmacro.code"}


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def differs(a: Path, b: Path) -> str | None:
    """Why ``a`` and ``b`` differ, or None when they are the same artifact."""
    if a.suffix != ".parquet":
        return None if a.read_bytes() == b.read_bytes() else "bytes"
    ta, tb = pq.read_table(a), pq.read_table(b)
    if not ta.schema.equals(tb.schema, check_metadata=False):
        return "Arrow schema"
    ma = {k: v for k, v in (ta.schema.metadata or {}).items() if k not in IGNORED_KEYS}
    mb = {k: v for k, v in (tb.schema.metadata or {}).items() if k not in IGNORED_KEYS}
    if ma != mb:
        keys = set(ma) ^ set(mb) | {k for k in ma if ma[k] != mb.get(k)}
        return "metadata " + ", ".join(sorted(k.decode() for k in keys))
    if not ta.to_pandas().equals(tb.to_pandas()):
        return "table"
    return None


def main() -> None:
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    fa, fb = _files(a), _files(b)
    bad = [f"{n}: only in {a if n in fa else b}" for n in sorted(set(fa) ^ set(fb))]
    common = sorted(set(fa) & set(fb))
    for n in common:
        why = differs(fa[n], fb[n])
        if why:
            bad.append(f"{n}: {why}")
    print(f"{len(common)} artifacts compared, {len(bad)} differ")
    for line in bad:
        print("  " + line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
