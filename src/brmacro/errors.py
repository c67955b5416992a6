"""Errors shared by the library's layers (free of heavy imports: the orchestrator and the models both raise them)."""

from __future__ import annotations

__all__ = ["InputMissing"]


class InputMissing(RuntimeError):
    """A step cannot compute because a declared input has no usable data."""
