"""BCB SGS, PTAX and Focus connectors against recorded answers on the local fixture server (no network)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from brmacro.bronze.live import snapshot
from brmacro.bronze.live.common import make_client, parse_live
from brmacro.bronze.live.focus import ANNUAL, parse_focus
from brmacro.bronze.live.http import PayloadError, SourceError
from brmacro.bronze.live.ptax import parse_ptax
from brmacro.bronze.live.sgs import fetch_snapshot as sgs_snapshot
from brmacro.bronze.live.sgs import parse_sgs
from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.series import by_name
from tests.fixtures.live.routes import FOCUS_ANNUAL, PTAX_PATH, live_params, route_bcb
from tests.fixtures.live.server import FixtureServer

D = dt.date(2025, 3, 14)  # a Friday session; one-year lookbacks -> chunks 2024 and 2025
SGS = [by_name(n) for n in ("br_ipca_mom", "br_selic_daily", "br_gdp_qoq")]
d = dt.date


@pytest.fixture()
def srv():
    with FixtureServer() as s:
        route_bcb(s)
        yield s


def sgs_snap(srv: FixtureServer, date: dt.date, cache: Path | None, **live: object) -> pd.DataFrame:
    p = live_params(srv, cache, **live)
    return sgs_snapshot(date, p, make_client("bcb_sgs", parse_live(p["live"]), sleep=lambda s: None), series=SGS)


def rows(df: pd.DataFrame, cols: list[str]) -> list[tuple[object, ...]]:
    return [tuple(r) for r in df[cols].itertuples(index=False)]


# ------------------------------------------------------------------------------------------ SGS

def test_sgs_values_release_and_lookback(srv: FixtureServer, tmp_path: Path) -> None:
    df = sgs_snap(srv, D, tmp_path)
    assert list(df.columns) == BRONZE_SCHEMAS["bronze_bcb_sgs"].names
    ipca = df[df.series_id == "bcb_sgs:433"]
    # lookback starts 2024-03-14: March 2024 (dated 1 March) is out; March 2025 (out 12 April) not yet released
    assert ipca.observation_date.tolist() == [d(2024, m, 1) for m in range(4, 13)] + [d(2025, 1, 1), d(2025, 2, 1)]
    got = dict(zip(ipca.observation_date, ipca.value, strict=False))
    assert got[d(2024, 8, 1)] == pytest.approx(-0.0002, abs=1e-15)
    assert got[d(2025, 2, 1)] == pytest.approx(0.0131, abs=1e-15)  # 1.31 % -> decimal
    assert ipca.set_index("observation_date").release_date[d(2025, 2, 1)] == d(2025, 3, 12)  # end Feb + 12 days
    assert set(df.release_basis) == {"lag"}
    selic = df[df.series_id == "bcb_sgs:11"]
    assert rows(selic, ["observation_date", "release_date"]) == [
        (d(2024, 3, 14), d(2024, 3, 15)), (d(2024, 12, 30), d(2024, 12, 31)), (d(2024, 12, 31), d(2025, 1, 1)),
        (d(2025, 3, 12), d(2025, 3, 13)), (d(2025, 3, 13), d(2025, 3, 14))]  # 14 March 2025 is out on the 15th
    assert selic.value.iloc[0] == pytest.approx(0.00041957, abs=1e-15)  # % per day -> decimal per day
    gdp = df[df.series_id == "bcb_sgs:22099"]  # 2025 answers 404 "no data": an empty year, not an error
    assert rows(gdp, ["observation_date", "value", "release_date"]) == [
        (d(2024, 4, 1), pytest.approx(0.014), d(2024, 9, 3)), (d(2024, 7, 1), pytest.approx(0.009), d(2024, 12, 4)),
        (d(2024, 10, 1), pytest.approx(0.002), d(2025, 3, 6))]
    assert df.equals(df.sort_values(["series_id", "observation_date"]).reset_index(drop=True))


def test_sgs_release_filter_moves_with_the_session(srv: FixtureServer, tmp_path: Path) -> None:
    early = sgs_snap(srv, dt.date(2025, 3, 11), tmp_path)
    assert d(2025, 2, 1) not in set(early[early.series_id == "bcb_sgs:433"].observation_date)
    assert (pd.to_datetime(early.release_date).dt.date <= dt.date(2025, 3, 11)).all()


def test_sgs_cache_two_sessions_fetch_each_year_once(srv: FixtureServer, tmp_path: Path) -> None:
    sgs_snap(srv, dt.date(2025, 3, 13), tmp_path)
    n = srv.count("/sgs/")
    assert n == 6  # 3 series x 2 yearly chunks
    sgs_snap(srv, D, tmp_path)
    assert srv.count("/sgs/") == n  # fetched after both sessions ended: no re-fetch
    for p in tmp_path.rglob("*.bin"):
        assert "sgs-" in str(p)


def test_sgs_open_chunk_refetched_when_fetched_before_session_end(srv: FixtureServer, tmp_path: Path) -> None:
    import json

    sources = {"bcb_sgs": {"base_url": f"{srv.url}/sgs", "settle_days": 60}}
    sgs_snap(srv, D, tmp_path, sources=sources)
    n = srv.count("/sgs/")
    for meta in (tmp_path / "bcb_sgs").glob("*.json"):  # pretend the cache was filled on 13 March at noon
        m = json.loads(meta.read_text())
        m["fetched_at"] = "2025-03-13T12:00:00+00:00"
        meta.write_text(json.dumps(m))
    sgs_snap(srv, D, tmp_path, sources=sources)
    # the 2025 chunks (open) are fetched again; 2024 ones are settled (fetched > 60 days after 31 Dec)
    assert srv.count("/sgs/") == n + 3
    assert all(q["dataInicial"] == "01/01/2025" for _, q in srv.requests[n:])


def test_sgs_retry_then_fail_names_series_and_window(srv: FixtureServer) -> None:
    srv.route("/sgs/bcdata.sgs.433/dados", status=503, body=b"Service Unavailable")
    with pytest.raises(SourceError) as ei:
        sgs_snap(srv, D, None)
    msg = str(ei.value)
    assert "bcb_sgs" in msg and "bcb_sgs:433" in msg and "2024-01-01..2024-12-31" in msg and "HTTP 503" in msg
    assert srv.count("/sgs/bcdata.sgs.433") == 3  # retries: 2


def test_sgs_retry_then_succeed(srv: FixtureServer, tmp_path: Path) -> None:
    srv.route("/sgs/bcdata.sgs.433/dados", status=500, body=b"oops", times=2)
    df = sgs_snap(srv, D, tmp_path)
    assert (df.series_id == "bcb_sgs:433").sum() == 11


S433 = by_name("br_ipca_mom")
Y24 = (d(2024, 1, 1), d(2024, 12, 31))


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (200, b"<!DOCTYPE html><html><body>Erro</body></html>", "HTML"),
        (200, b"", "empty response body"),
        (200, b'[{"data":"01/01/2024","valor":"0.42"},{"data":"01/0', "truncated JSON"),
        (200, b'[{"data":"01/01/2024","value":"0.42"}]', "unexpected record fields"),
        (200, b'[{"data":"01/01/2024","valor":"n/d"}]', "not numeric"),
        (200, b'[{"data":"01/01/2024","valor":"0,42"}]', "comma"),
        (200, b'[{"data":"01/01/2024","valor":"0.42"},{"data":"01/01/2024","valor":"0.43"}]', "duplicate"),
        (200, b'[{"data":"01/01/2023","valor":"0.42"}]', "outside the requested window"),
        (200, b'[{"data":"15/01/2024","valor":"0.42"}]', "dated on the 1st"),
        (200, b'{"erro":{"statusCode":400,"detail":"bad"}}', "got an object"),
        (404, b"<html>Not Found</html>", "HTML page"),
    ],
)
def test_sgs_bad_payloads(status: int, body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match) as ei:
        parse_sgs(status, body, S433, *Y24)
    assert "bcb_sgs:433" in str(ei.value) and "2024-01-01..2024-12-31" in str(ei.value)


def test_sgs_404_message_is_empty_year() -> None:
    df = parse_sgs(404, b'{"error":"Value(s) not found"}', S433, *Y24)
    assert df.empty


def test_sgs_bad_payload_from_server_is_not_cached(srv: FixtureServer, tmp_path: Path) -> None:
    srv.route("/sgs/bcdata.sgs.433/dados", body=b"<html>manutencao</html>", times=1,
              query={"dataInicial": "01/01/2024"})
    with pytest.raises(PayloadError, match="HTML"):
        sgs_snap(srv, D, tmp_path)
    df = sgs_snap(srv, D, tmp_path)  # the next run fetches again and succeeds
    assert (df.series_id == "bcb_sgs:433").sum() == 11


def test_sgs_series_with_no_data_at_all_is_an_error(srv: FixtureServer) -> None:
    srv.route("/sgs/bcdata.sgs.433/dados", status=404, body=b'{"error":"Value(s) not found"}')
    with pytest.raises(PayloadError, match="no observation at all"):
        sgs_snap(srv, D, None)


# ------------------------------------------------------------------------------------------ PTAX

def test_ptax_closing_quote_per_day(srv: FixtureServer, tmp_path: Path) -> None:
    df = snapshot("bcb_ptax", D, live_params(srv, tmp_path))
    assert list(df.columns) == BRONZE_SCHEMAS["bronze_bcb_ptax"].names
    # 2024-03-13 is before the lookback; 2025-03-17 is after the session
    assert rows(df, ["date", "buy", "sell"]) == [
        (d(2024, 3, 14), 4.9732, 4.9738), (d(2024, 12, 30), 6.1917, 6.1923),
        (d(2025, 3, 13), 5.7528, 5.7534), (d(2025, 3, 14), 5.7491, 5.7497)]
    assert df.bulletin_time.iloc[3] == pd.Timestamp("2025-03-14 16:09:30.231", tz="UTC")  # 13:09 BRT = UTC-3
    assert (df.release_date == df.date).all() and set(df.release_basis) == {"captured"}


def test_ptax_keeps_last_quote_of_a_day() -> None:
    body = (b'{"value":[{"cotacaoCompra":4.95,"cotacaoVenda":4.9506,"dataHoraCotacao":"2024-03-13 10:04:12.311"},'
            b'{"cotacaoCompra":4.9763,"cotacaoVenda":4.9769,"dataHoraCotacao":"2024-03-13 13:03:30.157"}]}')
    df = parse_ptax(body, *Y24)
    assert rows(df, ["date", "buy", "sell"]) == [(d(2024, 3, 13), 4.9763, 4.9769)]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html><body>Olinda fora do ar</body></html>", "HTML"),
        (b"", "empty"),
        (b'{"value":[{"cotacaoCompra":4.95,"cotacaoVenda":4.95', "truncated"),
        (b'{"value":[{"cotacaoCompra":4.95,"cotacaoVenda":4.95,"dataHoraCotacao":"2024-03-13 13:00:00",'
         b'"tipoBoletim":"Fechamento"}]}', "unexpected record fields"),
        (b'{"value":[{"cotacaoCompra":"x","cotacaoVenda":4.95,"dataHoraCotacao":"2024-03-13 13:00:00"}]}',
         "not numeric"),
        (b'{"value":[{"cotacaoCompra":4.9,"cotacaoVenda":4.95,"dataHoraCotacao":"2023-12-29 13:00:00"}]}',
         "outside"),
        (b'{"value":[{"cotacaoCompra":4.9,"cotacaoVenda":4.95,"dataHoraCotacao":"2024-03-13 13:00:00"},'
         b'{"cotacaoCompra":4.9,"cotacaoVenda":4.96,"dataHoraCotacao":"2024-03-13 13:00:00"}]}', "duplicate"),
        (b'{"d":[]}', "no 'value' array"),
    ],
)
def test_ptax_bad_payloads(body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match):
        parse_ptax(body, *Y24)


def test_ptax_request_shape(srv: FixtureServer) -> None:
    snapshot("bcb_ptax", D, live_params(srv, None))
    paths = {p for p, _ in srv.requests}
    assert paths == {PTAX_PATH}
    assert srv.requests[0][1] == {"@dataInicial": "'01-01-2024'", "@dataFinalCotacao": "'12-31-2024'",
                                  "$format": "json"}


# ------------------------------------------------------------------------------------------ Focus

def test_focus_choice_units_weekly_and_release(srv: FixtureServer, tmp_path: Path) -> None:
    df = snapshot("bcb_focus", D, live_params(srv, tmp_path))
    assert list(df.columns) == BRONZE_SCHEMAS["bronze_bcb_focus"].names
    got = {(r.indicator, r.reference, r.survey_date): r for r in df.itertuples(index=False)}
    assert set(got) == {
        ("Câmbio", "2025", d(2024, 12, 27)), ("IPCA", "12m", d(2024, 12, 27)), ("IPCA", "12m", d(2025, 3, 7)),
        ("IPCA", "2024", d(2024, 12, 27)), ("IPCA", "2025", d(2024, 12, 27)), ("IPCA", "2025", d(2025, 3, 7)),
        ("IPCA", "2026", d(2025, 3, 7)), ("PIB Total", "2024", d(2024, 12, 27)), ("Selic", "2025", d(2024, 12, 27)),
        ("Selic", "2025", d(2025, 3, 7)),
    }  # not: base 1, IndicadorDetalhe rows, unsmoothed 12m, reference 2027, the Wednesday survey, 14 March
    ipca = got[("IPCA", "2025", d(2025, 3, 7))]
    assert (ipca.median, ipca.mean, ipca.std, ipca.respondents) == (
        pytest.approx(0.0568), pytest.approx(0.056812), pytest.approx(0.00405), 152)
    assert ipca.release_date == d(2025, 3, 10)  # the Monday after the Friday survey
    assert got[("IPCA", "12m", d(2024, 12, 27))].median == pytest.approx(0.0486)  # the smoothed row
    assert got[("Câmbio", "2025", d(2024, 12, 27))].median == pytest.approx(5.96)  # BRL per USD, not scaled
    assert got[("Selic", "2025", d(2024, 12, 27))].median == pytest.approx(0.15)
    assert set(df.release_basis) == {"vintage"}
    assert (pd.to_datetime(df.release_date).dt.date <= D).all()


def test_focus_holiday_monday_releases_on_tuesday() -> None:
    from brmacro.bronze.live.focus import weekly

    df = pd.DataFrame({"indicator": ["IPCA"], "reference": ["2025"], "survey_date": [d(2025, 3, 28)],
                       "median": [0.05], "mean": [0.05], "std": [0.001], "respondents": [100]})
    assert weekly(df).release_date.tolist() == [d(2025, 3, 31)]
    df2 = df.assign(survey_date=[d(2024, 11, 1)])  # Friday before... Monday 4 Nov 2024 is a session
    assert weekly(df2).release_date.tolist() == [d(2024, 11, 4)]
    df3 = df.assign(survey_date=[d(2025, 4, 17)])  # Thursday before Good Friday: week ends 18 Apr, out Monday 21?
    from brmacro.calendar import next_session

    assert weekly(df3).release_date.tolist() == [next_session(d(2025, 4, 18))]


def test_focus_duplicates_after_the_choice_are_an_error() -> None:
    rec = ('{"Indicador":"IPCA","IndicadorDetalhe":null,"Data":"2024-12-27","DataReferencia":"2025","Media":4.9,'
           '"Mediana":4.9,"DesvioPadrao":0.3,"Minimo":4.0,"Maximo":6.0,"numeroRespondentes":140,"baseCalculo":0}')
    with pytest.raises(PayloadError, match="duplicate"):
        parse_focus(f'{{"value":[{rec},{rec}]}}'.encode(), ANNUAL, *Y24)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>erro</html>", "HTML"),
        (b"", "empty"),
        (b'{"value":[{"Indicador":"IPCA"', "truncated"),
        (b'{"value":[{"Indicador":"IPCA","Data":"2024-12-27"}]}', "unexpected record fields"),
        (b'{"value":[{"Indicador":"IPCA","IndicadorDetalhe":null,"Data":"2024-12-27","DataReferencia":"2025",'
         b'"Media":4.9,"Mediana":"n/a","DesvioPadrao":0.3,"Minimo":4.0,"Maximo":6.0,"numeroRespondentes":140,'
         b'"baseCalculo":0}]}', "not numeric"),
        (b'{"value":[{"Indicador":"IPCA","IndicadorDetalhe":null,"Data":"2023-12-29","DataReferencia":"2025",'
         b'"Media":4.9,"Mediana":4.9,"DesvioPadrao":0.3,"Minimo":4.0,"Maximo":6.0,"numeroRespondentes":140,'
         b'"baseCalculo":0}]}', "outside"),
    ],
)
def test_focus_bad_payloads(body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match) as ei:
        parse_focus(body, ANNUAL, *Y24)
    assert "bcb_focus" in str(ei.value) and ANNUAL in str(ei.value)


def test_focus_cache_two_sessions(srv: FixtureServer, tmp_path: Path) -> None:
    p = live_params(srv, tmp_path)
    snapshot("bcb_focus", dt.date(2025, 3, 13), p)
    n = srv.count("/focus/")
    assert n == 4
    snapshot("bcb_focus", D, p)
    assert srv.count("/focus/") == n
    assert srv.count(FOCUS_ANNUAL) == 2
