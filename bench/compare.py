"""Compare every artifact of two results folders built from the same inputs by two versions of the code.

Usage: python -m bench.compare RESULTS_A RESULTS_B

The artifacts are the Parquet files and the reports (``report.html``, ``report.md``); logs and run records are
left out (their timings differ run to run). Parquet files: the same set of files, the same Arrow schema (fields
and types), every key of the schema metadata equal except ``brmacro.code`` (the code version, which differs by
design), and every column equal exactly: the same nulls, and floats bit for bit (so -0.0 is not 0.0 and NaN is not
null). Reports: byte for byte. Prints the number of artifacts compared and each one that differs; exits 1 when one
does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: metadata keys allowed to differ between two versions of the code
IGNORED_KEYS = {b"brmacro.code"}


#: the files compared besides the Parquet tables
REPORTS = {"report.html", "report.md"}


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in root.rglob("*")
            if p.is_file() and (p.suffix == ".parquet" or p.name in REPORTS)}


def same_column(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    """Exactly equal columns: the same nulls, floats bit for bit, other values equal."""
    ca, cb = a.combine_chunks(), b.combine_chunks()
    if not ca.is_null().equals(cb.is_null()):
        return False
    if pa.types.is_floating(ca.type):
        bits = {16: np.int16, 32: np.int32, 64: np.int64}[ca.type.bit_width]
        va = ca.fill_null(0).to_numpy(zero_copy_only=False).view(bits)
        vb = cb.fill_null(0).to_numpy(zero_copy_only=False).view(bits)
        return bool(np.array_equal(va, vb))
    return bool(ca.equals(cb))


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
    cols = [n for n in ta.column_names if not same_column(ta.column(n), tb.column(n))]
    return "columns " + ", ".join(cols) if cols else None


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
