"""Schema.conform's date check: column-wise for a clean column, and still naming the first bad row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from brmacro.io import ArtifactError, Col, Schema

S = Schema("t", (Col("date", "date"), Col("x", "float", nullable=True)), key=("date",))


def test_a_column_of_dates_passes_and_keeps_its_values() -> None:
    df = pd.DataFrame({"date": [dt.date(2025, 1, 3), dt.date(2025, 1, 2)], "x": [1.0, None]})
    out = S.conform(df).to_pandas(date_as_object=True)
    assert list(out["date"]) == [dt.date(2025, 1, 2), dt.date(2025, 1, 3)]


@pytest.mark.parametrize("bad", [20250102, "2025-01-02", 1.5])
def test_a_value_that_is_not_a_date_is_refused_at_its_row(bad: object) -> None:
    df = pd.DataFrame({"date": [dt.date(2025, 1, 2), dt.date(2025, 1, 3), bad], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ArtifactError, match=r"column 'date' is not a date at row 2"):
        S.conform(df)
