"""Branch inspection (第十六条) and the regulator's tables (通知 二(四)) on hand-built data."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from callback.accountability import inspection, regulator
from callback.accountability.common import Period
from callback.models import AuditEvent, FlagStatus, Inspection, Policy, TaskStatus
from verification.vocab import FlagCode

from .factories import CallbackTaskFactory, PartyFactory, PolicyFactory
from .factories.flags import ContactFlagFactory

pytestmark = pytest.mark.django_db
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), timezone.get_default_timezone())


def _policy(no, branch, taken_in, *, in_scope=True, task_status=None, window_end=None, closed=None):
    policy = PolicyFactory(policy_no=no, branch_code=branch, in_scope=in_scope)
    PartyFactory(policy=policy)
    Policy.objects.filter(pk=policy.pk).update(created_at=_at(taken_in))
    if task_status:
        CallbackTaskFactory(
            policy=policy,
            status=task_status,
            window_end=window_end,
            closed_at=_at(closed) if closed else None,
        )
    return policy


def _flag(policy, code, status=FlagStatus.OPEN, raised=dt.date(2026, 3, 2), closed=None):
    flag = ContactFlagFactory(policy=policy, code=code, field=code, status=status)
    flag.raised_at = _at(raised)
    flag.closed_at = _at(closed) if closed else None
    flag.save()
    return flag


@pytest.fixture
def book(db):
    n1 = _policy(
        "N1", "B1", dt.date(2026, 3, 1), task_status=TaskStatus.EXPIRED, window_end=dt.date(2026, 3, 16)
    )
    _flag(n1, FlagCode.MOBILE_INVALID, FlagStatus.RESOLVED, closed=dt.date(2026, 3, 6))
    _flag(n1, FlagCode.ADDRESS_INCOMPLETE)
    _policy(
        "N2",
        "B1",
        dt.date(2026, 3, 31),
        task_status=TaskStatus.COMPLETED,
        window_end=dt.date(2026, 3, 20),
        closed=dt.date(2026, 3, 12),
    )
    h1 = _policy("H1", "B1", dt.date(2026, 3, 15))  # in scope, no free-look task: historical
    _flag(h1, FlagCode.MOBILE_INVALID)
    _flag(h1, FlagCode.PHONE_IS_AGENT, FlagStatus.WAIVED, closed=dt.date(2026, 3, 20))
    n4 = _policy("N4", "B2", dt.date(2026, 3, 10), in_scope=False)
    _flag(n4, FlagCode.ID_INVALID)
    late = _policy("N5", "B1", dt.date(2026, 4, 1))  # taken in after the period
    _flag(late, FlagCode.MOBILE_INVALID)


def test_summary_table(book):
    rows = {r[0]: r[1:] for r in regulator.summary_table(MARCH)}
    assert rows["New business"] == [3, 2, 3, 1, 0, 2, "33.3%"]
    assert rows["Historical policies"] == [1, 1, 2, 0, 1, 1, "0.0%"]
    assert rows["Total"] == [4, 3, 5, 1, 1, 3, "20.0%"]
    only_b2 = {r[0]: r[1:] for r in regulator.summary_table(MARCH, "B2")}
    assert only_b2["Total"] == [1, 1, 1, 0, 0, 1, "0.0%"]


def test_kind_table(book):
    rows = {r[0]: r[2:] for r in regulator.kind_table(MARCH)}
    assert rows[FlagCode.MOBILE_INVALID] == [1, 1, 0, 1, 0, 1, 2, 1, 1]
    assert rows[FlagCode.PHONE_IS_AGENT] == [0, 0, 0, 1, 0, 0, 1, 0, 0]
    assert rows[FlagCode.ID_INVALID] == [1, 0, 1, 0, 0, 0, 1, 0, 1]
    assert set(rows) == {
        FlagCode.MOBILE_INVALID,
        FlagCode.ADDRESS_INCOMPLETE,
        FlagCode.PHONE_IS_AGENT,
        FlagCode.ID_INVALID,
    }


def test_callback_table(book):
    assert regulator.callback_table(MARCH) == [["B1", 2, 1, "50.0%", 0, 1], ["Total", 2, 1, "50.0%", 0, 1]]
    assert regulator.callback_table(Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))[-1][1] == 0


def test_branch_inspection_figures_and_conclusions(book, supervisor_user):
    report = inspection.branch_inspection(branch="B1", period=MARCH, today=dt.date(2026, 4, 1))
    assert (report.policies, report.in_scope, report.defective_policies) == (3, 3, 2)
    assert (report.found, report.corrected, report.waived, report.outstanding) == (4, 1, 1, 2)
    assert report.median_days_to_correct == 4.0
    assert (report.callbacks_closed, report.callbacks_verified_in_time, report.callbacks_unreachable) == (
        2,
        1,
        1,
    )
    record = inspection.record_inspection(
        report=report, conclusions="整改及时率偏低，要求三十日内完成。", user=supervisor_user
    )
    assert record.figures["found"] == 4 and record.figures["period"] == {
        "from": "2026-03-01",
        "to": "2026-03-31",
    }
    with pytest.raises(inspection.InspectionError):
        inspection.record_inspection(report=report, conclusions="  \x00 ", user=supervisor_user)
    assert Inspection.objects.count() == 1


def test_pages_workbooks_audit_and_roles(book, client, supervisor_user, agent_user):
    client.force_login(supervisor_user)
    params = {"start": "2026-03-01", "end": "2026-03-31"}
    html = client.get(reverse("regulator_tables"), params).content.decode()
    assert "附件1" in html and "New business" in html
    xlsx = client.get(reverse("regulator_tables"), {**params, "format": "xlsx"})
    book_ = load_workbook(io.BytesIO(xlsx.content))
    assert book_.sheetnames == ["附件1 汇总表", "附件2 问题分类统计表", "附件3 回访情况表"]
    assert [c.value for c in book_["附件1 汇总表"][4]] == ["Total", 4, 3, 5, 1, 1, 3, "20.0%"]
    page = client.get(reverse("branch_inspection"), {**params, "branch": "B1"}).content.decode()
    assert "Defects found" in page
    client.post(
        reverse("branch_inspection") + "?start=2026-03-01&end=2026-03-31&branch=B1", {"conclusions": "合格"}
    )
    assert Inspection.objects.get().conclusions == "合格"
    workbook = client.get(reverse("branch_inspection"), {**params, "branch": "B1", "format": "xlsx"})
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames == ["summary", "defects by code"]
    assert AuditEvent.objects.filter(action="export_report").count() == 2
    client.force_login(agent_user)
    assert client.get(reverse("regulator_tables")).status_code == 403
    assert client.get(reverse("branch_inspection"), {"branch": "B1"}).status_code == 403


# ---------------------------------------------------------------------------------------------
# The callback figures are the statistics page's: one definition of "verified in time".


@pytest.fixture
def callbacks(db):
    """Free-look windows closing in March 2026, with known results (and one in April)."""
    march = [
        # branch, status, window's last day, closed on
        ("B1", TaskStatus.COMPLETED, dt.date(2026, 3, 10), dt.date(2026, 3, 5)),  # in time
        ("B1", TaskStatus.COMPLETED, dt.date(2026, 3, 10), dt.date(2026, 3, 14)),  # verified late
        ("B1", TaskStatus.FAILED, dt.date(2026, 3, 12), dt.date(2026, 3, 8)),
        ("B1", TaskStatus.EXPIRED, dt.date(2026, 3, 15), dt.date(2026, 3, 16)),
        ("B1", TaskStatus.REVIEW, dt.date(2026, 3, 18), None),  # not decided yet
        ("B1", TaskStatus.OPEN, dt.date(2026, 3, 30), None),  # not decided yet
        ("B2", TaskStatus.COMPLETED, dt.date(2026, 3, 3), dt.date(2026, 3, 1)),
        ("B2", TaskStatus.COMPLETED, dt.date(2026, 3, 31), dt.date(2026, 3, 20)),
        ("B2", TaskStatus.EXPIRED, dt.date(2026, 3, 31), dt.date(2026, 4, 1)),
        ("B1", TaskStatus.COMPLETED, dt.date(2026, 4, 2), dt.date(2026, 3, 28)),  # closes in April
    ]
    for n, (branch, status, window_end, closed) in enumerate(march):
        _policy(
            f"C{n}", branch, dt.date(2026, 2, 20), task_status=status, window_end=window_end, closed=closed
        )


def _stats_api(client, table: str, **params) -> dict:
    query = {"preset": "custom", "basis": "call", "first": "2026-03-01", "last": "2026-03-31", **params}
    response = client.get(f"/api/v1/stats/{table}", query)
    assert response.status_code == 200
    return response.json()


def test_regulator_and_inspection_callback_figures_are_the_statistics_pages(
    callbacks, client, supervisor_user
):
    client.force_login(supervisor_user)
    xlsx = client.get(
        reverse("regulator_tables"), {"start": "2026-03-01", "end": "2026-03-31", "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(xlsx.content))["附件3 回访情况表"]
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    table = [row for row in table if row[0]]
    # Known answers: B1 has 4 windows closed with a result (the review and the open one wait), 1 in time.
    assert table == [
        ["B1", 4, 1, "25.0%", 1, 1],
        ["B2", 3, 2, "66.7%", 0, 1],
        ["Total", 7, 3, "42.9%", 1, 2],
    ]
    # The statistics API says the same for the same days, by call date.
    stats = _stats_api(client, "compliance")
    total = table[-1]
    assert total[1:] == [
        stats["decided"],
        stats["in_time"],
        f"{stats['in_time_rate']:.1%}",
        stats["failed"],
        stats["unreachable"],
    ]
    by_branch = {r["key"]: r for r in _stats_api(client, "branch")["rows"]}
    for code, decided, in_time, _rate, failed, unreachable in table[:-1]:
        row = by_branch[code]
        assert [decided, in_time, failed, unreachable] == [
            row["decided"],
            row["in_time"],
            row["failed"],
            row["unreachable"],
        ]
    # The branch inspection of B1 too.
    report = inspection.branch_inspection(branch="B1", period=MARCH, today=dt.date(2026, 4, 1))
    b1 = _stats_api(client, "compliance", branch="B1")
    assert (
        (
            report.callbacks_closed,
            report.callbacks_verified_in_time,
            report.callbacks_failed,
            report.callbacks_unreachable,
        )
        == (b1["decided"], b1["in_time"], b1["failed"], b1["unreachable"])
        == (4, 1, 1, 1)
    )
    assert report.verified_rate == pytest.approx(b1["in_time_rate"])
    page = client.get(
        reverse("branch_inspection"), {"start": "2026-03-01", "end": "2026-03-31", "branch": "B1"}
    ).content.decode()
    assert "25.0%" in page
