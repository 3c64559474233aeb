"""The statistics selectors against a hand-built data set whose answers are known (tests/stats_data.py)."""

import datetime as dt

import pytest

from callback import stats
from callback.stats import CALL, RECEIPT, Period, rollup

from . import stats_data

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), RECEIPT)
MARCH_CALLS = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), CALL)


@pytest.fixture(params=["live", "rollup"])
def data(db, request):
    """The data set, its figures read live or (after a refresh) from the roll-up: the same answers."""
    built = stats_data.build()
    if request.param == "rollup":
        rollup.refresh(full=True)
    return built


def test_compliance_by_receipt_date(data):
    figures = stats.compliance(MARCH)
    c = figures.counts
    # T8 (receipt 28 Feb) is outside, T9 (receipt 31 March, the period's last day) inside.
    assert c["in_scope"] == 8
    assert (c["verified"], c["in_time"], c["late"], c["with_issues"]) == (3, 2, 1, 1)
    assert (c["failed"], c["failed_refused"], c["unreachable"], c["review"], c["pending"]) == (1, 1, 1, 1, 2)
    assert (c["decided"], c["not_in_time"]) == (5, 3)
    assert figures.in_time_rate == pytest.approx(0.4)
    assert figures.calls["calls"] == 11
    assert figures.attempts_per_verification == pytest.approx(11 / 3)
    assert figures.median_hours_to_first_call == pytest.approx(34)  # 22, 34, 34, 34, 58, 58, 106
    assert figures.median_hours_to_verification == pytest.approx(106)
    assert figures.cases["contacted"] == 4
    assert figures.contact_rate == pytest.approx(0.8)
    assert figures.cooperation_rate == pytest.approx(0.75)
    assert figures.refusal_rate == pytest.approx(0.2)
    assert figures.response_rate == pytest.approx(0.6)
    assert figures.calls["handling_seconds"] == 300


def test_compliance_by_call_date_counts_windows_closed_in_the_period(data):
    figures = stats.compliance(MARCH_CALLS)
    c = figures.counts
    # Windows ending in March: T1–T5 and T8 (receipt 28 Feb); T6, T7, T9 end in April.
    assert c["in_scope"] == 6
    assert (c["verified"], c["in_time"], c["late"], c["decided"]) == (4, 3, 1, 6)
    assert figures.in_time_rate == pytest.approx(0.5)
    # Calls started in March, Beijing days: all but T6's call at 00:30 on 1 April.
    assert figures.calls["calls"] == 11


def test_beijing_days_not_utc_days(data):
    first_april = Period(dt.date(2026, 4, 1), dt.date(2026, 4, 1), CALL)
    first_march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1), CALL)
    # 00:30 Beijing on 1 April is 31 March in UTC; 07:00 Beijing on 1 March is 28 Feb in UTC.
    assert stats.compliance(first_april).calls["calls"] == 1
    assert stats.compliance(first_march).calls["calls"] == 1


def test_empty_period_divides_by_nothing(data):
    empty = stats.compliance(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31), RECEIPT))
    assert empty.counts["in_scope"] == 0
    assert empty.in_time_rate is None
    assert empty.attempts_per_verification is None
    assert empty.contact_rate is None and empty.cooperation_rate is None
    assert empty.median_hours_to_first_call is None and empty.median_hours_to_verification is None
    assert empty.calls["handling_seconds"] is None
    assert stats.breakdown(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)), "branch") == []


def test_breakdown_by_branch_worst_first(data):
    rows = stats.breakdown(MARCH, "branch")
    assert [(r["key"], r["label"], r["in_scope"], r["decided"], r["not_in_time"]) for r in rows] == [
        ("B2", "上海分公司", 4, 2, 2),
        ("B1", "北京分公司", 4, 3, 1),
    ]
    assert rows[0]["failure_rate"] == pytest.approx(1.0)
    assert rows[1]["in_time_rate"] == pytest.approx(2 / 3)


def test_breakdown_by_salesperson_and_filter(data):
    rows = stats.breakdown(MARCH, "salesperson", {"branch": "B1"})
    assert [(r["key"], r["label"], r["in_scope"]) for r in rows] == [("S001", "张三", 4)]


def test_breakdown_by_call_centre_agent(data):
    rows = stats.breakdown(MARCH, "agent")
    by_name = {r["label"]: r for r in rows}
    assert by_name["王一 (stats_a1)"]["calls"] == 8
    assert by_name["王一 (stats_a1)"]["failed_calls"] == 1
    assert by_name["李二 (stats_a2)"]["calls"] == 3
    assert rows[0]["key"] == data["a1"].pk


def test_reasons(data):
    rows = {r["key"]: r for r in stats.reasons(MARCH)}
    assert rows["failed_refused"]["count"] == 1
    assert rows["unreachable"]["count"] == 1
    assert rows["late"]["count"] == 1
    assert rows["failed_wrong_number"]["count"] == 0
    assert rows["late"]["share"] == pytest.approx(1 / 3)


def test_flag_reasons(data):
    rows = stats.flag_reasons(MARCH)
    assert [(r["code"], r["policies"], r["not_in_time"]) for r in rows] == [
        ("mobile_invalid", 2, 1),
        ("callback_unreachable", 1, 1),
    ]


def test_over_time_weeks_start_on_monday(data):
    rows = stats.over_time(MARCH, "week")
    # 1 March 2026 is a Sunday: its receipts belong to the week of Monday 23 February.
    assert [(r["key"], r["in_scope"]) for r in rows] == [
        (dt.date(2026, 2, 23), 2),
        (dt.date(2026, 3, 2), 2),
        (dt.date(2026, 3, 9), 1),
        (dt.date(2026, 3, 16), 1),
        (dt.date(2026, 3, 23), 1),
        (dt.date(2026, 3, 30), 1),
    ]
    months = stats.over_time(MARCH, "month")
    assert [(r["key"], r["in_scope"], r["in_time"]) for r in months] == [(dt.date(2026, 3, 1), 8, 2)]


def test_drilldown_tasks_match_the_counts(data):
    for result, expected in (
        ("in_time", {"T1", "T2"}),
        ("not_in_time", {"T3", "T4", "T5"}),
        ("pending", {"T6", "T9"}),
    ):
        names = set(
            stats.tasks(MARCH).filter(stats.RESULTS[result]).values_list("policy__policy_no", flat=True)
        )
        assert names == {f"PSTAT{n}" for n in expected}, result


def test_agent_sees_own_figures_today_and_week(data):
    figures = stats.agent_figures(data["a1"], today=dt.date(2026, 3, 31))
    # Tuesday 31 March: the 23:30 call is today; the 00:30 call on 1 April is not.
    assert figures.today["calls"] == 1
    assert figures.week["calls"] == 1
    assert figures.today["verified_share"] == 0
    other = stats.agent_figures(data["a2"], today=dt.date(2026, 3, 26))
    assert other.today["calls"] == 1 and other.today["handling_seconds"] == 300


def test_rollup_figures_are_as_of_the_last_refresh(db):
    data = stats_data.build()
    rollup.refresh(full=True)
    before = stats.compliance(MARCH).counts["in_scope"]
    data["T9"].delete()
    # The pages read the roll-up: a change shows after the next refresh, not before.
    assert stats.compliance(MARCH).counts["in_scope"] == before == 8
    run = rollup.refresh_due(now=stats_data.sh(3, 31))
    assert run.full is False  # a full rebuild already ran today
    assert stats.compliance(MARCH).counts["in_scope"] == 7


def test_rollup_answers_equal_the_live_answers(db):
    """Every question the roll-up answers, asked of both: the same figures, rates and order."""
    stats_data.build()
    periods = [
        MARCH,
        MARCH_CALLS,
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 10), RECEIPT),
        Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1), CALL),
        Period(dt.date(2026, 2, 1), dt.date(2026, 4, 30), CALL),
        # Months mostly inside: read as the month less the days outside it.
        Period(dt.date(2026, 3, 3), dt.date(2026, 4, 25), RECEIPT),
        Period(dt.date(2026, 2, 27), dt.date(2026, 3, 29), RECEIPT),
        Period(dt.date(2026, 2, 10), dt.date(2026, 3, 31), CALL),
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 31), CALL),
    ]
    questions = []
    for period in periods:
        filter_sets = [{}] + ([{"branch": "B1"}, {"channel": "agency"}] if period.basis == RECEIPT else [])
        for filters in filter_sets:
            questions += [
                ("compliance", lambda p=period, f=filters: stats.compliance(p, f).as_dict()),
                ("flags", lambda p=period, f=filters: stats.flag_reasons(p, f)),
                ("reasons", lambda p=period, f=filters: stats.reasons(p, f)),
                *[
                    (unit, lambda p=period, f=filters, u=unit: stats.over_time(p, u, f))
                    for unit in stats.TIME_UNITS
                ],
            ]
        for dimension in (*stats.POLICY_DIMENSIONS, *stats.ATTEMPT_DIMENSIONS):
            questions.append((dimension, lambda p=period, dim=dimension: stats.breakdown(p, dim)))
    live = [ask() for _name, ask in questions]
    rollup.refresh(full=True)
    assert rollup.latest_refresh() is not None
    rolled = [ask() for _name, ask in questions]
    for (name, _ask), expected, got in zip(questions, live, rolled, strict=True):
        if name == "compliance":  # the roll-up's medians count whole hours (the page shows hours)
            for median in ("median_hours_to_first_call", "median_hours_to_verification"):
                rolled, live = got.pop(median), expected.pop(median)
                assert (rolled is None) == (live is None), median
                if live is not None:
                    assert live - 1 < rolled <= live + 1e-6, median
        assert got == expected, name


def test_whole_months_are_read_from_the_month_rows(db):
    from callback.models import StatsTaskDay

    stats_data.build()
    rollup.refresh(full=True)
    before = stats.compliance(MARCH).as_dict()
    by_branch = stats.breakdown(MARCH, "branch")
    StatsTaskDay.objects.filter(grain="day").delete()
    # March is a whole month: its figures come from the month rows alone …
    assert stats.compliance(MARCH).as_dict() == before
    assert stats.breakdown(MARCH, "branch") == by_branch
    # … the days of a part of a month from the day rows (deleted here).
    assert (
        stats.compliance(Period(dt.date(2026, 3, 2), dt.date(2026, 3, 10), RECEIPT)).counts["in_scope"] == 0
    )
