"""Sampling checks (第十一条(二)(四)): reproducible draws, reviewers' results as flags and evidence."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from callback.accountability import sampling
from callback.models import AuditEvent, ContactFlag, Sample, SampleKind, SampleResult
from verification.vocab import FlagCode

from .factories import PartyFactory, PolicyFactory

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


@pytest.fixture
def book(db):
    policies = []
    for n in range(40):
        branch = "B1101" if n < 30 else "B3301"
        day = dt.date(2026, 3, 1) + dt.timedelta(days=n % 28) if n % 4 else dt.date(2025, 6, 1)
        policy = PolicyFactory(policy_no=f"PS{n:04d}", branch_code=branch, issue_date=day)
        PartyFactory(policy=policy)
        policies.append(policy)
    return policies


def _draw(user, **kwargs):
    args = {"kind": SampleKind.NEW_BUSINESS, "branch": "B1101", "start": START, "end": END, "user": user}
    return sampling.draw_sample(**{**args, **kwargs})


def _nos(sample):
    return sorted(sample.items.values_list("policy__policy_no", flat=True))


def test_same_seed_same_policies(book, supervisor_user):
    first = _draw(supervisor_user, count=5, seed=20260301)
    second = _draw(supervisor_user, count=5, seed=20260301)
    other = _draw(supervisor_user, count=5, seed=7)
    assert _nos(first) == _nos(second) and len(_nos(first)) == 5
    assert _nos(other) != _nos(first)
    # New business in B1101 in March: 30 policies, every fourth issued in 2025.
    assert first.population == 22
    assert all(no < "PS0030" for no in _nos(first))


def test_percentage_rounds_up_and_in_force_includes_older_policies(book, supervisor_user):
    sample = _draw(supervisor_user, percent=Decimal("10"), kind=SampleKind.IN_FORCE, branch="")
    assert sample.population == 40 and sample.items.count() == 4
    unseeded = _draw(supervisor_user, percent=Decimal("50"))
    assert unseeded.seed and unseeded.items.count() == 11
    assert AuditEvent.objects.filter(action="sample_draw").count() == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"count": 1, "percent": Decimal(5)},
        {"percent": Decimal(0)},
        {"count": 0},
        {"count": 5, "kind": "x"},
    ],
)
def test_bad_draws_are_refused_without_a_sample(book, supervisor_user, kwargs):
    with pytest.raises(sampling.SamplingError):
        _draw(supervisor_user, **kwargs)
    assert not Sample.objects.exists()


def test_checks_become_flags_and_the_report_by_branch(book, supervisor_user):
    sample = _draw(supervisor_user, count=4, seed=1, branch="")
    items = list(sample.items.order_by("pk"))
    sampling.record_check(item=items[0], user=supervisor_user, differences={})
    sampling.record_check(
        item=items[1],
        user=supervisor_user,
        differences={
            "applicant.mobile": FlagCode.PHONE_IS_AGENT,
            "sales.agent_name": FlagCode.AGENT_NAME_MISMATCH,
        },
        note="表上是客户本人手机",
    )
    items[1].refresh_from_db()
    assert items[1].result == SampleResult.DISCREPANCY and items[1].checked_by == supervisor_user
    flags = ContactFlag.objects.filter(policy=items[1].policy).order_by("code")
    assert [(f.party, f.field, f.code, f.raised_by) for f in flags] == [
        ("sales", "agent_name", FlagCode.AGENT_NAME_MISMATCH, supervisor_user),
        ("applicant", "mobile", FlagCode.PHONE_IS_AGENT, supervisor_user),
    ]
    with pytest.raises(sampling.SamplingError):  # checked once
        sampling.record_check(item=items[1], user=supervisor_user, differences={})
    with pytest.raises(sampling.SamplingError):  # a code that does not fit the field
        sampling.record_check(
            item=items[2], user=supervisor_user, differences={"applicant.mobile": "id_invalid"}
        )
    items[2].refresh_from_db()
    assert items[2].result == SampleResult.PENDING
    report = {r.branch_code: r for r in sampling.sample_report(samples=[sample])}
    assert sum(r.size for r in report.values()) == 4
    assert sum(r.checked for r in report.values()) == 2
    assert sum(r.discrepancies for r in report.values()) == 1


def test_pages_draw_check_and_roles(book, supervisor_client, agent_user):
    response = supervisor_client.post(
        reverse("sample_list"),
        {
            "kind": "new_business",
            "branch": "B1101",
            "start": "2026-03-01",
            "end": "2026-03-31",
            "count": 2,
            "seed": 5,
        },
    )
    sample = Sample.objects.get()
    assert response.url == reverse("sample_detail", args=[sample.pk])
    item = sample.items.order_by("pk").first()
    page = supervisor_client.get(reverse("sample_check", args=[item.pk])).content.decode()
    assert item.policy.policy_no in page and "138****8000" in page
    supervisor_client.post(reverse("sample_check", args=[item.pk]), {"applicant.mobile": "mobile_invalid"})
    item.refresh_from_db()
    assert item.result == SampleResult.DISCREPANCY
    detail = supervisor_client.get(reverse("sample_detail", args=[sample.pk])).content.decode()
    assert "mobile_invalid" in detail
    bad = supervisor_client.post(reverse("sample_list"), {"kind": "new_business", "start": "2026-03-01"})
    assert bad.status_code == 200 and not Sample.objects.exclude(pk=sample.pk).exists()
    export = supervisor_client.get(reverse("sample_detail", args=[sample.pk]), {"format": "xlsx"})
    assert export.status_code == 200
    assert AuditEvent.objects.filter(action="export_report").count() == 1
    supervisor_client.force_login(agent_user)
    for url in (
        reverse("sample_list"),
        reverse("sample_detail", args=[sample.pk]),
        reverse("sample_check", args=[item.pk]),
    ):
        assert supervisor_client.get(url).status_code == 403
