"""Salesperson accountability (第十条, 第十三条): per salesperson what their sales produced."""

import datetime as dt

import pytest
from django.urls import reverse

from callback.accountability.common import Period
from callback.accountability.salespeople import salesperson_rows
from callback.models import AuditEvent, FlagStatus
from verification.vocab import FlagCode, Outcome, PartyRole

from .factories import AgentFactory, CallbackTaskFactory, PartyFactory, PolicyFactory, UserFactory
from .factories.flags import ContactFlagFactory

pytestmark = pytest.mark.django_db
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def _sale(agent: str, *, name="徐磊", day=dt.date(2026, 3, 5), branch="B1101"):
    policy = PolicyFactory(agent_code=agent, agent_name=name, issue_date=day, branch_code=branch)
    PartyFactory(policy=policy)
    return policy


def _attempt(policy, outcome):
    from callback.models import CallAttempt

    task = getattr(policy, "task", None) or CallbackTaskFactory(policy=policy)
    return CallAttempt.objects.create(task=task, agent=UserFactory(), outcome=outcome)


@pytest.fixture
def sales(db):
    AgentFactory(agent_code="A1", name="徐磊", branch_code="B1101", outlet_code="BK01")
    AgentFactory(agent_code="A2", name="周敏", branch_code="B1102")
    a = [_sale("A1") for _ in range(4)]
    ContactFlagFactory(policy=a[0], code=FlagCode.MOBILE_INVALID)
    ContactFlagFactory(policy=a[0], code=FlagCode.ADDRESS_INCOMPLETE, field="address")  # same policy: one
    ContactFlagFactory(policy=a[1], code=FlagCode.PHONE_IS_AGENT, detail="A1 (this policy's own)")
    ContactFlagFactory(policy=a[2], code=FlagCode.MOBILE_INVALID, status=FlagStatus.WAIVED)  # accepted
    _attempt(a[3], Outcome.AGENT_ANSWERED)
    _attempt(a[3], Outcome.FAILED_IDENTITY)
    b = [_sale("A2", name="周敏", branch="B1102") for _ in range(2)]
    ContactFlagFactory(policy=b[0], code=FlagCode.PHONE_IS_AGENT, detail="A1")  # someone else's phone
    ContactFlagFactory(policy=b[1], code="agent_left", party=PartyRole.SALES, field="agent_code")
    _sale("A1", day=dt.date(2026, 2, 27))  # outside the period
    _sale("X9", name="无名", branch="B1103")  # not in the registry


def test_figures_per_salesperson(sales):
    rows = {r.agent_code: r for r in salesperson_rows(period=MARCH)}
    a1, a2, x9 = rows["A1"], rows["A2"], rows["X9"]
    assert (a1.name, a1.branch_code, a1.outlet_code) == ("徐磊", "B1101", "BK01")
    assert (a1.sold, a1.defective, a1.own_contact, a1.agent_answered, a1.failed_identity, a1.agent_left) == (
        4,
        2,
        1,
        1,
        1,
        0,
    )
    assert (a2.sold, a2.defective, a2.own_contact, a2.agent_left) == (2, 1, 0, 1)
    assert (x9.name, x9.branch_code, x9.sold, x9.defective) == ("无名", "B1103", 1, 0)
    assert [r.agent_code for r in salesperson_rows(period=MARCH, branch="B1102")] == ["A2"]


def test_page_export_and_roles(sales, supervisor_client, agent_user):
    html = supervisor_client.get(
        reverse("salespeople"), {"start": "2026-03-01", "end": "2026-03-31"}
    ).content.decode()
    assert "周敏" in html and "X9" in html
    response = supervisor_client.get(
        reverse("salespeople"), {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"}
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0].startswith("agent_code,agent_name,branch_code,outlet_code,policies_sold")
    assert any(line.startswith("A1,徐磊,B1101,BK01,4,2,1,1,1,0") for line in body)
    assert AuditEvent.objects.filter(action="export_report", detail__report="salespeople").exists()
    supervisor_client.force_login(agent_user)
    assert supervisor_client.get(reverse("salespeople")).status_code == 403


def test_bad_dates_never_500(supervisor_client):
    for params in ({"start": "x"}, {"start": "2026-03-10", "end": "2026-03-01"}, {"start": "9999-99-99"}):
        assert supervisor_client.get(reverse("salespeople"), params).status_code == 200
