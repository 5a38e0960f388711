"""Tests of the complaint engine (kpilib.complaints) on hand-made event logs and tables."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from conftest import golden_tickets as _golden_tickets
from fresh_python import python_stdout

from kpilib import complaints as C
from kpilib.catalog import load_catalog
from kpilib.errors import InputError, ParameterError, SchemaError
from kpilib.numbers import round_half_up

FIX = Path(__file__).resolve().parent / "fixtures" / "complaints"
BKK = "Asia/Bangkok"
CASES = yaml.safe_load((FIX / "step12_cases.yaml").read_text(encoding="utf-8"))["cases"]


def _districts() -> tuple[str, ...]:
    return load_catalog().district_codes()


def _events(rows: list[list[str]], ticket_id: str = "C1", unit: str = "1032") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticket_id": [ticket_id] * len(rows),
            "unit_code": [unit] * len(rows),
            "event": pd.Categorical([r[0] for r in rows], categories=C.EVENT_TYPES),
            "timestamp": pd.to_datetime([r[1] for r in rows], utc=True).tz_convert(BKK),
        }
    )


def _date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).date()
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def _plain(value):
    if value is pd.NA or value is None:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _run_case(case: dict) -> C.ComplianceResult:
    return C.evaluate_compliance(
        _events(case["events"]),
        fy=case["fy"],
        as_of=case.get("as_of"),
        february=case.get("february", "last_day"),
    )


# --------------------------------------------------------------------------- steps 1 and 2


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_step12_case(case: dict) -> None:
    res = _run_case(case)
    assert len(res.tickets) == 1
    row = res.tickets.iloc[0]
    for key, want in case["expect"].items():
        got = row[key]
        if isinstance(want, dt.date) or (
            want is None and key.endswith(("_on", "_due", "checkpoint"))
        ):
            assert _date(got) == want, f"{key}: {got!r} != {want!r}"
        else:
            assert _plain(got) == want, f"{key}: {got!r} != {want!r}"


REASON_CASES = [c for c in CASES if "reasons" in c]


@pytest.mark.parametrize("case", REASON_CASES, ids=[c["id"] for c in REASON_CASES])
def test_noncompliance_reasons(case: dict) -> None:
    reasons = C.noncompliance_reasons(_run_case(case))
    got = [
        [int(r.step), r.rule, _date(r.due), _date(r.actual), _plain(r.late_business_days)]
        for r in reasons.itertuples()
    ]
    assert got == case["reasons"]


def test_compliant_ticket_has_no_reasons() -> None:
    case = next(c for c in CASES if c["id"] == "songkran_2024")
    assert C.noncompliance_reasons(_run_case(case)).empty


@pytest.mark.parametrize(
    ("first", "last", "february", "expected"),
    [
        (
            "2019-10-01",
            "2019-11-30",
            "last_day",
            ["2019-10-15", "2019-10-30", "2019-11-15", "2019-11-30"],
        ),
        ("2020-02-01", "2020-03-01", "last_day", ["2020-02-15", "2020-02-29"]),
        ("2020-02-01", "2020-03-01", "last_business_day", ["2020-02-15", "2020-02-28"]),
        ("2023-02-01", "2023-03-01", "last_day", ["2023-02-15", "2023-02-28"]),
        # 26 Feb 2021 (Fri) was Makha Bucha day: the last business day is Thu 25 Feb
        ("2021-02-01", "2021-03-01", "last_business_day", ["2021-02-15", "2021-02-25"]),
        ("2019-12-16", "2020-01-15", "last_day", ["2019-12-30", "2020-01-15"]),
    ],
)
def test_checkpoint_days(first: str, last: str, february: str, expected: list[str]) -> None:
    got = C.checkpoint_days(
        dt.date.fromisoformat(first), dt.date.fromisoformat(last), february=february
    )
    assert [d.isoformat() for d in got] == expected


def test_quarter_is_cumulative_and_as_of_quarter_end() -> None:
    """A ticket forwarded on 30 Dec counts as compliant in Q1 (acceptance not yet due) and
    late from Q2 on; a ticket of January only counts from Q2."""
    ev = pd.concat(
        [
            _events(
                [
                    ["forwarded", "2019-12-30T09:00:00+07:00"],
                    ["accepted", "2020-01-03T09:00:00+07:00"],
                ],
                "A",
            ),
            _events(
                [
                    ["forwarded", "2020-01-06T09:00:00+07:00"],
                    ["accepted", "2020-01-06T10:00:00+07:00"],
                    ["finished", "2020-01-07T10:00:00+07:00"],
                ],
                "B",
            ),
        ],
        ignore_index=True,
    )
    res = C.evaluate_compliance(ev, fy=2563)
    q = C.compliance_by_quarter(res).set_index("quarter")
    assert q.loc[1, ["received", "compliant", "resolved"]].tolist() == [1, 1, 0]
    assert q.loc[2, ["received", "compliant", "resolved"]].tolist() == [2, 1, 1]
    assert q.loc[4, "compliant_pct"] == 50.0
    ye = C.year_end_resolution(res).iloc[0]
    assert (ye["received"], ye["resolved"], ye["met"]) == (2, 1, False)


def test_year_end_not_judged_before_year_end() -> None:
    ev = _events(
        [["forwarded", "2019-10-01T09:00:00+07:00"], ["finished", "2019-10-02T09:00:00+07:00"]]
    )
    res = C.evaluate_compliance(ev, fy=2563, as_of="2019-12-31")
    ye = C.year_end_resolution(res).iloc[0]
    assert ye["resolved_pct"] == 100.0
    assert ye["met"] is None


def test_ticket_without_forwarded_event_uses_created_at() -> None:
    ev = _events([["accepted", "2019-12-06T09:00:00+07:00"]], "X", unit="9999")
    tickets = pd.DataFrame(
        {
            "ticket_id": ["X"],
            "unit_code": ["1001"],
            "created_at": pd.to_datetime(["2019-12-04T08:00:00+07:00"]).tz_convert(BKK),
        }
    )
    row = C.evaluate_compliance(ev, tickets=tickets, fy=2563).tickets.iloc[0]
    assert (row["unit_code"], row["received_from"], _date(row["accept_due"])) == (
        "1001",
        "created_at",
        dt.date(2019, 12, 6),
    )
    res = C.evaluate_compliance(ev, fy=2563)
    assert res.tickets.empty
    assert res.unplaced["ticket_id"].tolist() == ["X"]


def test_unknown_event_and_naive_timestamps_are_refused() -> None:
    ev = _events([["forwarded", "2019-12-04T10:00:00+07:00"]])
    bad = ev.assign(event=pd.Series(["closed"]))
    with pytest.raises(SchemaError, match="closed"):
        C.evaluate_compliance(bad, fy=2563)
    naive = ev.assign(timestamp=ev["timestamp"].dt.tz_localize(None))
    with pytest.raises(SchemaError, match="timezone-aware"):
        C.evaluate_compliance(naive, fy=2563)
    with pytest.raises(SchemaError, match="event"):
        C.evaluate_compliance(ev.drop(columns=["event"]), fy=2563)
    with pytest.raises(ParameterError, match="february"):
        C.evaluate_compliance(ev, fy=2563, february="leap")


# --------------------------------------------------------------------------- monthly figures


def _half_up(x: float) -> float:
    return float(Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_prawet_golden_figures(golden: dict) -> None:
    rows = golden["monthly_complaints_prawet_fy2563"]
    tickets = _golden_tickets(rows)
    for row in rows:
        fig = C.monthly_figures(
            tickets, month=row["month"], as_of=row["as_of"], units=["1032"]
        ).iloc[0]
        assert (fig["received"], fig["finished"], fig["in_progress"]) == (
            row["received"],
            row["finished"],
            row["in_progress"],
        )
        assert round_half_up(fig["finished_pct"]) == row["finished_pct"]
        assert _half_up(fig["in_progress_pct"]) == row["in_progress_pct"]
        assert fig["state_basis"] == "as_of"


def test_december_report_window_ends_on_as_of() -> None:
    t = pd.DataFrame(
        {
            "ticket_id": ["a", "b", "c"],
            "unit_code": ["1032"] * 3,
            "created_at": pd.to_datetime(
                [
                    "2019-12-24T23:59:00+07:00",
                    "2019-12-24T17:30:00+00:00",
                    "2019-12-01T00:00:00+07:00",
                ],
                utc=True,
            ).tz_convert(BKK),
            "finished_at": pd.to_datetime(
                ["2019-12-24T23:59:59+07:00", None, "2019-12-25T00:00:00+07:00"], utc=True
            ).tz_convert(BKK),
        }
    )
    fig = C.monthly_figures(t, month="2019-12", as_of="2019-12-24").iloc[0]
    assert (fig["received"], fig["finished"], fig["in_progress"]) == (2, 1, 1)
    assert fig["window_end"] == dt.date(2019, 12, 24)
    with pytest.raises(ParameterError, match="Buddhist"):
        C.monthly_figures(t, month="2562-12")


@pytest.mark.parametrize(
    ("value", "expected"), [(60.365, 60.37), (39.635, 39.64), (100.0, 100.0), (0.004999, 0.0)]
)
def test_round_half_up(value: float, expected: float) -> None:
    assert round_half_up(value) == expected


def test_monthly_trend_for_a_unit() -> None:
    tickets = _golden_tickets(
        [
            {
                "month": "2019-10",
                "as_of": "2019-10-28",
                "received": 10,
                "finished": 4,
                "in_progress": 6,
            }
        ]
    )
    trend = C.monthly_trend(tickets, "1032", 2563, as_of="2019-11-10")
    assert trend["month"].tolist() == ["2019-10", "2019-11"]
    oct_ = trend.iloc[0]
    # 10 received by 28 Oct + the distractor on 29 Oct; the Sep distractor is out
    assert oct_["received"] == 11
    assert trend.iloc[1]["received"] == 0
    # finished in October: 4 by the as-of day, 3 on 29 Oct, and the September distractor
    assert oct_["finished_in_month"] == 8


# --------------------------------------------------------------------------- step 3


def test_step3_table() -> None:
    subs = pd.read_csv(FIX / "report_submissions.csv", dtype=str)
    want = pd.read_csv(FIX / "step3_expected.csv", dtype=str, keep_default_na=False)
    got = C.step3_table(subs, fy=2563, through_quarter=1)
    assert len(got) == len(want)
    for g, w in zip(got.itertuples(), want.itertuples(), strict=True):
        assert (g.unit_code, g.month, g.due.date().isoformat()) == (w.unit_code, w.month, w.due)
        assert bool(g.on_time) == (w.on_time == "true"), (g.unit_code, g.month)
        assert _plain(g.days_late) == (int(w.days_late) if w.days_late else None)
    # as_of before the December report is due: December is not counted yet
    early = C.step3_table(subs, fy=2563, through_quarter=1, as_of="2020-01-09")
    assert set(early["month"]) == {"2019-10", "2019-11"}


# --------------------------------------------------------------------------- KPI 4


def _read_tickets(name: str) -> pd.DataFrame:
    df = pd.read_csv(FIX / name, dtype=str, keep_default_na=False)
    for col in ("created_at", "finished_at"):
        df[col] = pd.to_datetime(df[col].replace("", None), utc=True).dt.tz_convert(BKK)
    df["state_is_export_time"] = df["state_is_export_time"] == "true"
    return df


def test_traffy_resolution_as_of_quarter_end_and_labels() -> None:
    tickets = _read_tickets("traffy_tickets.csv")
    want = pd.read_csv(FIX / "traffy_expected.csv", dtype=str, keep_default_na=False)
    got = C.traffy_resolution(tickets, fy=2567, units=_districts())
    assert len(got) == 50 * 4
    got = got.set_index(["unit_code", "quarter"])
    for w in want.itertuples():
        row = got.loc[(w.unit_code, int(w.quarter))]
        assert (row["received"], row["resolved"]) == (int(w.received), int(w.resolved)), w
        basis = "" if pd.isna(row["state_basis"]) else row["state_basis"]
        assert basis == w.state_basis, w


def test_traffy_ranking_lists_all_districts() -> None:
    rank = C.traffy_ranking(
        _read_tickets("traffy_tickets.csv"), fy=2567, quarter=1, units=_districts()
    )
    assert len(rank) == 50
    assert rank["unit_code"].tolist()[:3] == ["1003", "1002", "1001"]
    assert rank["rank"].tolist()[:3] == [1, 2, 3]
    assert rank["rank"].isna().sum() == 47


def test_chart_helpers() -> None:
    tickets = _read_tickets("traffy_tickets.csv")
    by_type = C.complaints_by_type(tickets, unit_code="1001").set_index("type_tag")["received"]
    assert by_type.to_dict() == {"ถนน": 3, "ทางเท้า": 1, "น้ำท่วม": 1, C.NO_TAG: 1}
    ageing = C.backlog_ageing(tickets, as_of="2023-11-20", unit_code="1001")
    # open on 20 Nov: T1 (46 days), T3 (19 days); T5 (event log) finished 7 Oct
    assert ageing["open"].tolist() == [0, 0, 1, 1]
    decoded = C.TicketArrays.of(tickets)  # a report passes the decoded tickets of its bundle
    for unit in ("1001", None):
        pd.testing.assert_frame_equal(
            C.backlog_ageing(decoded, as_of="2023-11-20", unit_code=unit),
            C.backlog_ageing(tickets, as_of="2023-11-20", unit_code=unit),
        )
    ttf = C.time_to_finish(tickets, unit_code="1003")
    assert ttf["days"].tolist() == [1.0]


# --------------------------------------------------------------------------- measures


class _Bundle:
    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self._tables = tables
        self.reads = 0

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        self.reads += 1
        return self._tables[name]


def _bundle() -> _Bundle:
    evs = [
        _events(c["events"], ticket_id=c["id"], unit="1032")
        for c in CASES
        if c["fy"] == 2563 and "as_of" not in c and c.get("february", "last_day") == "last_day"
    ]
    return _Bundle(
        {
            "events": pd.concat(evs, ignore_index=True),
            "tickets": _read_tickets("traffy_tickets.csv"),
            "report_submissions": pd.read_csv(FIX / "report_submissions.csv", dtype=str),
        }
    )


def test_measures_read_the_bundle_once_and_match_the_engine() -> None:
    b = _bundle()
    res = C.evaluate_compliance(b.table("events"), fy=2563)
    by_q = C.compliance_by_quarter(res).set_index(["unit_code", "quarter"])
    for q in (1, 2, 3, 4):
        assert C.m_step12_total(b, "1032", 2563, q) == by_q.loc[("1032", q), "received"]
        assert C.m_step12_compliant(b, "1032", 2563, q) == by_q.loc[("1032", q), "compliant"]
    reads = b.reads
    C.m_step12_total(b, "1032", 2563, 2)
    assert b.reads == reads  # cached per bundle
    assert C.m_step12_total(b, "1001", 2563, 4) is None
    assert (C.m_step3_on_time(b, "1033", 2563, 1), C.m_step3_months(b, "1033", 2563, 1)) == (1, 3)
    assert C.m_step3_months(b, "1033", 2563, 2) == 6
    assert C.m_step3_on_time(b, "1050", 2563, 1) is None


def test_traffy_measures_refuse_export_time_figures() -> None:
    b = _bundle()
    assert (C.m_traffy_resolved(b, "1001", 2567, 2), C.m_traffy_received(b, "1001", 2567, 2)) == (
        2,
        4,
    )
    assert C.m_traffy_resolved(b, "1002", 2567, 1) is None
    k = C.traffy_kpi(b, "1002", 2567, 1)
    assert (k["resolved"], k["received"], k["state_basis"]) == (1, 2, "export_time")
    whole = C.traffy_kpi(b, "GOVSEC", 2567, 1, districts=_districts())
    assert (whole["received"], whole["state_basis"]) == (7, "mixed")
    assert C.m_traffy_received(b, "GOVSEC", 2567, 1) is None


def test_all_three_steps_per_complaint() -> None:
    """A complaint counts when steps 1-2 passed and its month's summary was on time (or not yet
    due at the cut-off): checked against the per-ticket table and the step-3 table."""
    b = _bundle()
    res = C.evaluate_compliance(b.table("events"), fy=2563)
    t = res.tickets
    step3 = C.step3_table(b.table("report_submissions"), fy=2563)
    on_time = {
        (u, m): ok
        for u, m, ok in zip(step3["unit_code"], step3["month"], step3["on_time"], strict=True)
    }
    month = pd.to_datetime(t["received_on"]).dt.strftime("%Y-%m")
    due = pd.to_datetime(t["received_on"]).dt.to_period("M").dt.to_timestamp() + pd.DateOffset(
        months=1, days=9
    )
    cutoff = pd.Timestamp(res.cutoff)
    month_ok = [
        d > cutoff or on_time.get((u, m), False)
        for u, m, d in zip(t["unit_code"].astype(str), month, due, strict=True)
    ]
    expected = int((t["compliant"].to_numpy() & pd.Series(month_ok).to_numpy()).sum())
    assert 0 < expected < int(t["compliant"].sum())  # step 3 removes some complaints here
    assert C.m_all_steps_compliant(b, "1032", 2563, 4) == expected


def test_complaint_measures_are_registered() -> None:
    from kpilib.measures import MEASURES

    b = _bundle()
    complaint = {n: m for n, m in MEASURES.items() if m.module == "kpilib.complaints.measures"}
    assert len(complaint) == 11
    for spec in complaint.values():
        fn = getattr(C, spec.function)
        assert spec.fn is fn
        assert spec(b, "1032", 2563, 4) == fn(b, "1032", 2563, 4)


# --------------------------------------------------------------------------- vs the row-by-row reference


def _load_bench():
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_complaints.py"
    spec = importlib.util.spec_from_file_location("bench_complaints", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("february", ["last_day", "last_business_day"])
def test_engine_agrees_with_row_by_row_reference(february: str) -> None:
    bench = _load_bench()
    _tickets, events = bench.generate(3000, seed=7, fy=2563)
    res = C.evaluate_compliance(events, fy=2563, february=february)
    ref = bench.reference_compliance(events, fy=2563, february=february)
    got = res.tickets.set_index("ticket_id")
    assert len(got) == len(ref) > 2500
    for col in (
        "step1_ok",
        "step2_ok",
        "compliant",
        "checkpoints_required",
        "checkpoints_missed",
        "finished",
    ):
        assert all(got.loc[t, col] == r[col] for t, r in ref.items()), col
    for col in ("fail_on", "finished_on"):
        assert all(_date(got.loc[t, col]) == r[col] for t, r in ref.items()), col
    assert got["compliant"].mean() < 1.0 and got["compliant"].mean() > 0.2
    # the sample holds tickets finished, reopened and finished again after the cut-off
    late = [t for t, r in ref.items() if r["finished_on"] is not None]
    assert (got.loc[late, "finished_on"] <= pd.Timestamp(res.cutoff)).all()


def test_checkpoint_rows_show_windows() -> None:
    case = next(c for c in CASES if c["id"] == "month_with_31_days")
    cp = _run_case(case).checkpoints
    got = [(_date(r.window_start), _date(r.checkpoint), bool(r.updated)) for r in cp.itertuples()]
    assert got == [
        (dt.date(2019, 10, 1), dt.date(2019, 10, 15), True),
        (dt.date(2019, 10, 16), dt.date(2019, 10, 30), False),
        (dt.date(2019, 10, 31), dt.date(2019, 11, 15), True),
    ]


def test_cli_figures_prints_monthly_figures(tmp_path: Path, golden: dict, capsys) -> None:
    from kpilib.cli import main

    tickets = _golden_tickets(golden["monthly_complaints_prawet_fy2563"])
    (tmp_path / "processed").mkdir()
    tickets.to_parquet(tmp_path / "processed" / "tickets.parquet", index=False)
    assert main(["figures", "--data", str(tmp_path), "--unit", "1032", "--fy", "2563"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "พ.ย. 2562" in ln).split()
    fig = C.monthly_figures(tickets, month="2019-11", units=["1032"]).iloc[0]  # as of 30 Nov
    assert line[0] == "1032"
    assert [int(x) for x in line[3:6]] == [fig["received"], fig["finished"], fig["in_progress"]]
    assert line[6] == f"{round_half_up(fig['finished_pct']):.2f}"
    assert main(["figures", "--data", str(tmp_path), "--fy", "2019"]) == 2
    assert "Common-Era" in capsys.readouterr().err


# --------------------------------------------------------------------------- KPI 3.1 measures


def _read_events(name: str) -> pd.DataFrame:
    df = pd.read_csv(FIX / name, dtype=str)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).dt.tz_convert(BKK)
    df["event"] = pd.Categorical(df["event"], categories=C.EVENT_TYPES)
    return df


KPI31 = pd.read_csv(FIX / "kpi31_expected.csv", dtype={"unit_code": str}).to_dict("records")
KPI31_MEASURES = {
    "complaints_received": "received",
    "complaints_step12_total": "received",
    "complaints_step1_compliant": "step1_ok",
    "complaints_step2_compliant": "step2_ok",
    "complaints_step12_compliant": "compliant",
    "complaints_resolved": "resolved",
}


@pytest.mark.parametrize("row", KPI31, ids=[f"{r['unit_code']}-q{r['quarter']}" for r in KPI31])
def test_kpi31_measures_on_a_hand_made_log(row: dict) -> None:
    """Each step's count and the resolution, per quarter (tests/fixtures/complaints/kpi31_README.md)."""
    from kpilib.measures import get_measure

    b = _Bundle({"events": _read_events("kpi31_events.csv")})
    for name, column in KPI31_MEASURES.items():
        got = get_measure(name)(b, row["unit_code"], 2563, int(row["quarter"]))
        want = None if row["received"] == 0 else int(row[column])
        assert got == want, (name, got, want)


def test_year_end_resolution_on_the_hand_made_log() -> None:
    res = C.evaluate_compliance(_read_events("kpi31_events.csv"), fy=2563)
    ye = C.year_end_resolution(res, units=["1032", "1031"]).set_index("unit_code")
    assert ye.loc["1032", ["received", "resolved"]].tolist() == [7, 6]
    assert ye["met"].tolist() == [False, False]  # 6/7 = 85.71 % and 0/1, both under 95 %
    h = res.tickets.set_index("ticket_id").loc["H"]
    assert (bool(h["finished"]), _date(h["finished_on"])) == (True, dt.date(2020, 9, 24))


# --------------------------------------------------------------------------- engine internals


def _generated(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    return _load_bench().generate(n, seed=seed, fy=2563)[1]


def test_bit_masks_agree_with_checkpoint_rows() -> None:
    """Step 2 of tickets open once uses bit masks, the audit's rows the general expansion."""
    res = C.evaluate_compliance(_generated(), fy=2563)
    t = res.tickets.set_index("ticket_id")
    cp = res.checkpoints.assign(ticket_id=lambda d: d["ticket_id"].astype(str))
    missed = cp.loc[~cp["updated"]]
    req = cp.groupby("ticket_id").size().reindex(t.index, fill_value=0)
    mis = missed.groupby("ticket_id").size().reindex(t.index, fill_value=0)
    first = missed.groupby("ticket_id")["checkpoint"].min().reindex(t.index)
    assert (t["checkpoints_required"] == req).all()
    assert (t["checkpoints_missed"] == mis).all()
    assert ((t["first_missed_checkpoint"] == first) | first.isna()).all()
    assert t["checkpoints_required"].sum() > 5000 and t["checkpoints_missed"].sum() > 500


def _ticket_table(events: pd.DataFrame | C.EventLog) -> pd.DataFrame:
    t = C.evaluate_compliance(events, fy=2563).tickets
    t = t.assign(ticket_id=t["ticket_id"].astype(str), unit_code=t["unit_code"].astype(str))
    return t.sort_values("ticket_id", ignore_index=True)


def test_the_order_and_the_reader_of_the_event_log_change_nothing(tmp_path: Path) -> None:
    """Grouped by ticket (no hashing), in time order, with categorical ids, and read from
    Parquet batch by batch: the same table."""
    events = _generated(2000, seed=3)
    want = _ticket_table(events)
    by_time = events.sort_values(["timestamp", "ticket_id"], ignore_index=True)
    shuffled = events.sample(frac=1.0, random_state=1, ignore_index=True)
    categorical = events.assign(ticket_id=events["ticket_id"].astype("category"))
    for variant in (by_time, shuffled, categorical):
        pd.testing.assert_frame_equal(_ticket_table(variant), want, check_categorical=False)
    for name, frame in (("grouped", events), ("by_time", by_time)):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        log = C.EventLog.from_parquet(tmp_path / f"{name}.parquet", batch_rows=997)
        pd.testing.assert_frame_equal(_ticket_table(log), want, check_categorical=False)


def test_parquet_readers_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        C.EventLog.from_parquet(tmp_path / "events.parquet")
    _generated(50).drop(columns=["unit_code"]).to_parquet(tmp_path / "events.parquet")
    with pytest.raises(SchemaError, match="unit_code"):
        C.EventLog.from_parquet(tmp_path / "events.parquet")
    tickets = _read_tickets("traffy_tickets.csv")
    tickets.to_parquet(tmp_path / "tickets.parquet", index=False)
    arr = C.TicketArrays.from_parquet(tmp_path / "tickets.parquet")
    want = C.traffy_resolution(tickets, fy=2567, units=_districts())
    pd.testing.assert_frame_equal(C.traffy_resolution(arr, fy=2567, units=_districts()), want)


@pytest.mark.parametrize("n", [0, 1, 3, 4])
def test_day_table_matches_the_calendar(n: int) -> None:
    from kpilib.calendar import business_calendar
    from kpilib.complaints.days import DayTable, day_number

    bc = business_calendar()
    lo, hi = day_number(dt.date(2019, 9, 1)), day_number(dt.date(2020, 12, 31))
    table = DayTable(bc, lo, hi - 30)  # the last month is asked of the calendar
    days = np.arange(lo, hi - 10)
    want = bc.add_business_days_array(days.astype("datetime64[D]"), n).astype(np.int64)
    assert (table.add(days, n) == want).all()
    a, b = days[:-40], days[40:]
    want_between = bc.business_days_between_array(
        a.astype("datetime64[D]"), b.astype("datetime64[D]")
    )
    assert (table.between(a, b) == want_between).all()


def test_complaint_modules_never_import_the_registry() -> None:
    import json

    code = (
        "import json, sys\n"
        "import kpilib.complaints\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('kpilib'))))\n"
    )
    loaded = json.loads(python_stdout(code))
    assert "kpilib.complaints.measures" in loaded
    assert "kpilib.measures" not in loaded and "kpilib.catalog" not in loaded


ID_FORMATS = {
    "fixed_8_bytes": lambda i: f"T{i:07d}",
    "traffy_11_bytes": lambda i: f"2023-{i:06X}",
    "variable_1_to_16": lambda i: "x" * (i % 9) + str(i),
    "thai_utf8": lambda i: f"ร{i}",
    "longer_than_16": lambda i: f"BMA-COMPLAINT-{i:010d}",
}


@pytest.mark.parametrize("fmt", sorted(ID_FORMATS))
@pytest.mark.parametrize("layout", ["sorted", "shuffled"])
def test_ticket_numbering_of_any_id_format_and_order(fmt: str, layout: str) -> None:
    """Equal ids get one number, different ids different numbers, and the ids come back."""
    from kpilib.complaints.events import number_tickets

    rng = np.random.default_rng(4)
    ids = [ID_FORMATS[fmt](int(i)) for i in np.sort(rng.integers(0, 3000, 12000))]
    if layout == "shuffled":
        ids = list(rng.permutation(np.array(ids, dtype=object)))
    col = pd.Series(ids, dtype=pd.StringDtype("pyarrow"))
    number, tids = number_tickets(col)
    codes, uniques = pd.factorize(pd.Series(ids, dtype=object))
    assert tids.count == len(uniques)
    # the same partition of the rows as a hash table gives
    pairs = pd.DataFrame({"ours": number, "theirs": codes}).drop_duplicates()
    assert len(pairs) == len(uniques) == pairs["ours"].nunique() == pairs["theirs"].nunique()
    assert list(tids.make(number[:50])) == ids[:50]


def test_ticket_numbering_survives_hash_clashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a hash that maps every id to the same value, the ids themselves decide."""
    from kpilib.complaints import ticket_ids

    monkeypatch.setattr(ticket_ids, "_hash", lambda keys: np.zeros(keys.size, dtype=np.uint64))
    ids = pa.array([f"2023-{i % 97:06X}" for i in range(3000)][::-1], type=pa.large_string())
    keys = ticket_ids.pack(ids)
    ticket, first = ticket_ids.number(keys)
    codes, _ = pd.factorize(pd.Series(ids.to_pylist()))
    assert first.size == 97
    assert pd.DataFrame({"a": ticket, "b": codes}).drop_duplicates().shape[0] == 97
    assert keys.strings(first).to_pylist() == [ids[int(i)].as_py() for i in first]


@pytest.mark.parametrize("fy", [2566, 2567])
def test_monthly_figures_of_a_year_at_once_equal_month_by_month(fy: int) -> None:
    from kpilib.calendar import fiscal_months

    arr = C.TicketArrays.of(_read_tickets("traffy_tickets.csv"))
    whole = C.monthly_figures_fy(arr, fy, units=_districts())
    by_month = pd.concat(
        [arr.month_counts(f"{y:04d}-{m:02d}", None, _districts()) for y, m in fiscal_months(fy)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(whole, by_month)
    assert len(whole) == 12 * 50


def test_year_tables_equal_the_functions_one_by_one(tmp_path: Path) -> None:
    """The one-call form (tickets on a second thread, Parquet paths) changes nothing."""
    events = _read_events("kpi31_events.csv")
    tickets = _read_tickets("traffy_tickets.csv")
    subs = pd.read_csv(FIX / "report_submissions.csv", dtype=str)
    events.to_parquet(tmp_path / "events.parquet", index=False)
    tickets.to_parquet(tmp_path / "tickets.parquet", index=False)
    units = _districts()
    for ev, tk in ((events, tickets), (tmp_path / "events.parquet", tmp_path / "tickets.parquet")):
        got = C.year_tables(ev, tk, subs, fy=2563, units=units)
        res = C.evaluate_compliance(events, fy=2563)
        pd.testing.assert_frame_equal(got.compliance, C.compliance_by_quarter(res, units=units))
        pd.testing.assert_frame_equal(got.year_end, C.year_end_resolution(res, units=units))
        pd.testing.assert_frame_equal(
            got.traffy, C.traffy_resolution(tickets, fy=2563, units=units)
        )
        pd.testing.assert_frame_equal(got.monthly, C.monthly_figures_fy(tickets, 2563, units=units))
        pd.testing.assert_frame_equal(got.step3, C.step3_table(subs, fy=2563, units=units))
    assert got.compliance.query("unit_code == '1032' and quarter == 4")["received"].item() == 7
