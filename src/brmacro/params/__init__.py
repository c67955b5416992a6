"""Every parameter of the workflow, declared once: type, default, bounds and description.

The config tree (``config/config.yaml``) is declared here, one module per top-level section
(:mod:`brmacro.params.agents`, :mod:`~brmacro.params.risk`, ...), with :class:`~brmacro.params.decl.P` for a
parameter and :class:`~brmacro.params.decl.S` for a section. Everything else is derived from these
declarations:

- ``config/schema.yaml`` (``python -m brmacro.params schema > config/schema.yaml``), which validates a run's
  config before any job (:func:`brmacro.configdoc.validate_config`);
- ``config/README.md`` (``python -m brmacro.params readme > config/README.md``);
- the defaults a step falls back to for keys its params do not give (:func:`section`), the one way every
  step reads its parameters;
- the keys each rule passes (:func:`select`, with the dotted keys of ``brmacro.pipeline.STEPS``).

A test checks that config/config.yaml holds every declared key with its declared default, and that both
generated files are up to date. docs/configuration.md says how to add a parameter.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from brmacro.params.agents import AGENTS
from brmacro.params.bronze import BRONZE
from brmacro.params.decl import P, S
from brmacro.params.demo import DEMO
from brmacro.params.desk import DESK
from brmacro.params.live import LIVE
from brmacro.params.portfolio import PORTFOLIO
from brmacro.params.report import REPORT
from brmacro.params.risk import RISK
from brmacro.params.signals import SIGNALS
from brmacro.params.silver import SILVER
from brmacro.params.top import TOP

__all__ = [
    "ROOT",
    "P",
    "S",
    "declared",
    "declared_section",
    "defaults",
    "factory",
    "fill_defaults",
    "json_schema",
    "UndeclaredKeyError",
    "reading_only",
    "resolve",
    "section",
    "select",
    "value",
]

#: The whole config tree.
ROOT = S(
    "brmacro workflow configuration",
    _schema={"additionalProperties": False},
    **TOP,
    agents=AGENTS,
    bronze=BRONZE,
    desk=DESK,
    demo=DEMO,
    live=LIVE,
    portfolio=PORTFOLIO,
    report=REPORT,
    risk=RISK,
    signals=SIGNALS,
    silver=SILVER,
)


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    body = ROOT.json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the config: what ``config/schema.yaml`` holds."""
    return copy.deepcopy(_schema())


def declared(dotted: str) -> P | S:
    """The declaration of a dotted key (``risk.var.window``). Raises KeyError for an undeclared key."""
    return ROOT.node(dotted)


def declared_section(dotted: str) -> S:
    """The declaration of a section (its ``keys``); TypeError for a parameter."""
    decl = ROOT.node(dotted)
    if not isinstance(decl, S):
        raise TypeError(f"config key {dotted!r} is a parameter, not a section")
    return decl


def defaults(dotted: str = "") -> Any:
    """The declared default of a key or section (the whole config when ``dotted`` is empty), a fresh copy."""
    return ROOT.node(dotted).defaults()


def _over(decl: P | S, given: Any) -> Any:
    if isinstance(decl, S) and isinstance(given, Mapping):
        out = decl.defaults()
        for k, v in given.items():
            out[k] = _over(decl.keys[k], v) if k in decl.keys else copy.deepcopy(v)
        return out
    return copy.deepcopy(given)


def resolve(dotted: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The section ``dotted`` given as ``given`` (a subtree, e.g. a library function's ``params``), every key it
    does not give at its declared default (sub-sections filled recursively; a parameter given is taken whole)."""
    decl = ROOT.node(dotted)
    if not isinstance(decl, S):
        raise TypeError(f"config key {dotted!r} is a parameter, not a section")
    return _over(decl, given or {})  # type: ignore[no-any-return]


#: While a step runs: its name and the dotted keys its rule passes (:func:`reading_only`).
_READABLE: contextvars.ContextVar[tuple[str, tuple[str, ...]] | None] = contextvars.ContextVar(
    "brmacro_readable_keys", default=None)


class UndeclaredKeyError(KeyError):
    """A step read a config key its rule does not pass: it would silently get the declared default."""

    def __str__(self) -> str:
        return str(self.args[0])


@contextlib.contextmanager
def reading_only(who: str, keys: Sequence[str]) -> Iterator[None]:
    """While inside, :func:`section` and :func:`value` refuse a key that is not one of ``keys`` or under one.

    ``brmacro.pipeline.run_step`` wraps every step in it with the step's declared keys: a key the step reads
    but does not declare would reach it at its default whatever the config says (and an edit of it would not
    rerun the step), so reading it is an error naming the step and the key, never a silent default.
    """
    token = _READABLE.set((who, tuple(keys)))
    try:
        yield
    finally:
        _READABLE.reset(token)


class _Scoped(dict[str, Any]):
    """A section of which a step was passed only some keys: reading another one is an error, not a default."""

    def __init__(self, data: Mapping[str, Any], who: str, dotted: str, keys: tuple[str, ...]) -> None:
        super().__init__(data)
        self._where = (who, dotted, keys)

    def __missing__(self, key: str) -> Any:
        who, dotted, keys = self._where
        raise UndeclaredKeyError(_undeclared(who, f"{dotted}.{key}", keys))

    def get(self, key: str, default: Any = None) -> Any:
        """As dict's, but a declared key the step was not passed is refused (never its default)."""
        if key not in self:
            try:
                ROOT.node(f"{self._where[1]}.{key}")
            except KeyError:
                return default
            return self[key]  # __missing__: refused
        return super().get(key, default)


def _undeclared(who: str, dotted: str, keys: tuple[str, ...]) -> str:
    return (f"{who} reads config key {dotted!r}, which its rule does not pass (declared: {', '.join(keys)}); "
            "declare it in the step's StepSpec.config (brmacro.pipeline.STEPS)")


def _check_readable(dotted: str) -> tuple[str, tuple[str, ...]] | None:
    """None when ``dotted`` may be read whole; the step's scope when only keys under it were passed."""
    scope = _READABLE.get()
    if scope is None:
        return None
    who, keys = scope
    if any(dotted == k or dotted.startswith(k + ".") for k in keys):
        return None
    if any(k.startswith(dotted + ".") for k in keys):
        return scope
    raise UndeclaredKeyError(_undeclared(who, dotted, keys))


def _prune(full: Mapping[str, Any], dotted: str, who: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys of ``full`` (the section ``dotted``) that ``keys`` pass, as nested scoped sections."""
    out: dict[str, Any] = {}
    for k in keys:
        if not k.startswith(dotted + "."):
            continue
        parts = k[len(dotted) + 1:].split(".")
        node, src = out, full
        for part in parts[:-1]:
            src = src[part]
            node = node.setdefault(part, {})
        node[parts[-1]] = src[parts[-1]]

    def wrap(d: dict[str, Any], where: str) -> dict[str, Any]:
        sub = {k: wrap(v, f"{where}.{k}") if isinstance(v, dict) and f"{where}.{k}" not in keys else v
               for k, v in d.items()}
        return _Scoped(sub, who, where, keys)

    return wrap(out, dotted)


def section(params: Mapping[str, Any] | None, dotted: str) -> dict[str, Any]:
    """The section ``dotted`` of a step's ``params``, every key it does not give at its declared default.

    The one way a step reads its parameters: ``section(ctx.params, "risk.var")["window"]``. ``params`` is the
    nested mapping a rule passes (:func:`select` of the run's config) or any part of it a test gives.
    Inside a step, a section its rule does not pass is refused (:func:`reading_only`).
    """
    scope = _check_readable(dotted)
    node: Any = params or {}
    for k in dotted.split("."):
        node = node.get(k) if isinstance(node, Mapping) else None
        if node is None:
            break
    full = resolve(dotted, node)
    return full if scope is None else _prune(full, dotted, *scope)


def value(params: Mapping[str, Any] | None, dotted: str) -> Any:
    """One parameter of a step's ``params`` (a copy of its declared default when not given; refused inside a step
    whose rule does not pass it, :func:`reading_only`)."""
    _check_readable(dotted)
    node: Any = params or {}
    for k in dotted.split("."):
        if not isinstance(node, Mapping) or k not in node:
            return defaults(dotted)
        node = node[k]
    return copy.deepcopy(node)


def factory(dotted: str, convert: Callable[[Any], Any] | None = None) -> Callable[[], Any]:
    """A zero-argument function giving the declared default of ``dotted`` (through ``convert``): for the
    ``default_factory`` of a typed parameters dataclass, so even its defaults are the declared ones."""
    return lambda: (convert or (lambda v: v))(defaults(dotted))


def fill_defaults(config: dict[str, Any], decl: S = ROOT) -> None:
    """Give every declared key ``config`` lacks its declared default, in place (sections recursively)."""
    for k, sub in decl.keys.items():
        if isinstance(sub, S):
            if k not in config:
                config[k] = {}
            if isinstance(config[k], dict):
                fill_defaults(config[k], sub)
        elif k not in config:
            config[k] = sub.defaults()


def select(config: Mapping[str, Any], keys: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The nested part of ``config`` holding only the dotted ``keys`` (each a declared key or section).

    What a rule passes as ``params``: only the keys its step reads, so editing any other key reruns nothing.
    A key absent from ``config`` is left out (the step falls back to its declared default).
    """
    out: dict[str, Any] = {}
    for dotted in keys:
        ROOT.node(dotted)  # refuse an undeclared key
        node: Any = config
        parts = dotted.split(".")
        for k in parts:
            if not isinstance(node, Mapping) or k not in node:
                break
            node = node[k]
        else:
            dst = out
            for k in parts[:-1]:
                dst = dst.setdefault(k, {})
            dst[parts[-1]] = copy.deepcopy(node)
    return out
