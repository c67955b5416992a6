"""Point in time on the recorded live fixtures: change every recorded row released after D, the snapshot of D
is unchanged (SGS, FRED, PTAX, Focus at several sessions; Yahoo/Treasury are covered the same way in
``tests/unit/test_live_markets.py``).

Release dates come from the connectors themselves (snapshots of two late sessions map each row to its release
date); rows observed after D are always perturbed. A sanity check proves the
perturbation changes what a later session sees.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest

from brmacro.bronze.live import snapshot
from brmacro.bronze.live.common import make_client, parse_live
from brmacro.bronze.live.fred import fetch_snapshot as fred_snapshot
from brmacro.bronze.live.sgs import fetch_snapshot as sgs_snapshot
from brmacro.series import by_name
from tests.faults.conftest import FAKE_KEY, Tally
from tests.fixtures.live.routes import live_params, route_bcb, route_fred
from tests.fixtures.live.server import FixtureServer

LATE = dt.date(2025, 12, 30)
SESSIONS = (dt.date(2025, 2, 6), dt.date(2025, 3, 11), dt.date(2025, 3, 14))
SGS = [by_name(n) for n in ("br_ipca_mom", "br_selic_daily", "br_gdp_qoq")]
FRED = [by_name(n) for n in ("us_cpi", "us_payrolls", "us_dgs10")]


def _snap(source: str, srv: FixtureServer, d: dt.date, bronze: dict[str, Any] | None = None) -> pd.DataFrame:
    p = live_params(srv, None)
    if bronze is not None:
        p["bronze"] = bronze
    if source in ("bcb_sgs", "fred"):
        c = make_client(source, parse_live(p["live"]), sleep=lambda s: None)
        fn = sgs_snapshot if source == "bcb_sgs" else fred_snapshot
        return fn(d, p, c, series=SGS if source == "bcb_sgs" else FRED)
    return snapshot(source, d, p)


def _bump(v: Any) -> Any:
    x = float(v) * 1.5 + 0.01
    return f"{x:.4f}" if isinstance(v, str) else x


def _perturb(srv: FixtureServer, source: str, d: dt.date, release: dict[tuple[Any, ...], dt.date]) -> int:
    """Rewrite, in the routes' bodies, the values of every record released after ``d``; return how many."""
    n = 0
    prefix = {"bcb_sgs": "/sgs/", "fred": "/fred/", "bcb_ptax": "/ptax/", "bcb_focus": "/focus/"}[source]
    for r in srv.routes:
        if r.status != 200 or not r.path.startswith(prefix):
            continue
        doc = json.loads(r.body)
        recs = doc if isinstance(doc, list) else doc.get("value") or doc.get("observations") or []
        for rec in recs:
            if source == "bcb_sgs":
                obs = dt.datetime.strptime(rec["data"], "%d/%m/%Y").date()
                sid = "bcb_sgs:" + r.path.split(".")[2].split("/")[0]
                late = obs > d or release.get((sid, obs), dt.date.min) > d
                fields = ["valor"]
            elif source == "bcb_ptax":
                late = dt.date.fromisoformat(rec["dataHoraCotacao"][:10]) > d
                fields = ["cotacaoCompra", "cotacaoVenda"]
            elif source == "bcb_focus":
                surv = dt.date.fromisoformat(rec["Data"])
                key = (rec["Indicador"], str(rec.get("DataReferencia") or "12m"), surv)
                late = surv > d or release.get(key, dt.date.min) > d
                fields = ["Mediana", "Media"]
            else:  # fred
                sid = "fred:" + (r.query or {}).get("series_id", "")
                obs = dt.date.fromisoformat(rec["date"])
                if rec["value"] == ".":
                    continue
                if sid == "fred:PAYEMS":
                    late = dt.date.fromisoformat(rec["realtime_start"]) > d
                else:
                    late = obs > d or release.get((sid, obs), dt.date.min) > d
                fields = ["value"]
            if late:
                for f in fields:
                    if rec.get(f) is not None:
                        rec[f] = _bump(rec[f])
                n += 1
        r.body = json.dumps(doc).encode()
    return n


def _release_map(source: str, df: pd.DataFrame) -> dict[tuple[Any, ...], dt.date]:
    if source == "bcb_focus":
        return {(r.indicator, str(r.reference), r.survey_date): r.release_date for r in df.itertuples(index=False)}
    if source in ("bcb_sgs", "fred"):
        return {(r.series_id, r.observation_date): r.release_date for r in df.itertuples(index=False)}
    return {}


@pytest.mark.parametrize("source", ["bcb_sgs", "fred", "bcb_ptax", "bcb_focus"])
def test_rows_released_after_d_change_nothing_of_d(source: str, monkeypatch: pytest.MonkeyPatch, tally: Tally) -> None:
    monkeypatch.setenv("FRED_API_KEY", FAKE_KEY)
    with FixtureServer() as srv:
        route_bcb(srv)
        route_fred(srv)
        release = {**_release_map(source, _snap(source, srv, dt.date(2025, 6, 30))),
                   **_release_map(source, _snap(source, srv, LATE))}
        before = {d: _snap(source, srv, d) for d in SESSIONS}
        late_before = _snap(source, srv, LATE)
        originals = [r.body for r in srv.routes]
        for d in SESSIONS:
            for r, b in zip(srv.routes, originals, strict=True):
                r.body = b
            n = _perturb(srv, source, d, release)
            assert n > 0
            after = _snap(source, srv, d)
            assert len(after) > 0
            pd.testing.assert_frame_equal(after, before[d], check_exact=True)
            tally.fault(n, survived=True)
        # sanity: the last perturbation (rows released after the last session) is visible later
        assert not _snap(source, srv, LATE).equals(late_before)
