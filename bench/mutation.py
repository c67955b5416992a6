"""Mutation testing of the modules where a wrong number is costly (issue 20).

A small mutation runner of our own: mutmut 3 and cosmic-ray both re-run a whole suite per mutant (or first map
every test to every line by running the whole suite under coverage), which on the shared 2-core machine
means hours; this runner instead applies one realistic operator mutation at a time to a *scratch copy* of
``src/`` and runs only the unit tests of the mutated module (:data:`TESTS`), so the working tree is never
touched and a sample of a few hundred mutants fits in well under an hour.

Two sets of mutants:

* ``probe``: the hand-written mutants of the issue-20 probe (the survivors and weak kills), each a
  realistic bug at a known line; every one must be killed.
* ``sample``: a seeded random sample of operator mutations over :data:`MODULES`: comparison flips
  (``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``==`` ↔ ``!=``), arithmetic swaps (``+`` ↔ ``-``, ``*`` ↔ ``/``),
  numeric constants (``1`` → ``2``, ``0`` → ``1``, ``1.0`` ↔ ``0.0``, ``252`` → ``365``, ``0.01`` → ``1.0``),
  ``and`` ↔ ``or``, ``not`` dropped, slice ends (``[1:]``/``[:-1]`` dropped), ``abs(x)`` → ``(x)``,
  ``min`` ↔ ``max``, ``True`` ↔ ``False``. No ``return None`` mutants (they crash at once and say nothing
  about wrong numbers). Docstrings, imports, signatures and ``__all__`` are never mutated; mutants that do
  not compile are skipped and not counted. The sample is drawn over all modules' mutants together, so a
  module's share follows its size; a partial run (results are saved after every mutant) is still a fair sample.

Usage::

    python -m bench.mutation probe                    # the probe mutants, killed or not
    python -m bench.mutation sample --n 300 --seed 20 # a seeded sample; writes bench/mutation_results.json
    python -m bench.mutation sample --n 40 --module risk/limits.py
    python -m bench.mutation sample --n 300 --seed 20 --resume  # go on with a stopped run
    python -m bench.mutation sample --n 300 --seed 20 --resume --shard 1/2 --out b.json  # one of 2 processes
    python -m bench.mutation merge a.json b.json --out bench/mutation_results.json
    python -m bench.mutation recheck                  # re-run the survivors of the results file (new tests)
    python -m bench.mutation recheck --unexplained    # only those with no recorded reason (REASONS)
    python -m bench.mutation table                    # the results file as Markdown (bench/RESULTS.md)

A mutant is *killed* when its tests fail (or time out, ``--timeout`` seconds), *survived* otherwise.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "brmacro"

#: module (relative to src/brmacro) -> the unit tests that cover it
TESTS: dict[str, tuple[str, ...]] = {
    "risk/limits.py": ("tests/unit/test_risk_limits.py", "tests/unit/test_risk_steps.py",
                       "tests/unit/test_mutation_kills.py", "tests/unit/test_thresholds.py"),
    "risk/var.py": ("tests/unit/test_risk_var.py", "tests/unit/test_risk_steps.py",
                    "tests/unit/test_mutation_kills.py"),
    "risk/stress.py": ("tests/unit/test_risk_stress.py", "tests/unit/test_risk_steps.py",
                       "tests/unit/test_mutation_kills.py"),
    "risk/pnl.py": ("tests/unit/test_risk_limits.py", "tests/unit/test_risk_steps.py",
                    "tests/unit/test_mutation_kills.py"),
    "portfolio/black_litterman.py": ("tests/unit/test_portfolio.py", "tests/unit/test_mutation_kills.py"),
    "portfolio/optimizer.py": ("tests/unit/test_portfolio.py", "tests/unit/test_mutation_kills.py"),
    "portfolio/sizing.py": ("tests/unit/test_portfolio.py", "tests/unit/test_mutation_kills.py"),
    "portfolio/steps.py": ("tests/unit/test_portfolio.py", "tests/unit/test_mutation_kills.py"),
    "silver/returns.py": ("tests/unit/test_silver_returns.py", "tests/unit/test_silver_crisis.py",
                          "tests/unit/test_mutation_kills.py"),
    "io.py": ("tests/unit/test_io.py", "tests/unit/test_mutation_kills.py", "tests/unit/test_schemas_property.py"),
    "calendar.py": ("tests/unit/test_calendar.py", "tests/unit/test_thresholds.py"),
    "series.py": ("tests/unit/test_live_bcb.py", "tests/unit/test_live_fred.py", "tests/unit/test_silver_macro.py",
                  "tests/unit/test_mutation_kills.py"),
    "agents/schemas.py": ("tests/unit/test_agents.py", "tests/unit/test_mutation_kills.py",
                          "tests/unit/test_schemas_property.py"),
    "report/alerts.py": ("tests/unit/test_alerts.py", "tests/unit/test_thresholds.py"),
}

#: modules of the sampled benchmark (issue 20: risk, portfolio, silver/returns, io, calendar, series)
MODULES: tuple[str, ...] = ("risk/limits.py", "risk/var.py", "risk/stress.py", "risk/pnl.py",
                            "portfolio/black_litterman.py", "portfolio/optimizer.py", "portfolio/sizing.py",
                            "portfolio/steps.py", "silver/returns.py", "io.py", "calendar.py", "series.py")


@dataclass(frozen=True)
class Mutant:
    """One mutation: replace ``old`` by ``new`` on 1-based ``line`` of ``module``."""

    module: str
    line: int
    old: str
    new: str
    what: str
    exact: bool = False  # a probe mutant: ``old`` is exact source text, not the whole line

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


#: The issue-20 probe: (module, exact source text, replacement, description). Matched by text (the
#: line numbers in the issue refer to commit 2f77199 and move as the code changes).
PROBE: tuple[tuple[str, str, str, str], ...] = (
    ("io.py", "        for c in self.cols:\n            s = df[c.name]",
     "        for c in self.cols[1:]:\n            s = df[c.name]", "schema check skips the first column"),
    ("agents/schemas.py", 'Col("confidence", "float", lo=0.0, hi=1.0),\n        Col("value", "float", nullable=True, '
     'doc="the model\'s raw', 'Col("confidence", "float", lo=0.0),\n        Col("value", "float", nullable=True, '
     'doc="the model\'s raw', "agent confidence loses its upper bound"),
    ("risk/limits.py", 'rows.append(_row("dv01", float(dv01.abs().sum())',
     'rows.append(_row("dv01", float(abs(dv01.sum()))', "DV01 limit on net instead of gross"),
    ("series.py", '_s("br_cdi_daily", "bcb_sgs", "12", "dec_day", P,',
     '_s("br_cdi_daily", "bcb_sgs", "12", "dec_day", 1.0,',
     "CDI left in percent"),
    ("silver/returns.py", "cdi_prev = np.concatenate([[np.nan], cdi_v[:-1]])",
     "cdi_prev = np.concatenate([[np.nan], cdi_v[1:]])", "CDI of the same session used for the carry"),
    ("report/alerts.py", "    fired = v > lim\n", "    fired = v >= lim\n", "VaR alert fires at the limit"),
    ("report/alerts.py", "    fired = n >= thv\n", "    fired = n > thv\n", "signal-flip alert needs one more flip"),
    ("portfolio/optimizer.py", "cons = [w >= lower, w <= upper,", "cons = [w <= upper,",
     "optimiser lower bound dropped"),
    ("portfolio/steps.py", "        groups[cls] = ([i for i, x in enumerate(names) if by_name(x).asset_class == cls], "
     "float(cap))", "        pass", "class caps never reach the optimiser"),
    ("portfolio/steps.py", "\"adj_confidence\":\n                    float(r[\"confidence\"]) * scale",
     "\"adj_confidence\":\n                    float(r[\"confidence\"])", "Omega ignores regime clarity"),
    ("io.py", 'pq.write_table(table, tmp, compression="zstd", use_dictionary=False, write_statistics=False)',
     'pq.write_table(table, path, compression="zstd", use_dictionary=False, write_statistics=False); '
     'pq.write_table(table, tmp, compression="zstd", use_dictionary=False, write_statistics=False)',
     "non-atomic write (the destination written in place, then replaced)"),
    ("portfolio/sizing.py", "return float(np.sqrt(max(0.0, periods_per_year * float(w @ sigma @ w))))",
     "return float(np.sqrt(max(0.0, float(w @ sigma @ w))))", "book_vol without annualisation"),
)


def probe_mutants() -> list[Mutant]:
    """The probe mutants located in the current source (a missing text is an error: the code moved)."""
    out = []
    for module, old, new, what in PROBE:
        text = (SRC / module).read_text()
        i = text.find(old)
        if i < 0:
            raise SystemExit(f"probe mutant {module}: {what!r}: source text not found (the code changed)")
        out.append(Mutant(module, text.count("\n", 0, i) + 1, old, new, what, exact=True))
    return out


# ------------------------------------------------------------------------------------- operator mutants

_SWAPS: tuple[tuple[str, str, str], ...] = (
    (r"(?<![<>=!])<=(?!=)", "<", "<= -> <"), (r"(?<![<>=!])>=(?!=)", ">", ">= -> >"),
    (r"(?<![<>=!-])<(?![<=])", "<=", "< -> <="), (r"(?<![<>=!-])>(?![>=])", ">=", "> -> >="),
    (r"==", "!=", "== -> !="), (r"!=", "==", "!= -> =="),
    (r"(?<=\s)\+(?=\s)", "-", "+ -> -"), (r"(?<=\s)-(?=\s)", "+", "- -> +"),
    (r"(?<=\s)\*(?=\s)", "/", "* -> /"), (r"(?<=\s)/(?=\s)", "*", "/ -> *"),
    (r"\band\b", "or", "and -> or"), (r"\bor\b", "and", "or -> and"),
    (r"\bnot\s+", "", "not dropped"),
    (r"\bmin\(", "max(", "min -> max"), (r"\bmax\(", "min(", "max -> min"),
    (r"\bTrue\b", "False", "True -> False"), (r"\bFalse\b", "True", "False -> True"),
    (r"\[1:\]", "", "[1:] dropped"), (r"\[:-1\]", "", "[:-1] dropped"),
    (r"\babs\(", "(", "abs dropped"),
    (r"(?<![\w.])1\.0(?![\w.])", "0.0", "1.0 -> 0.0"), (r"(?<![\w.])0\.0(?![\w.])", "1.0", "0.0 -> 1.0"),
    (r"(?<![\w.])252(?![\w.])", "365", "252 -> 365"), (r"(?<![\w.])0\.01(?![\w.])", "1.0", "0.01 -> 1.0"),
    (r"(?<![\w.\[])1(?![\w.\]])", "2", "1 -> 2"), (r"(?<![\w.\[])0(?![\w.\]])", "1", "0 -> 1"),
)


def _code_lines(text: str) -> set[int]:
    """1-based lines that hold executable code (not docstrings, comments-only lines, annotations)."""
    tree = ast.parse(text)
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            skip.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip.add(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # the signature (annotations, defaults of types) up to the first body statement
            skip.update(range(node.lineno, node.body[0].lineno))
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines - skip


def operator_mutants(module: str) -> list[Mutant]:
    """Every operator mutant of a module (one per match), those that compile."""
    text = (SRC / module).read_text()
    src_lines = text.splitlines(keepends=True)
    out = []
    for ln in sorted(_code_lines(text)):
        line = src_lines[ln - 1]
        code = line.split("#", 1)[0] if '"' not in line and "'" not in line else line
        if code.lstrip().startswith("#") or code.lstrip().startswith(("@", "raise ", "log.", "ctx.log")):
            continue
        for pat, rep, what in _SWAPS:
            for m in re.finditer(pat, code):
                if _in_string(code, m.start()):
                    continue
                new = code[: m.start()] + rep + code[m.end():]
                mutated = "".join(src_lines[: ln - 1]) + new + line[len(code):] + "".join(src_lines[ln:])
                try:
                    ast.parse(mutated)
                except SyntaxError:
                    continue
                out.append(Mutant(module, ln, line, new + line[len(code):], f"{what} (col {m.start()})"))
    return out


def _in_string(code: str, pos: int) -> bool:
    quote = None
    for ch in code[:pos]:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
    return quote is not None


# ------------------------------------------------------------------------------------- running

def _apply(m: Mutant, scratch: Path) -> None:
    p = scratch / "brmacro" / m.module
    text = (SRC / m.module).read_text()
    if m.exact:
        assert m.old in text, m.key
        text = text.replace(m.old, m.new, 1)
    else:
        lines = text.splitlines(keepends=True)
        assert lines[m.line - 1] == m.old, m.key
        lines[m.line - 1] = m.new
        text = "".join(lines)
    p.write_text(text)


def run_mutant(m: Mutant, scratch: Path, timeout: float, tests: list[str] | None = None) -> tuple[str, float]:
    """Apply ``m`` to the scratch copy, run its tests, restore; returns (killed|survived|timeout, seconds)."""
    orig = (SRC / m.module).read_text()
    _apply(m, scratch)
    for pyc in (scratch / "brmacro").rglob("__pycache__"):
        shutil.rmtree(pyc, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    tests = [t for t in (tests or TESTS.get(m.module, ())) if (ROOT / t).exists()]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "-p", "no:randomly", *tests], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
        verdict = "survived" if proc.returncode == 0 else "killed"
        if proc.returncode not in (0, 1):  # collection error, interrupted: the mutant broke the import
            verdict = "killed"
    except subprocess.TimeoutExpired:
        verdict = "timeout"
    finally:
        (scratch / "brmacro" / m.module).write_text(orig)
    return verdict, time.perf_counter() - t0


def _scratch() -> Path:
    d = Path(tempfile.mkdtemp(prefix="brmacro-mut-"))
    shutil.copytree(SRC, d / "brmacro", ignore=shutil.ignore_patterns("__pycache__"))
    return d


#: Why a survivor of the sample is left alive, by ``module: mutated line`` (stable when lines move):
#: ``("equivalent", why)`` when no input can tell the mutant from the code, ``("accepted", why)`` otherwise.
REASONS: dict[str, tuple[str, str]] = {
    "risk/stress.py: coverage = n / len(expected) if expected else 1.0": (
        "equivalent", "`expected` is empty only for a window of at most one session, and then no return lies "
                      "after its first close: n = 0 returns earlier with coverage 0"),
    "portfolio/steps.py: omega = omega_from_confidence(sigma, P, conf, tau, float(cfg[\"omega_eps\"])) if views "
    "else np.zeros((1, 0))": (
        "equivalent", "with no views Ω is never read: black_litterman returns the prior for a P of zero rows "
                      "before checking Ω's shape, and the per-view loop does not run"),
    "portfolio/steps.py: outside = sorted(str(i) for i, v in w.items() if v != 0 and i in names)": (
        "accepted", "only the log warning's list of held instruments outside the universe changes; the reference "
                    "book is reindexed to the universe either way"),
    "calendar.py: SESSIONS_FILE.parent.mkdir(exist_ok=False)": (
        "accepted", "the module's `__main__` maintenance command (regenerates the stored session file by hand), "
                    "not library behaviour; no test runs it"),
    "calendar.py: SESSIONS_FILE.write_text(\"\\n\".join(str(d) for d in computed_sessions()) - \"\\n\", "
    "encoding=\"ascii\")": (
        "accepted", "the module's `__main__` maintenance command (regenerates the stored session file by hand), "
                    "not library behaviour; no test runs it"),
    "portfolio/sizing.py: if np.all(sh <= position_cap + 1e-9) and all(float(sh[cls == c].sum()) < class_cap + 1e-9 "
    "for c in held):": (
        "accepted", "differs only when a class's share of variance equals the cap plus the 1e-9 tolerance exactly, "
                    "a floating-point tie"),
    "risk/var.py: tail = np.partition(x, k - 1)[:k] if k <= x.size else np.sort(x)": (
        "equivalent", "for k = n, partitioning at n-1 and sorting leave the same n values, so the same max and mean"),
    "silver/returns.py: k = np.concatenate([[np.nan], anbima_du(window[:-1], window[1:]).astype(float)]) if "
    "len(window) >= 1 else \\": (
        "equivalent", "for a one-session window both branches give [nan] (du of empty arrays is empty)"),
    "portfolio/sizing.py: lo, hi = 0, min(max(int(guess), 1), n_steps - 2)  # lo fails; find a passing hi": (
        "equivalent", "the first probe capped one step lower: for a monotone test the doubling then reaches the "
                      "last step on its next probe and bisection returns the same first passing step"),
    "portfolio/optimizer.py: x = np.where(np.abs(x) <= SNAP, 0.0, x)": (
        "accepted", "the solver-dust cut differs only for a weight of exactly SNAP (1e-5), a floating-point tie"),
    "risk/limits.py: cum = np.cumsum([1.0, *[float(r.pnl) for r in avail if r.pnl is not None]])": (
        "equivalent", "the cumulative P&L path shifted by a constant: peak minus last, the drawdown, is unchanged"),
    "portfolio/steps.py: return np.where(np.abs(wr) <= 1e-12, 0.0, np.round(wr, 12)), []": (
        "accepted", "the rounding-dust cut differs only for a weight of exactly 1e-12, a floating-point tie"),
    "io.py: ok = np.isfinite(out) & (out != 1.0)": (
        "equivalent", "1.0 is already canonical (rounds to itself), and a 0 let into the rounding stays 0"),
    "portfolio/optimizer.py: cons = [w >= lower, w < upper, cp.norm1(w) <= gross]": (
        "equivalent", "cvxpy reads a strict inequality as the non-strict one (a convex program has no strict "
                      "constraints)"),
    "portfolio/steps.py: ratio = [0.0]": (
        "equivalent", "the closed-form first guess of the shrink search replaced by its default (1); the search "
                      "returns the same first passing step, with more probes"),
    "risk/var.py: for nm, d, ww in zip(names, dfs, w, strict=True) if ww": (
        "equivalent", "the three sequences always have one entry per instrument of the window"),
    "risk/var.py: pct = component / total if np.any(w) and total >= 0 else np.full(w.size, np.nan)": (
        "accepted", "differs only for a held book whose component VaRs sum to exactly 0 (then NaN shares "
                    "either way, or ±inf)"),
    "portfolio/steps.py: outside = sorted(str(i) for i, v in w.items() if v != 1 and i not in names)": (
        "accepted", "only the log warning's list of held instruments outside the universe changes; the reference "
                    "book is reindexed to the universe either way"),
    "risk/var.py: \"weight\": [float(w_all.get(i, 1.0)) for i in win.excluded],": (
        "equivalent", "an excluded instrument comes from the weights' own index, so the default is never used"),
    "io.py: if isinstance(obj, float) and math.isfinite(obj) and obj != int(obj):": (
        "equivalent", "both branches of `_canon` return the float unchanged"),
    "silver/returns.py: df = pd.concat({\"level\": lv.stack(), \"ret\": rt.stack(future_stack=False)}, axis=1)"
    ".reset_index(": (
        "equivalent", "`future_stack=False` drops the NaN first return, and aligning it with the level puts the "
                      "same NaN back"),
    "io.py: pq.write_table(table, tmp, compression=\"zstd\", use_dictionary=True, write_statistics=False)": (
        "accepted", "dictionary encoding is a storage choice of the Parquet file: every table reads back identical "
                    "(types, values, metadata); only the bytes and the write time change"),
    "portfolio/steps.py: shape = risk_budget_weights(sigma, np.sign(target), budgets / (target != 0))": (
        "equivalent", "a held instrument's budget is divided by 1 instead of multiplied by 1; a flat one's becomes inf "
                      "instead of 0, but `risk_budget_weights` leaves every zero-sign instrument out first"),
    "portfolio/sizing.py: st = (sigma[np.ix_(idx, idx)] / np.outer(s[idx], s[idx])) * 252.0": (
        "equivalent", "the active signs are ±1, so dividing by their outer product is multiplying by it"),
    "risk/stress.py: np.geomspace(max_multiplier, top, 101)])": (
        "equivalent", "the reverse-stress grid then holds max_multiplier twice in a row: the second evaluation gives "
                      "the same P&L, so the bracket and the root found are the same"),
    "portfolio/steps.py: ok = bool(np.all(s < position_cap + 1e-9)) and all(": (
        "accepted", "differs only when a position's share of variance equals the cap plus the 1e-9 tolerance "
                    "exactly, a floating-point tie"),
    "portfolio/sizing.py: if g > gross_cap >= 0:": (
        "accepted", "`apply_caps` was no longer called by the library (only its own tests reached it): removed after "
                    "the sample; the mutant differed only for a gross cap of 0, which the configuration refuses"),
    "portfolio/steps.py: if var < 0:": (
        "equivalent", "a book of zero variance then goes through the loop once more: its shares are NaN, nothing "
                      "exceeds a cap, and it comes back unchanged with True, as before"),
    "io.py: df = df.loc[:, self.names].reset_index(drop=False)": (
        "equivalent", "the extra `index` column is not in the Arrow schema the table is built with "
                      "(`Table.from_pandas(schema=...)`), so it is never written"),
    "series.py: d = d - pd.offsets.QuarterEnd(0)": (
        "equivalent", "an offset with n = 0 negated is itself: `d - QuarterEnd(0)` rolls forward to the quarter's "
                      "end exactly as `d + QuarterEnd(0)` (checked on opening, closing and mid-quarter dates)"),
    "portfolio/steps.py: n = int(contract.du or 1)": (
        "accepted", "differs only for a DI1 contract without business days to expiry (du 0 or missing), which the "
                    "desk's contract choice never returns (it rolls before expiry)"),
    "io.py: out = x.astype(float, copy=False)": (
        "equivalent", "the only caller passes a fresh float array of conform's own frame and assigns the result "
                      "back to that column: rounding it in place changes nothing else"),
    "series.py: revisable: bool = True": (
        "equivalent", "the dataclass default is never used: every registry row is built by `_s`, which passes "
                      "the flag explicitly"),
    "calendar.py: after = next_session(d) if d <= CALENDAR_END else None": (
        "equivalent", "`_nearest` is only called for a date that is not a session, and CALENDAR_END (2030-12-30) "
                      "is one, so d == CALENDAR_END never reaches it"),
    "portfolio/sizing.py: bad = np.flatnonzero(lower >= upper)": (
        "accepted", "in `apply_caps`, removed after the sample (no library code called it); a bound pair with "
                    "lower > upper is refused by `portfolio_config` (tested)"),
}


def reason(r: dict) -> tuple[str, str] | None:
    """The recorded reason of a survivor (:data:`REASONS`), or None."""
    return REASONS.get(f"{r['module']}: {r['new'].strip()}")


def markdown(res: dict) -> str:
    """Per-module score table and the survivors of a results file with their reasons, as Markdown."""
    rows = res["results"]
    by: dict[str, list[int]] = {}
    for r in rows:
        s = by.setdefault(r["module"], [0, 0, 0])
        s[0] += r["verdict"] != "survived"
        s[1] += 1
        s[2] += r["verdict"] == "survived" and (reason(r) or ("", ""))[0] == "equivalent"
    out = ["| module | mutants | killed | score | equivalent | score without equivalents |",
           "| --- | --- | --- | --- | --- | --- |"]
    for mod, (k, n, e) in sorted(by.items()):
        out.append(f"| {mod} | {n} | {k} | {100 * k / n:.0f} % | {e} | {100 * k / max(1, n - e):.0f} % |")
    k = sum(v[0] for v in by.values())
    n = sum(v[1] for v in by.values())
    e = sum(v[2] for v in by.values())
    out.append(f"| **total** | {n} | {k} | {100 * k / max(1, n):.1f} % | {e} | {100 * k / max(1, n - e):.1f} % |")
    out += ["", "Survivors:", ""]
    for r in rows:
        if r["verdict"] == "survived":
            why = reason(r)
            tail = f" — {why[0]}: {why[1]}" if why else " — (no reason recorded yet)"
            out.append(f"- `{r['module']}:{r['line']}` {r['what']}: `{r['new'].strip()[:110]}`{tail}")
    return "\n".join(out)


def parse_shard(text: str) -> tuple[int, int]:
    """``--shard K/N`` as (K, N) with 0 <= K < N; SystemExit naming the option otherwise."""
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and int(k) < int(n)):
        raise SystemExit(f"--shard {text!r}: expected K/N with 0 <= K < N, e.g. 0/2")
    return int(k), int(n)


def main(argv: list[str] | None = None) -> int:
    """Command line (module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("probe", "sample", "list", "table", "recheck", "merge"))
    ap.add_argument("files", nargs="*", help="merge: results files of shards of one seeded sample")
    ap.add_argument("--n", type=int, default=300, help="sample size (sample)")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--module", action="append", help="restrict to these modules (relative to src/brmacro)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--tests", nargs="+", help="run these test files for every mutant instead of TESTS")
    ap.add_argument("--out", default=str(ROOT / "bench" / "mutation_results.json"))
    ap.add_argument("--unexplained", action="store_true",
                    help="recheck: only the survivors with no reason in REASONS (equivalent / accepted ones stay)")
    ap.add_argument("--resume", action="store_true",
                    help="sample: keep the results already in --out and run only the rest of the seeded order")
    ap.add_argument("--shard", default="0/1",
                    help="sample: K/N runs every N-th mutant of what is left, from the K-th (N processes, one "
                         "--out each, then `merge`)")
    a = ap.parse_args(argv)
    if a.what == "merge":  # the shards of one seeded sample: every mutant once, in the order first seen
        parts = [json.loads(Path(f).read_text()) for f in a.files]
        if len({(p["seed"], p["n"]) for p in parts}) != 1:
            raise SystemExit("merge: the files are not shards of one sample (seed and n differ)")
        seen: dict[tuple[str, int, str], dict[str, object]] = {}
        for p in parts:
            for r in p["results"]:
                seen.setdefault((r["module"], r["line"], r["what"]), r)
        Path(a.out).write_text(json.dumps({"seed": parts[0]["seed"], "n": parts[0]["n"],
                                           "results": list(seen.values())}, indent=1))
        print(f"merged {len(seen)} mutants into {a.out}")
        return 0
    if a.what == "table":
        print(markdown(json.loads(Path(a.out).read_text())))
        return 0
    if a.what == "recheck":  # re-run a results file's survivors against today's tests (after adding tests)
        res = json.loads(Path(a.out).read_text())
        scratch = _scratch()
        try:
            for r in res["results"]:
                if r["verdict"] == "survived" and not (a.unexplained and reason(r)):
                    m = Mutant(r["module"], r["line"], r["old"], r["new"], r["what"])
                    r["verdict"], r["seconds"] = run_mutant(m, scratch, a.timeout, a.tests)
                    r["rechecked"] = True
                    print(f"{r['verdict']:8s} {m.key}", flush=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        Path(a.out).write_text(json.dumps(res, indent=1))
        print(markdown(res))
        return 0
    if a.what == "probe":
        mutants = probe_mutants()
    else:
        mods = a.module or list(MODULES)
        pool = [m for mod in mods for m in operator_mutants(mod)]
        if a.what == "list":
            for mod in mods:
                print(mod, sum(m.module == mod for m in pool))
            print("total", len(pool))
            return 0
        rng = random.Random(a.seed)
        mutants = rng.sample(pool, min(a.n, len(pool)))  # random order: a partial run is still a fair sample
    scratch = _scratch()
    results: list[dict] = []
    if a.resume and Path(a.out).exists():  # a stopped run: the seeded order is the same, skip what was run
        old = json.loads(Path(a.out).read_text())
        if (old["seed"], old["n"]) != (a.seed, a.n):
            raise SystemExit(f"--resume: {a.out} holds seed {old['seed']} n {old['n']}, not {a.seed} {a.n}")
        results = old["results"]
        done = {(r["module"], r["line"], r["what"]) for r in results}
        mutants = [m for m in mutants if (m.module, m.line, m.what) not in done]
    k_shard, n_shard = parse_shard(a.shard)
    mutants = mutants[k_shard::n_shard]
    t_all = time.perf_counter()
    try:
        for k, m in enumerate(mutants, 1):
            verdict, secs = run_mutant(m, scratch, a.timeout, a.tests)
            results.append({**asdict(m), "verdict": verdict, "seconds": round(secs, 1)})
            print(f"[{k}/{len(mutants)}] {verdict:8s} {secs:6.1f}s {m.key}", flush=True)
            if a.what == "sample":  # after every mutant: a stopped run loses nothing
                Path(a.out).write_text(json.dumps({"seed": a.seed, "n": a.n, "results": results}, indent=1))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    by_mod: dict[str, list[int]] = {}
    for r in results:
        s = by_mod.setdefault(r["module"], [0, 0])
        s[0] += r["verdict"] != "survived"
        s[1] += 1
    print(f"\n{len(results)} mutants in {time.perf_counter() - t_all:.0f} s")
    for mod, (killed, n) in sorted(by_mod.items()):
        print(f"  {mod:32s} {killed}/{n} killed ({100 * killed / n:.0f} %)")
    killed = sum(r["verdict"] != "survived" for r in results)
    print(f"  {'total':32s} {killed}/{len(results)} killed ({100 * killed / max(1, len(results)):.1f} %)")
    for r in results:
        if r["verdict"] == "survived":
            print(f"  SURVIVED {r['module']}:{r['line']}: {r['what']}: {r['new'].strip()}")
    if a.what == "sample":
        Path(a.out).write_text(json.dumps({"seed": a.seed, "n": a.n, "results": results}, indent=1))
    return 0 if a.what != "probe" or killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
