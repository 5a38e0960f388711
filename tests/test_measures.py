"""Named measures over small in-memory tables (cumulative windows, per-user LINE@ rules)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from fresh_python import python_stdout

from kpilib import measures
from kpilib.catalog import load_catalog
from kpilib.errors import ConfigError
from kpilib.measures import side_tables
from kpilib.numbers import round_half_up
from kpilib.scoring import evaluate_kpi

BKK = "Asia/Bangkok"


class FakeBundle:
    """The two methods a measure uses."""

    def __init__(self, **tables: pd.DataFrame) -> None:
        self._tables = tables

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> pd.DataFrame:
        return self._tables[name]


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype="object"))


def _ts(values):
    return pd.to_datetime(pd.Series(values, dtype="object")).dt.tz_localize(BKK)


# FY 2567: 2023-10-01 .. 2024-09-30; Q1 ends 2023-12-31, Q2 ends 2024-03-31.
COUNCIL = pd.DataFrame(
    {
        "resolution_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "unit_code": ["GOVSEC"] * 5 + ["1001"],
        "resolved_on": _dates(
            ["2023-10-05", "2023-11-20", "2024-01-10", "2023-09-30", "2023-12-30", "2023-10-05"]
        ),
        "reported_on": _dates(
            ["2023-10-20", "2024-01-15", "2024-02-01", "2023-10-02", None, "2023-10-06"]
        ),
    }
)


@pytest.mark.parametrize(
    ("name", "quarter", "expected"),
    [
        ("council_resolutions_total", 1, 3),  # r1, r2, r5 (r4 is the previous fiscal year)
        ("council_resolutions_reported", 1, 1),  # r2 reported after the quarter's end
        ("council_resolutions_total", 2, 4),  # cumulative from the fiscal year's start
        ("council_resolutions_reported", 2, 3),
    ],
)
def test_council_measures_are_cumulative(name, quarter, expected):
    bundle = FakeBundle(council_resolutions=COUNCIL)
    assert measures.get_measure(name)(bundle, "GOVSEC", 2567, quarter) == expected


def test_key_projects_are_a_status_per_quarter():
    df = pd.DataFrame(
        {
            "project_id": [f"p{i}" for i in range(12)] + ["p0", "p1"],
            "unit_code": ["GOVSEC"] * 14,
            "fiscal_year": [2567] * 14,
            "quarter": [1] * 12 + [2, 2],
            "on_plan": [True] * 9 + [False] * 3 + ["true", "false"],
        }
    )
    bundle = FakeBundle(key_projects=df)
    assert measures.get_measure("key_projects_on_plan")(bundle, "GOVSEC", 2567, 1) == 9
    assert measures.get_measure("key_projects_total")(bundle, "GOVSEC", 2567, 1) == 12
    assert measures.get_measure("key_projects_on_plan")(bundle, "GOVSEC", 2567, 2) == 1
    assert measures.get_measure("key_projects_on_plan")(bundle, "GOVSEC", 2567, 3) is None


def test_survey_top_box_counts_level_four_and_five():
    df = pd.DataFrame(
        {
            "response_id": range(6),
            "unit_code": ["GOVSEC"] * 6,
            "survey": ["invitation_calendar"] * 5 + ["line_tracking"],
            "responded_on": _dates(
                ["2023-10-02", "2023-11-02", "2023-12-02", "2024-01-05", "2023-10-09", "2023-10-09"]
            ),
            "level": [5, 4, 3, 5, 2, 5],
        }
    )
    bundle = FakeBundle(survey_responses=df)
    top = measures.get_measure("survey_high_or_above")
    total = measures.get_measure("survey_responses_total")
    assert top(bundle, "GOVSEC", 2567, 1, survey="invitation_calendar") == 2
    assert total(bundle, "GOVSEC", 2567, 1, survey="invitation_calendar") == 4
    assert top(bundle, "GOVSEC", 2567, 2, survey="invitation_calendar") == 3
    assert top(bundle, "GOVSEC", 2567, 1, survey="invitation_calendar", min_level=5) == 1


def test_directives_by_visit_type():
    df = pd.DataFrame(
        {
            "directive_id": ["d1", "d2", "d3", "d4"],
            "unit_code": ["GOVSEC"] * 4,
            "visit_type": ["district", "district", "community", "district"],
            "issued_on": _dates(["2023-10-10", "2023-12-01", "2023-10-10", "2024-02-01"]),
            "completed_on": _dates(["2023-11-01", "2024-01-05", "2023-10-11", None]),
        }
    )
    bundle = FakeBundle(directives=df)
    m = measures.get_measure
    assert m("directives_total")(bundle, "GOVSEC", 2567, 1, visit_type="district") == 2
    assert m("directives_completed")(bundle, "GOVSEC", 2567, 1, visit_type="district") == 1
    assert m("directives_completed")(bundle, "GOVSEC", 2567, 2, visit_type="district") == 2
    assert m("directives_total")(bundle, "GOVSEC", 2567, 2, visit_type="district") == 3
    assert m("directives_completed")(bundle, "GOVSEC", 2567, 1, visit_type="community") == 1


def test_line_users_counted_once_and_all_requests_must_be_in_time():
    req = ["2023-10-02 09:00", "2023-10-03 09:00", "2023-10-04 09:00", "2023-10-05 23:55"]
    df = pd.DataFrame(
        {
            "request_id": ["a", "b", "c", "d"],
            "unit_code": ["GOVSEC"] * 4,
            "user_id": ["u1", "u1", "u2", "u3"],
            "requested_at": _ts(req),
            # u1's second request is late; u3 is answered across midnight, 10 minutes later
            "acknowledged_at": _ts(
                ["2023-10-02 09:10", "2023-10-03 09:20", "2023-10-04 09:15", "2023-10-06 00:05"]
            ),
            "progress_at": _ts(["2023-10-02 09:20", "2023-10-03 09:25", None, "2023-10-06 00:20"]),
        }
    )
    bundle = FakeBundle(line_requests=df)
    m = measures.get_measure
    assert m("line_users")(bundle, "GOVSEC", 2567, 1) == 3
    assert m("line_acknowledged_15min")(bundle, "GOVSEC", 2567, 1) == 2  # u2 (15 min exactly), u3
    assert m("line_progress_30min")(bundle, "GOVSEC", 2567, 1) == 2  # u1, u3; u2 never got one


def test_manual_result_and_condition_lookup():
    manual = pd.DataFrame(
        {
            "unit_code": ["1001", "1001", "1002"],
            "kpi_id": ["district_best_service"] * 3,
            "fiscal_year": [2567] * 3,
            "quarter": [1, 2, 1],
            "value": [30.0, 55.0, 20.0],
            "note": ["", "", ""],
        }
    )
    conds = pd.DataFrame(
        {
            "unit_code": ["GOVSEC", "GOVSEC"],
            "kpi_id": ["govsec_traffy_joint"] * 2,
            "fiscal_year": [2567, 2567],
            "quarter": [1, 3],
            "condition": ["report_to_executives"] * 2,
            "met": ["false", "true"],
            "evidence": ["", "บันทึกเสนอ"],
        }
    )
    bundle = FakeBundle(manual_results=manual, conditions=conds)
    mr = measures.get_measure("manual_result")
    assert mr(bundle, "1001", 2567, 2, kpi_id="district_best_service") == 55.0
    assert mr(bundle, "1001", 2567, 3, kpi_id="district_best_service") is None
    look = side_tables.condition_met
    kw = {"kpi_id": "govsec_traffy_joint", "condition": "report_to_executives"}
    assert look(bundle, "GOVSEC", 2567, 1, **kw) is False
    assert look(bundle, "GOVSEC", 2567, 2, **kw) is False  # latest row at or before Q2
    assert look(bundle, "GOVSEC", 2567, 4, **kw) is True
    assert look(bundle, "1001", 2567, 4, **kw) is None


def test_missing_table_is_no_data():
    bundle = FakeBundle()
    for name in ("council_resolutions_total", "line_users"):
        assert measures.get_measure(name)(bundle, "GOVSEC", 2567, 1) is None
    total = measures.get_measure("directives_total")
    assert total(bundle, "GOVSEC", 2567, 1, visit_type="community") is None


def test_registry():
    assert {"line_users", "manual_result", "council_resolutions_total"} <= set(
        measures.measure_names()
    )
    with pytest.raises(ConfigError, match="unknown measure"):
        measures.get_measure("no_such_measure")
    spec = measures.get_measure("directives_total")
    assert spec.tables == ("directives",)
    assert spec.fn is side_tables.directives_total
    with pytest.raises(ConfigError, match="unknown measure"):
        measures.override_measure("no_such_measure", lambda b, u, f, q: 0)


def test_every_registered_measure_resolves_to_a_function():
    for name in measures.measure_names():
        spec = measures.get_measure(name)
        assert callable(spec.fn), name
        assert spec.tables and spec.description_th, name


def test_loading_the_catalogue_does_not_import_the_complaint_engine():
    import json

    code = (
        "import json, sys\n"
        "from kpilib.catalog import load_catalog\n"
        "cat = load_catalog()\n"
        "assert cat.kpi('district_complaints_3_1')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('kpilib'))))\n"
    )
    loaded = json.loads(python_stdout(code))
    assert "kpilib.complaints" not in loaded and "kpilib.measures.side_tables" not in loaded
    assert "kpilib.catalog" in loaded


# --------------------------------------------------------------------------- golden: LINE@ (seed 004)


def _line_tables_from_golden(golden: dict) -> FakeBundle:
    """LINE@ requests and survey answers that reproduce seed 004's published counts.

    Cumulative users per quarter (Q1 from the "more" section), new users of March and June in
    their month, and as many users answered late as the published counts leave over.
    """
    g, more = golden["line_document_tracking_fy2563"], golden["line_document_tracking_more_fy2563"]
    users = {1: more["quarter_1"]["users"], **{q["quarter"]: q["users"] for q in g["quarters"]}}
    acked = {q["quarter"]: q["acknowledged_in_15min"] for q in g["quarters"]}
    progressed = {
        q["quarter"]: q["progress_in_30min"] for q in g["quarters"] if "progress_in_30min" in q
    }
    progressed[2] = more["quarter_2"]["progress_in_30min"]
    in_month = {tuple(map(int, m.split("-"))): n for m, n in more["new_users_in_month"].items()}
    first_month = {1: (2019, 12), 2: (2020, 1), 3: (2020, 4), 4: (2020, 8)}
    reqs, answers, uid, prev = [], [], 0, 0
    late_ack = late_prog = 0
    for q in (1, 2, 3, 4):
        new = users[q] - prev
        months = [first_month[q]] * new
        for ym, n in in_month.items():  # the published month's new users go in that month
            if (
                first_month[q][0] * 12 + first_month[q][1]
                <= ym[0] * 12 + ym[1]
                <= first_month[q][0] * 12 + first_month[q][1] + 2
            ):
                months[-n:] = [ym] * n
        need_ack = users[q] - acked.get(q, users[q])
        need_prog = users[q] - progressed.get(q, users[q])
        for y, m in months:
            uid += 1
            t = dt.datetime(y, m, 10, 9, 0) + dt.timedelta(minutes=uid)
            slow_ack = late_ack < need_ack
            slow_prog = late_prog < need_prog
            late_ack += slow_ack
            late_prog += slow_prog
            reqs.append(
                {
                    "request_id": f"r{uid}",
                    "unit_code": "GOVSEC",
                    "user_id": f"u{uid}",
                    "requested_at": t,
                    "acknowledged_at": t + dt.timedelta(minutes=40 if slow_ack else 10),
                    "progress_at": t + dt.timedelta(minutes=90 if slow_prog else 25),
                }
            )
            answers.append(
                {
                    "response_id": f"s{uid}",
                    "unit_code": "GOVSEC",
                    "survey": "line_tracking",
                    "responded_on": pd.Timestamp(t.date()),
                    "level": 5,
                }
            )
        prev = users[q]
    line = pd.DataFrame(reqs)
    for col in ("requested_at", "acknowledged_at", "progress_at"):
        line[col] = pd.to_datetime(line[col]).dt.tz_localize(BKK)
    return FakeBundle(line_requests=line, survey_responses=pd.DataFrame(answers))


def test_golden_line_document_tracking_more_figures(golden):
    more = golden["line_document_tracking_more_fy2563"]
    bundle = _line_tables_from_golden(golden)
    cat = load_catalog()
    kpi = cat.kpi("govsec_line_tracking")
    q1 = {p.id: p for p in evaluate_kpi(kpi, "GOVSEC", 2563, 1, bundle=bundle, catalog=cat).parts}
    assert q1["users"].formula.numerator == more["quarter_1"]["users"]
    assert round_half_up(q1["users"].formula.value) == more["quarter_1"]["users_pct_of_target"]
    for month, n in more["new_users_in_month"].items():
        y, m = (int(x) for x in month.split("-"))
        assert side_tables.line_new_users_in_month(bundle, "GOVSEC", y, m) == n
    q2 = {p.id: p for p in evaluate_kpi(kpi, "GOVSEC", 2563, 2, bundle=bundle, catalog=cat).parts}
    assert q2["progress"].formula.numerator == more["quarter_2"]["progress_in_30min"]
    assert round_half_up(q2["progress"].formula.value) == more["quarter_2"]["progress_pct"]
    for q, key in ((2, "quarter_2"), (3, "quarter_3")):
        parts = {
            p.id: p for p in evaluate_kpi(kpi, "GOVSEC", 2563, q, bundle=bundle, catalog=cat).parts
        }
        assert parts["satisfaction"].formula.numerator == more[key]["satisfied_high_or_highest"]
        assert round_half_up(parts["satisfaction"].formula.value) == more[key]["satisfied_pct"]


def test_line_overall_result_needs_every_sub_indicator(golden):
    bundle = _line_tables_from_golden(golden)
    cat = load_catalog()
    kpi = cat.kpi("govsec_line_tracking")
    q2 = evaluate_kpi(kpi, "GOVSEC", 2563, 2, bundle=bundle, catalog=cat)
    users = {p.id: p for p in q2.parts}["users"]
    assert round_half_up(users.formula.value) < 100  # 29 of 50 users: not met
    assert q2.value == 75.0  # three of four sub-indicators met, the users one earns nothing
    assert "ยังไม่ถึงเป้าหมาย" in q2.formula.text_th


def test_golden_line_document_tracking_through_the_kpi(golden):
    g = golden["line_document_tracking_fy2563"]
    bundle = _line_tables_from_golden(golden)
    cat = load_catalog()
    kpi = cat.kpi("govsec_line_tracking")
    for q in g["quarters"]:
        res = evaluate_kpi(kpi, "GOVSEC", 2563, q["quarter"], bundle=bundle, catalog=cat)
        parts = {p.id: p for p in res.parts}
        assert parts["users"].formula.numerator == q["users"]
        if "users_pct_of_target" in q:
            assert round_half_up(parts["users"].formula.value) == q["users_pct_of_target"]
        assert parts["acknowledged"].formula.numerator == q["acknowledged_in_15min"]
        assert round_half_up(parts["acknowledged"].formula.value) == q["acknowledged_pct"]
        if "progress_in_30min" in q:
            assert parts["progress"].formula.numerator == q["progress_in_30min"]
            assert round_half_up(parts["progress"].formula.value) == q["progress_pct"]
        if "satisfied_high_or_highest" in q:
            assert parts["satisfaction"].formula.numerator == q["satisfied_high_or_highest"]
            assert round_half_up(parts["satisfaction"].formula.value) == q["satisfied_pct"]
    # Q4: all four sub-indicators met -> the printed overall result (100)
    q4 = evaluate_kpi(kpi, "GOVSEC", 2563, 4, bundle=bundle, catalog=cat)
    published = {p.quarter: p.result for p in kpi.published}
    assert q4.value == published[4]
    assert q4.target_met is True


def test_kpi_identifiers_in_data_may_be_id_code_or_alias():
    cat = load_catalog()
    manual = pd.DataFrame(
        {
            "unit_code": ["1032"],
            "kpi_id": ["5016-0685"],
            "fiscal_year": [2567],
            "quarter": [2],
            "value": [45.0],
            "note": [""],
        }
    )
    conds = pd.DataFrame(
        {
            "unit_code": ["GOVSEC"],
            "kpi_id": ["govsec-2567-4"],
            "fiscal_year": [2567],
            "quarter": [1],
            "condition": ["report_to_executives"],
            "met": [True],
            "evidence": [""],
        }
    )
    bundle = FakeBundle(manual_results=manual, conditions=conds)
    res = evaluate_kpi(
        cat.kpi("district_best_service"), "1032", 2567, 2, bundle=bundle, catalog=cat
    )
    assert (res.numerator, res.denominator, res.value) == (45.0, 60.0, 75.0)
    kpi = cat.kpi("govsec-2567-4")
    assert kpi.id == "govsec_traffy_joint"
    assert side_tables.condition_met(
        bundle, "GOVSEC", 2567, 1, kpi_id=kpi.data_ids, condition="report_to_executives"
    )
