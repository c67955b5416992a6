"""The book benchmarks' ``--set dotted.key=value`` overrides: a declared key is applied, an undeclared one refused."""

from __future__ import annotations

import pytest

import bench.book_range as book_range


def test_a_declared_override_is_applied_and_a_typo_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(book_range, "OVERRIDES", ["portfolio.reversal_through_flat=false"])
    assert book_range._config()["portfolio"]["reversal_through_flat"] is False
    monkeypatch.setattr(book_range, "OVERRIDES", ["portfolio.reversal_throught_flat=false"])
    with pytest.raises(KeyError, match="portfolio.reversal_throught_flat"):
        book_range._config()
