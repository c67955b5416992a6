"""The code version of a step: a hash of the library source its function runs (issue 17).

A step's result depends on its config (the rule's ``params``), its inputs (files) and the library code it
runs. The code is versioned per step: :func:`code_hash` hashes the source of the step function and of the
module-level helpers it uses in its ``steps`` module, plus every ``brmacro`` module those reach through
imports (at module level or inside functions, and module names written as strings, as the live connectors
are picked), plus the machinery every step runs through (:data:`RUNNER`: reading, checking and writing
tables). The rules pass it as a param, so Snakemake's params trigger reruns a step whose code changed, and
its dependants through their inputs, and nothing else; :func:`brmacro.pipeline.run_step` records it in every
artifact as ``brmacro.code``.

Only source files are read and parsed (``ast``), never imported, so planning stays free of pandas; the
result is cached per process and per file (path, size, mtime).
"""

from __future__ import annotations

import ast
import hashlib
import re
from functools import cache
from pathlib import Path

__all__ = ["RUNNER", "code_hash", "code_hashes", "step_sources"]

PACKAGE_DIR = Path(__file__).resolve().parent
# What every step runs through besides its own function (pipeline's lazy imports of other layers are for
# other entry points, e.g. the backtest, so only these are followed from it).
RUNNER = ("brmacro", "brmacro.pipeline", "brmacro.io", "brmacro.logs", "brmacro.calendar", "brmacro._orphan",
          "brmacro._lazy")


def _is_declaration(name: str) -> bool:
    """Whether ``name`` is a module of parameter declarations (``brmacro.params.<section>``): data, not code.

    A step receives every key it reads in its ``params`` (from the validated config, which holds the declared
    defaults), so a declaration reaches a step's result only through its params: editing a description or a
    bound reruns nothing, and a changed default reruns exactly its readers through config/config.yaml.
    """
    return name.startswith("brmacro.params.") and name != "brmacro.params.decl"


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "brmacro" or not all(p.isidentifier() for p in parts):
        return None
    rel = parts[1:]
    base = PACKAGE_DIR.joinpath(*rel)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


@cache
def _parsed(path: Path, size: int, mtime_ns: int) -> tuple[str, ast.Module]:  # noqa: ARG001 - cache key
    text = path.read_text(encoding="utf-8")
    return text, ast.parse(text, filename=str(path))


def _parse(path: Path) -> tuple[str, ast.Module]:
    st = path.stat()
    return _parsed(path, st.st_size, st.st_mtime_ns)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, package: str) -> set[str]:
    """brmacro modules a tree imports (``from brmacro.x import y`` gives ``brmacro.x`` and, if a module,
    ``brmacro.x.y``), plus module names written as string constants."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*parts, mod] if mod else parts)
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("brmacro."):
            out.add(node.value)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in out if _module_file(m) is not None}


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


_FROM = re.compile(r"^[ \t]*from[ \t]+(brmacro(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]+)", re.M)
_STRING = re.compile(r"[\"'](brmacro(?:\.\w+)+)[\"']")


@cache
def _deps(name: str, path: Path, size: int, mtime_ns: int) -> frozenset[str]:  # noqa: ARG001 - cache key
    """brmacro modules a module's source imports anywhere (a regex scan: a superset is safe, it only reruns
    more), or names as a string; for :mod:`brmacro.pipeline` only its module-level imports (its lazy imports
    of other layers serve other entry points)."""
    text = path.read_text(encoding="utf-8")
    if name == "brmacro.pipeline":
        text = "\n".join(ln for ln in text.splitlines() if not ln[:1].isspace())
    out: set[str] = set()
    for mod, names in _FROM.findall(text):
        out.add(mod)
        for part in names.strip("() \n").replace("\n", " ").split(","):
            word = part.split(" as ")[0].strip()
            if word.isidentifier():
                out.add(f"{mod}.{word}")
    for line in _IMPORT.findall(text):
        out.update(w.split(" as ")[0].strip() for w in line.split(","))
    out.update(_STRING.findall(text))
    return frozenset(m for m in out if _module_file(m) is not None)


def _closure(seeds: set[str]) -> dict[str, Path]:
    """Every brmacro module reachable from ``seeds`` by imports (with their parent packages)."""
    found: dict[str, Path] = {}
    stack = list(seeds)
    while stack:
        name = stack.pop()
        if name in found:
            continue
        path = _module_file(name)
        if path is None or _is_declaration(name):
            continue
        found[name] = path
        parent = name.rpartition(".")[0]
        if parent:
            stack.append(parent)  # importing a submodule runs its package's __init__
        st = path.stat()
        stack.extend(_deps(name, path, st.st_size, st.st_mtime_ns))
    return found


def step_sources(layer: str, asset: str) -> tuple[list[str], set[str]]:
    """The source segments of ``asset``'s function and the module-level helpers it uses in its steps
    module, and the brmacro modules they import (directly)."""
    mod = f"brmacro.{layer}.steps"
    path = _module_file(mod)
    if path is None:
        raise FileNotFoundError(f"no module {mod}")
    text, tree = _parse(path)
    lines = text.splitlines()
    defs: dict[str, ast.stmt] = {}
    imported: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        defs[n.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = _imports(node, _package_of(mod, path))
            for a in node.names:
                local = (a.asname or a.name).split(".")[0]
                imported.setdefault(local, set()).update(mods)
    if asset not in defs:
        raise NotImplementedError(f"{mod} has no function {asset}()")
    seen: set[str] = set()
    segments: list[str] = []
    modules: set[str] = set()
    stack = [asset]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        node = defs[name]
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        segments.append("\n".join(lines[first - 1 : node.end_lineno]))
        modules |= _imports(node, _package_of(mod, path))  # imports inside the function
        for n in ast.walk(node):
            ident = n.id if isinstance(n, ast.Name) else None
            if ident is None:
                continue
            if ident in defs and ident not in seen:
                stack.append(ident)
            modules |= imported.get(ident, set())
    return sorted(segments), modules


@cache
def _code_hash(layer: str, asset: str, fingerprint: tuple[tuple[str, int, int], ...]) -> str:  # noqa: ARG001
    segments, modules = step_sources(layer, asset)
    files = _closure(modules | set(RUNNER) | {f"brmacro.{layer}.schemas"})
    files.pop(f"brmacro.{layer}.steps", None)  # the step's own part of it is in the segments
    h = hashlib.sha256()
    for seg in segments:
        h.update(b"step\0" + seg.encode() + b"\0")
    for name in sorted(files):
        st = files[name].stat()
        h.update(name.encode() + b"\0" + _file_sha(files[name], st.st_size, st.st_mtime_ns).encode() + b"\0")
    return h.hexdigest()[:16]


@cache
def _file_sha(path: Path, size: int, mtime_ns: int) -> str:  # noqa: ARG001 - cache key
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fingerprint() -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in sorted(PACKAGE_DIR.rglob("*.py")):
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def code_hash(layer: str, asset: str) -> str:
    """A 16-hex-digit hash of the library code that building ``asset`` runs (see the module docstring)."""
    return _code_hash(layer, asset, _fingerprint())


def code_hashes(steps: dict[str, str]) -> dict[str, str]:
    """:func:`code_hash` of many steps (asset -> layer) at once, the package's files looked at once."""
    fp = _fingerprint()
    return {asset: _code_hash(layer, asset, fp) for asset, layer in steps.items()}
