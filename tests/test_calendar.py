"""Table-driven tests of kpilib.calendar against golden cases in tests/fixtures/calendar/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from kpilib import calendar as cal
from kpilib.errors import CalendarError, ConfigError

CASES = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "calendar" / "cases.yaml").read_text(encoding="utf-8")
)


def _ids(rows: list[dict], key: str = "date") -> list[str]:
    return [str(r.get(key, i)) for i, r in enumerate(rows)]


@pytest.fixture(scope="module")
def bc() -> cal.BusinessCalendar:
    return cal.business_calendar()


@pytest.mark.parametrize("case", CASES["fiscal_years"], ids=_ids(CASES["fiscal_years"], "fy"))
def test_fiscal_year_bounds(case):
    assert cal.fiscal_year_bounds(case["fy"]) == (case["start"], case["end"])
    assert cal.fiscal_year(case["start"]) == case["fy"]
    assert cal.fiscal_year(case["end"]) == case["fy"]
    assert cal.fiscal_year(case["start"] - dt.timedelta(days=1)) == case["fy"] - 1


@pytest.mark.parametrize("case", CASES["fiscal_quarter_of"], ids=_ids(CASES["fiscal_quarter_of"]))
def test_fiscal_quarter_of(case):
    assert cal.fiscal_quarter(case["date"]) == (case["fy"], case["quarter"])


@pytest.mark.parametrize(
    "case", CASES["quarter_bounds"], ids=_ids(CASES["quarter_bounds"], "quarter")
)
def test_quarter_bounds_and_months(case):
    start, end = cal.quarter_bounds(case["fy"], case["quarter"])
    assert (start, end) == (case["start"], case["end"])
    months = cal.quarter_months(case["fy"], case["quarter"])
    assert months[0] == (start.year, start.month)
    assert months[-1] == (end.year, end.month)
    assert len(months) == 3


def test_fiscal_months_start_in_october():
    months = cal.fiscal_months(2567)
    assert months[0] == (2023, 10) and months[-1] == (2024, 9) and len(months) == 12


@pytest.mark.parametrize(
    ("year", "match"),
    [
        (2020, "did you mean 2563"),
        (2024, "did you mean 2567"),
        (1900, "not a plausible"),
        ("25x7", "4-digit"),
        (True, "must be a year"),
    ],
)
def test_require_be_year_refuses_ce(year, match):
    with pytest.raises(CalendarError, match=match):
        cal.require_be_year(year)


@pytest.mark.parametrize(("year", "expected"), [(2563, 2563), ("2567", 2567), ("๒๕๖๗", 2567)])
def test_require_be_year_accepts_be(year, expected):
    assert cal.require_be_year(year) == expected


def test_fiscal_functions_refuse_ce_year():
    with pytest.raises(CalendarError, match="2563"):
        cal.fiscal_year_bounds(2020)
    with pytest.raises(CalendarError, match="quarter"):
        cal.quarter_bounds(2563, 5)


@pytest.mark.parametrize(
    ("year", "expect", "fragment"),
    [
        (2567, "ce", "2567 - 543 = 2024"),
        (2024, "be", "2024 + 543 = 2567"),
        (2024, "ce", None),
        (2567, "be", None),
    ],
)
def test_era_confusion(year, expect, fragment):
    msg = cal.era_confusion(year, expect=expect)
    if fragment is None:
        assert msg is None
    else:
        assert fragment in msg


@pytest.mark.parametrize("case", CASES["thai_dates"], ids=_ids(CASES["thai_dates"]))
@pytest.mark.parametrize("style", ["numeric", "short", "long"])
def test_thai_dates_format_and_parse(case, style):
    text = cal.format_thai_date(case["date"], style=style)
    assert text == case[style]
    assert cal.parse_thai_date(text) == case["date"]
    thai = cal.format_thai_date(case["date"], style=style, thai_digits=True)
    assert not any(ch.isascii() and ch.isdigit() for ch in thai)
    assert cal.parse_thai_date(thai) == case["date"]


@pytest.mark.parametrize("case", CASES["parse_only"], ids=_ids(CASES["parse_only"], "text"))
def test_parse_variants(case):
    assert cal.parse_thai_date(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", CASES["parse_errors"], ids=_ids(CASES["parse_errors"], "text"))
def test_parse_errors(case):
    with pytest.raises(CalendarError, match=case["match"]):
        cal.parse_thai_date(case["text"])


def test_thai_digits_round_trip():
    assert cal.to_thai_digits("2567") == "๒๕๖๗"
    assert cal.from_thai_digits("๒๕๖๗") == "2567"
    assert cal.from_thai_digits(cal.to_thai_digits("0123456789")) == "0123456789"


@pytest.mark.parametrize("case", CASES["not_business_days"], ids=_ids(CASES["not_business_days"]))
def test_not_business_days(bc, case):
    assert bc.is_business_day(case["date"]) is False


@pytest.mark.parametrize("case", CASES["business_days"], ids=_ids(CASES["business_days"]))
def test_business_days(bc, case):
    assert bc.is_business_day(case["date"]) is True


@pytest.mark.parametrize("case", CASES["add_business_days"], ids=_ids(CASES["add_business_days"]))
def test_add_business_days(bc, case):
    assert bc.add_business_days(case["date"], case["n"]) == case["expected"]


@pytest.mark.parametrize(
    "case", CASES["business_days_between"], ids=_ids(CASES["business_days_between"], "start")
)
def test_business_days_between(bc, case):
    assert bc.business_days_between(case["start"], case["end"]) == case["expected"]


@pytest.mark.parametrize(
    "case",
    CASES["last_business_day_of_month"],
    ids=_ids(CASES["last_business_day_of_month"], "month"),
)
def test_last_business_day_of_month(bc, case):
    assert bc.last_business_day_of_month(case["year"], case["month"]) == case["expected"]
    assert bc.last_day_of_month(case["year"], case["month"]).month == case["month"]


def test_vectorised_equals_scalar(bc):
    rng = np.random.default_rng(7)
    start = np.datetime64("2019-09-01")
    days = start + rng.integers(0, 5 * 365, size=3000).astype("timedelta64[D]")
    n = rng.integers(0, 6, size=days.size)
    later = days + rng.integers(-20, 40, size=days.size).astype("timedelta64[D]")
    is_bd = bc.is_business_day_array(days)
    added = bc.add_business_days_array(days, n)
    between = bc.business_days_between_array(days, later)
    for i in range(0, days.size, 7):
        d = pd.Timestamp(days[i]).date()
        e = pd.Timestamp(later[i]).date()
        assert is_bd[i] == bc.is_business_day(d)
        assert pd.Timestamp(added[i]).date() == bc.add_business_days(d, int(n[i]))
        assert between[i] == bc.business_days_between(d, e)


def test_vectorised_accepts_tz_aware_series_and_nat(bc):
    ser = pd.Series(
        pd.to_datetime(["2019-12-06 23:30", None, "2019-12-10 08:00"]).tz_localize(cal.BANGKOK)
    )
    assert bc.is_business_day_array(ser).tolist() == [True, False, False]
    added = bc.add_business_days_array(ser, 1)
    assert str(added[0]) == "2019-12-09" and np.isnat(added[1])
    between = bc.business_days_between_array(ser, ser)
    assert between[0] == 0 and np.isnan(between[1])


def test_outside_calendar_range_is_refused(bc):
    with pytest.raises(CalendarError, match="outside the business calendar"):
        bc.is_business_day(dt.date(2040, 1, 2))


def test_extra_cabinet_days_from_params(tmp_path):
    extras = tmp_path / "holidays.yaml"
    extras.write_text(
        "holidays:\n  2019-12-09: วันหยุดพิเศษ (ทดสอบ)\nworkdays:\n  2019-12-10: ยกเลิก (ทดสอบ)\n",
        encoding="utf-8",
    )
    bc = cal.business_calendar(extras_path=extras)
    assert bc.is_business_day("2019-12-09") is False
    assert bc.is_business_day("2019-12-10") is True
    assert bc.add_business_days("2019-12-06", 1) == dt.date(2019, 12, 10)
    assert bc.holiday_name("2019-12-09") == "วันหยุดพิเศษ (ทดสอบ)"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("nonsense: 1\n", "unknown key"),
        ("holidays:\n  not-a-date: x\n", "not an ISO date"),
        ("holidays: [1, 2]\n", "expected a mapping"),
    ],
)
def test_bad_holiday_file(tmp_path, text, match):
    p = tmp_path / "holidays.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as err:
        cal.load_holiday_extras(p)
    assert str(p) in str(err.value)


def test_to_bangkok():
    utc = pd.Series(pd.to_datetime(["2023-05-11 18:30:00+00:00", "2023-05-11 16:00:00+00:00"]))
    bkk = cal.to_bangkok(utc)
    assert [d.isoformat() for d in bkk.dt.date] == ["2023-05-12", "2023-05-11"]
    with pytest.raises(CalendarError, match="naive"):
        cal.to_bangkok(pd.Timestamp("2023-05-11 18:30"))
    assert cal.to_bangkok(pd.Timestamp("2023-05-11 18:30"), assume_tz="UTC").day == 12
