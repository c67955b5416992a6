"""bench.long_book's skill printout: strategies told from agent signals, medians over the right rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bench.long_book import held_books, print_skill, strategy_ids


def _att(rows: list[tuple[str, str, float, int, float]], horizon_pairs: dict[str, int] | None = None) -> pd.DataFrame:
    return pd.DataFrame([{"level": lv, "name": n, "ic": ic, "ic_pairs": k, "hit_rate": 0.5, "ic_horizon": ich,
                          "ic_horizon_pairs": (horizon_pairs or {}).get(n, k), "share_of_gross": None}
                         for lv, n, ic, k, ich in rows])


def test_strategy_ids_are_the_strategy_rows_only():
    d = dt.date(2025, 3, 14)
    sig = pd.DataFrame({"source": ["strategy", "agent", "strategy"],
                        "signal_id": ["FX_02", "FX_BR_COMPOSITE", "INF_03"]})
    assert strategy_ids({d: sig}) == {"FX_02", "INF_03"}


def test_print_skill_medians_over_signals_and_strategies(capsys):
    att = _att([("signal", "A", 0.01, 50, 0.10), ("signal", "B", 0.03, 50, 0.30), ("signal", "AGENT_X", -0.2, 50, -0.5),
                ("signal", "FEW", 0.9, 5, 0.9), ("agent", "strategies", 0.02, 100, 0.2)])
    print_skill(att, {"A", "B", "FEW"}, min_pairs=20)
    out = capsys.readouterr().out
    assert "FEW" not in out  # under the pair threshold
    assert "signals with >= 20 pairs: 3; median one-session IC 0.010" in out
    assert "median horizon IC 0.100 over 3" in out
    assert "strategies with >= 20 pairs: 2; median one-session IC 0.020" in out
    assert "median horizon IC 0.200 over 2" in out


def test_a_horizon_ic_with_too_few_horizon_pairs_stays_out_of_the_median(capsys):
    att = _att([("signal", "A", 0.01, 50, 0.10), ("signal", "B", 0.03, 50, 0.30), ("signal", "C", 0.02, 50, 0.9)],
               horizon_pairs={"C": 5})
    print_skill(att, {"A", "B", "C"}, min_pairs=20)
    out = capsys.readouterr().out
    assert "median one-session IC 0.020" in out and "median horizon IC 0.200 over 2" in out


def test_held_books_hold_the_latest_book_decided_on_or_before_each_session():
    a, b = dt.date(2025, 3, 10), dt.date(2025, 3, 12)
    books = {a: pd.DataFrame({"x": [1]}), b: pd.DataFrame({"x": [2]})}
    days = [dt.date(2025, 3, 7), a, dt.date(2025, 3, 11), b, dt.date(2025, 3, 13)]
    held = held_books(books, days)
    assert list(held) == days[1:] and held[dt.date(2025, 3, 11)] is books[a] and held[dt.date(2025, 3, 13)] is books[b]
