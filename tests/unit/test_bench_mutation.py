"""The mutation benchmark's own command line (bench/mutation.py): shards and their merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.mutation import main, parse_shard


def test_shard_is_k_of_n_and_a_wrong_one_is_refused_by_name() -> None:
    assert parse_shard("0/2") == (0, 2) and parse_shard("1/2") == (1, 2) and parse_shard("0/1") == (0, 1)
    for bad in ("2/2", "1", "a/b", "-1/2", "1/0", ""):
        with pytest.raises(SystemExit, match="--shard"):
            parse_shard(bad)


def _shard(path: Path, seed: int, rows: list[tuple[str, int, str, str]]) -> str:
    results = [{"module": m, "line": ln, "what": w, "verdict": v} for m, ln, w, v in rows]
    path.write_text(json.dumps({"seed": seed, "n": 300, "results": results}))
    return str(path)


def test_merge_keeps_every_mutant_once_and_refuses_shards_of_other_samples(tmp_path: Path) -> None:
    common = ("io.py", 10, "< -> <=", "killed")  # run before the split: in both shard files
    a = _shard(tmp_path / "a.json", 20, [common, ("risk/var.py", 5, "+ -> -", "survived")])
    b = _shard(tmp_path / "b.json", 20, [common, ("risk/var.py", 7, "* -> /", "killed")])
    out = tmp_path / "m.json"
    assert main(["merge", a, b, "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert (merged["seed"], merged["n"]) == (20, 300)
    assert [(r["module"], r["line"]) for r in merged["results"]] == [("io.py", 10), ("risk/var.py", 5),
                                                                     ("risk/var.py", 7)]
    other = _shard(tmp_path / "c.json", 21, [common])
    with pytest.raises(SystemExit, match="not shards of one sample"):
        main(["merge", a, other, "--out", str(out)])
