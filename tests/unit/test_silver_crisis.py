"""silver_returns.crisis: the crisis windows' returns, by the same rules as the lookback, point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from brmacro.silver.returns import build_returns
from brmacro.silver.schemas import SILVER_SCHEMAS
from tests.unit.test_silver_returns import SESSIONS, D, _params, make_inputs

CRISIS = SILVER_SCHEMAS["silver_returns"]["crisis"]
W_START, W_END = SESSIONS[3], SESSIONS[12]


def _bronze(*windows: tuple[str, object, object]) -> dict[str, object]:
    return {"crisis_windows": [{"name": n, "start": str(s), "end": str(e)} for n, s, e in windows]}


def test_crisis_window_older_than_the_lookback_has_the_lookback_rules() -> None:
    short = build_returns(make_inputs(), D, _params(lookback_sessions=10), _bronze(("w", W_START, W_END)))
    long_ = build_returns(make_inputs(), D, _params(lookback_sessions=30), _bronze())
    CRISIS.conform(short["crisis"])
    c = short["crisis"]
    assert long_["crisis"].empty and set(c["window"]) == {"w"}
    assert min(short["part"]["date"]) > W_END  # outside the silver lookback
    assert sorted(c["date"].unique()) == SESSIONS[3:13]
    ref = long_["part"].set_index(["date", "instrument"])
    got = c.set_index(["date", "instrument"])
    assert np.allclose(got["level"], ref.loc[got.index, "level"], rtol=0, atol=0)
    later = got.loc[[d for d in got.index if d[0] > W_START]]
    assert np.allclose(later["ret"], ref.loc[later.index, "ret"], rtol=1e-15, atol=0)
    assert got.loc[[d for d in got.index if d[0] == W_START], "ret"].isna().all()  # no previous close in the slice


def test_windows_start_by_the_session_and_are_clipped_to_it() -> None:
    out = build_returns(make_inputs(), D, _params(lookback_sessions=10),
                        _bronze(("future", D + pd.Timedelta(days=1), D + pd.Timedelta(days=40)),
                                ("open", SESSIONS[25], D + pd.Timedelta(days=40))))["crisis"]
    assert set(out["window"]) == {"open"} and max(out["date"]) == D and min(out["date"]) == SESSIONS[25]


def test_a_window_with_a_long_gap_is_left_out_not_invented(caplog: pytest.LogCaptureFixture) -> None:
    gap = SESSIONS[5:11]  # 6 sessions without PTAX: beyond the forward-fill limit
    out = build_returns(make_inputs({"ptax": gap}), D, _params(lookback_sessions=10),
                        _bronze(("w", W_START, W_END), ("ok", SESSIONS[14], SESSIONS[18])))
    assert set(out["crisis"]["window"]) == {"ok"}
    assert "crisis window w" in caplog.text and "left out" in caplog.text


def test_rows_released_after_the_session_change_nothing() -> None:
    inp = make_inputs()
    b = _bronze(("w", W_START, W_END))
    before = build_returns(inp, D, _params(lookback_sessions=10), b)["crisis"]
    late = inp["bronze_bcb_ptax"].copy()
    late.loc[late["date"] == W_END, "sell"] *= 2.0
    late["release_date"] = D + pd.Timedelta(days=3)  # a revision published after D
    inp2 = {**inp, "bronze_bcb_ptax": pd.concat([inp["bronze_bcb_ptax"], late.iloc[[0]]], ignore_index=True)}
    again = build_returns(inp2, D, _params(lookback_sessions=10), b)["crisis"]
    pd.testing.assert_frame_equal(before, again)


def test_a_window_opening_on_the_session_has_its_levels_and_no_return() -> None:
    """A crisis window that opens on the session itself is one session long: every instrument's level of the day
    and no return yet (no earlier close inside the window) — kept, not dropped as empty (``len == 0``)."""
    out = build_returns(make_inputs(), D, _params(lookback_sessions=10),
                        _bronze(("today", D, D + pd.Timedelta(days=30))))
    CRISIS.conform(out["crisis"])
    c = out["crisis"]
    assert set(c["window"]) == {"today"} and set(c["date"]) == {D}
    part = out["part"].set_index(["date", "instrument"])
    assert len(c) == part.loc[D].shape[0] == 8
    got = c.set_index(["date", "instrument"])
    assert np.allclose(got["level"], part.loc[got.index, "level"], rtol=0, atol=0)
    assert got["ret"].isna().all()


# ---------------------------------------------------------------------------------------------------------------
# the crisis tables kept per process (issue 16, fifth round): a kept table is the table computed afresh


def _fresh(inp: dict[str, pd.DataFrame], bronze: dict[str, object], day: object = D) -> pd.DataFrame:
    from brmacro.silver import returns

    returns._CRISIS.clear()
    out = build_returns(inp, day, _params(lookback_sessions=10), bronze)["crisis"]
    returns._CRISIS.clear()
    return out


def _kept(inp: dict[str, pd.DataFrame], bronze: dict[str, object], day: object = D) -> pd.DataFrame:
    return build_returns(inp, day, _params(lookback_sessions=10), bronze)["crisis"]


def test_a_kept_crisis_table_is_the_table_computed_afresh_and_a_copy() -> None:
    from brmacro.silver import returns

    inp, b = make_inputs(), _bronze(("w", W_START, W_END), ("v", SESSIONS[14], SESSIONS[18]))
    want = _fresh(inp, b)
    first = _kept(inp, b)
    first.loc[0, "level"] = -1.0  # a caller's edit never reaches the kept table
    second = _kept(inp, b)
    assert len(returns._CRISIS) == 1
    pd.testing.assert_frame_equal(second, want)
    pd.testing.assert_frame_equal(_kept(inp, b, SESSIONS[-2]), _fresh(inp, b, SESSIONS[-2]))  # a later session


def test_a_value_the_windows_read_is_never_served_from_the_kept_table() -> None:
    inp, b = make_inputs(), _bronze(("w", W_START, W_END))
    _kept(inp, b)
    ptax = inp["bronze_bcb_ptax"].copy()
    ptax.loc[ptax["date"] == SESSIONS[6], "sell"] *= 1.01  # inside the window
    inp2 = {**inp, "bronze_bcb_ptax": ptax}
    got, want = _kept(inp2, b), _fresh(inp2, b)
    pd.testing.assert_frame_equal(got, want)
    assert not got.equals(_fresh(inp, b))


def test_a_value_after_the_windows_changes_nothing_and_is_a_hit() -> None:
    from brmacro.silver import returns

    inp, b = make_inputs(), _bronze(("w", W_START, W_END))
    _fresh(inp, b)
    _kept(inp, b)
    ptax = inp["bronze_bcb_ptax"].copy()
    ptax.loc[ptax["date"] == SESSIONS[20], "sell"] *= 1.5  # after the window's last session
    inp2 = {**inp, "bronze_bcb_ptax": ptax}
    got = _kept(inp2, b)
    assert len(returns._CRISIS) == 1  # the same key
    pd.testing.assert_frame_equal(got, _fresh(inp2, b))


def test_a_window_left_out_is_logged_again_for_each_session(caplog: pytest.LogCaptureFixture) -> None:
    inp, b = make_inputs({"ptax": SESSIONS[5:11]}), _bronze(("w", W_START, W_END), ("ok", SESSIONS[14], SESSIONS[18]))
    _fresh(inp, b)
    _kept(inp, b, SESSIONS[-2])
    caplog.clear()
    got = _kept(inp, b, D)
    assert set(got["window"]) == {"ok"}
    assert f"silver_returns {D}: crisis window w" in caplog.text and "left out" in caplog.text


def test_inputs_out_of_order_are_not_keyed() -> None:
    from brmacro.silver.returns import _crisis_key, _Sources

    idx = pd.to_datetime(list(SESSIONS[:5])).to_numpy().astype("datetime64[D]")
    s = pd.Series(np.arange(5.0), index=idx)
    from brmacro.instruments import INSTRUMENTS
    from brmacro.silver.curves import Nodes

    nodes = Nodes(idx, np.ones((5, 2)), np.ones((5, 2)))
    spans = [("w", SESSIONS[1], SESSIONS[3], idx[1:4])]
    ok = _Sources({i.name: s for i in INSTRUMENTS}, nodes, s, s, 5, 5, 10.0)
    assert _crisis_key(ok, spans) is not None
    bad = _Sources({i.name: s for i in INSTRUMENTS}, nodes, s.iloc[::-1], s, 5, 5, 10.0)
    assert _crisis_key(bad, spans) is None
    objs = _Sources({i.name: s for i in INSTRUMENTS}, nodes, s.astype(object), s, 5, 5, 10.0)
    assert _crisis_key(objs, spans) is None
