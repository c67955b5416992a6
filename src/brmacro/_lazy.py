"""Lazy re-exports for the layer packages.

``import brmacro.silver.schemas`` (which the Snakefile needs to declare outputs) must not import
the models (scipy, statsmodels, cvxpy): each package names its public objects and the submodule
that holds them, and an object is imported on first access.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` re-exporting ``name -> submodule`` lazily."""

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__, sorted(exports)


class LazyModule:
    """A module imported on first attribute access (``LazyModule(name).attr`` imports ``name``, then reads ``attr``).

    :data:`brmacro.pipeline.STEPS` refers to the step functions through these, so planning (the Snakefile)
    does not import the steps modules and the models they load. Never write a quoted ``brmacro.`` module name
    in this module: :mod:`brmacro.codeversion` reads such strings as imports, and this module is part of every
    step's code version.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
