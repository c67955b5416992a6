"""Agents: five analytical models of the Brazilian-macro book, computed from silver only.

Each agent module exposes a pure ``run_*`` function on :class:`~brmacro.agents.data.SilverData`
(silver filtered to what was public by the session: macro rows by ``release_date``, market rows by
``date``); :mod:`brmacro.agents.steps` holds the five pipeline steps. Units are project units
(decimals per year); directions are in the price convention (DESIGN §4) with one explicit mapping
per model, written in each module's docstring and in every signal's ``drivers["mapping"]``.

Models (DOMAIN Part B §6 with the Part A fixes) and where they differ from the older system:

* inflation (instrument DI1_1Y; US trend on UST_10Y): Phillips curve as a 12-month-ahead OLS
  forecast of core IPCA 12m on its current value, Focus 12m, the output gap and USDBRL y/y
  (rows with a missing regressor are dropped, never mean-filled); bottom-up forecast = seasonal
  shape of each IPCA group + its recent seasonally adjusted momentum, IBGE weights; surprise vs a
  monthly consensus *derived* from the Focus calendar-year median and the realised year to date
  (not Focus 12m / 12); persistence score whose expectations part rises with Focus above target
  (the older "anchoring" part rose with anchoring, the wrong sign); US core PCE trend.
* monetary_policy (DI1_1Y; term premium DI1_5Y; Fed UST_10Y): Kalman r* (local level on monthly
  Selic − Focus 12m − 0.5·gap, checked against statsmodels); Taylor rule without the older inertia
  term; Focus Selic path (linear through the year-end medians) vs DI 1Y; term premium = DI 5Y minus
  the Focus path average over 5 years, z-scored over its *real* 800-session history rebuilt with
  the Focus values as released on each session; Fed stance vs Taylor (1993) with an Okun gap.
* fiscal (USDBRL): real r (DI 5Y deflated by Focus 12m) and g (Focus GDP) DSA over four
  scenarios; confidence counts the scenarios *agreeing* with the baseline's direction (the older
  count of stabilising scenarios made an exploding-debt signal weakest); impulse = z of the
  12-month change of the primary deficit/GDP; dominance score renormalised over available parts
  (missing parts are not set to 50).
* fx_equilibrium (USDBRL): BEER on a terms-of-trade proxy (mean log of soy, oil, copper futures),
  BR_REAL 5Y − UST_REAL 5Y, log reserves and log DXY; carry-to-risk z. The flow model (no BCB
  flow / CFTC source) and the CIP basis (no DDI/FRC data) are dropped, not proxied.
* cross_asset (IBOV; informational rows without instrument): risk-off score, 63 vs 252 session
  correlation breaks of real pairs (the DI–UST pair uses DI1_5Y and UST_10Y yield changes),
  sentiment with HY OAS in decimals, a 4-state diagonal Gaussian HMM fitted on the session's
  756-session daily feature history, states labelled by a Hungarian assignment on the signs of
  their mean growth/inflation, tail risk counting only *high* VIX/HY z-scores, and the seven
  consistency rules on the real signal ids of the four upstream agents.

A series that silver does not carry raises :class:`~brmacro.agents.data.SeriesMissing` naming it
and the session; a model whose history is too short emits a neutral NO_SIGNAL row with a null
value and the reason in ``drivers["not_computed"]``.
"""

from __future__ import annotations

from brmacro._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "Feature": "common",
        "Signal": "common",
        "classify_strength": "common",
        "composite": "common",
        "target_at": "common",
        "SeriesMissing": "data",
        "SilverData": "data",
    },
)
