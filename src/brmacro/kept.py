"""Frames (or arrays) kept per process by the exact content of their inputs (issue 16: work shared between sessions).

A pure function whose inputs repeat between consecutive sessions of one worker (a monthly series between two
releases, a VaR window measured again) is computed once: :class:`KeptFrames` keeps its result (a DataFrame or a
numpy array: anything whose ``copy()`` is a deep, independent copy) under a key made of the function's name, its
arguments and its inputs as bytes, hands out copies (a caller's edit never reaches the kept value) and keeps the
last ``size`` values used. A key that differs computes afresh, so a key that tells too much (a NaN payload, a
-0.0) only misses; a key of None (inputs with no exact bytes, such as object columns) computes every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast

import numpy as np
import pandas as pd

__all__ = ["KeptFrames", "series_key"]


class _Copyable(Protocol):
    def copy(self) -> Any: ...


V = TypeVar("V", bound=_Copyable)


def _always(_value: Any) -> bool:
    return True


class KeptFrames(Generic[V]):
    """The last ``size`` values (frames or arrays) computed under a content key (least recently used dropped
    first)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"KeptFrames: size must be >= 1, got {size}")
        self.size = size
        self._frames: OrderedDict[tuple[Any, ...], V] = OrderedDict()
        self._lock = threading.Lock()  # the store's own operations; the computation runs outside it

    def get(self, key: tuple[Any, ...] | None, compute: Callable[[], V],
            keep: Callable[[V], bool] = _always) -> V:
        """``compute()``, kept under ``key`` when ``keep`` accepts it: a hit hands out a copy of the kept value, a
        miss keeps a copy of the value it returns. ``key`` None: computed, not kept."""
        if key is None:
            return compute()
        with self._lock:
            hit = self._frames.get(key)
            if hit is not None:
                self._frames.move_to_end(key)
        if hit is not None:
            return cast(V, hit.copy())
        out = compute()
        if keep(out):
            kept = cast(V, out.copy())
            with self._lock:
                self._frames[key] = kept
                while len(self._frames) > self.size:
                    self._frames.popitem(last=False)
        return out

    def clear(self) -> None:
        """Forget every kept frame."""
        with self._lock:
            self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        with self._lock:
            return iter(list(self._frames))


def series_key(s: pd.Series) -> tuple[Any, ...] | None:
    """A float64 Series on a naive ``DatetimeIndex`` as a key: the index's unit, frequency, name and dates and the
    Series' name and values, as bytes; None (do not keep) for anything else. A NaN payload or a -0.0 makes another
    key (a miss, never a wrong hit)."""
    idx = s.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is not None or s.dtype != np.float64 \
            or not isinstance(idx.name, (str, type(None))) or not isinstance(s.name, (str, type(None))):
        return None
    dates: np.ndarray = idx.to_numpy()
    return (str(idx.dtype), idx.freqstr, idx.name, dates.tobytes(), s.name, s.to_numpy().tobytes())
