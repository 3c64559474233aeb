"""The back book (通知 二(三)): no free-look callback, no false callback_unreachable; contact-verification
campaigns through the same queue and workspace, worked to the end."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callback.accountability import back_book
from callback.models import (
    AuditEvent,
    CallAttempt,
    CallbackTask,
    ContactFlag,
    FlagStatus,
    Queue,
    TaskKind,
)
from callback.sweep import sweep
from verification.models import ScriptVersion
from verification.vocab import FlagCode

from .factories import PartyFactory, PolicyFactory
from .factories.flags import ContactFlagFactory
from .factories.intake import import_rows, row
from .factories.scripts import serving_queue
from .test_workspace import answer_script, close, take

pytestmark = pytest.mark.django_db


def test_old_policy_imported_gets_no_task_and_no_false_unreachable(db):
    # Delivered in 2012: the free-look window closed years before the import.
    recent = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    import_rows(
        row(
            policy_no="PT0000000001",
            issue_date="2012-05-01",
            receipt_date="2012-05-06",
            applicant_mobile="abc",
        ),
        row(policy_no="PT0000000002", issue_date=recent, receipt_date=recent),  # new business, same file
    )
    assert not CallbackTask.objects.filter(policy__policy_no="PT0000000001").exists()
    assert CallbackTask.objects.filter(policy__policy_no="PT0000000002", kind=TaskKind.FREE_LOOK).exists()
    # Screened like any other.
    assert ContactFlag.objects.filter(policy__policy_no="PT0000000001", code=FlagCode.MOBILE_INVALID).exists()
    sweep(now=timezone.now() + dt.timedelta(days=400))
    assert not ContactFlag.objects.filter(
        code=FlagCode.CALLBACK_UNREACHABLE, policy__policy_no="PT0000000001"
    ).exists()
    # Importing it again changes nothing.
    import_rows(
        row(
            policy_no="PT0000000001",
            issue_date="2012-05-01",
            receipt_date="2012-05-06",
            applicant_mobile="abc",
        )
    )
    assert not CallbackTask.objects.filter(policy__policy_no="PT0000000001").exists()
    assert list(back_book.back_book().values_list("policy_no", flat=True)) == ["PT0000000001"]


def _back_book_policy(no: str, branch="B3301", *codes):
    policy = PolicyFactory(
        policy_no=no, branch_code=branch, receipt_date=dt.date(2013, 1, 5), issue_date=dt.date(2013, 1, 1)
    )
    PartyFactory(policy=policy)
    for code in codes:
        ContactFlagFactory(policy=policy, code=code)
    return policy


@pytest.fixture
def script():
    return ScriptVersion.objects.get(script__code="contact-verification", status="published")


@pytest.fixture
def book(db):
    a = _back_book_policy("PH1", "B3301", FlagCode.MOBILE_INVALID)
    b = _back_book_policy("PH2", "B3301", FlagCode.PHONE_IS_AGENT)
    c = _back_book_policy("PH3", "B3301")  # no defect: not selected
    d = _back_book_policy("PH4", "B1101", FlagCode.MOBILE_INVALID)  # other branch
    e = _back_book_policy("PH5", "B3301", FlagCode.MOBILE_INVALID)
    e.flags.update(status=FlagStatus.RESOLVED)  # corrected
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _only_queue(agent_user):
    queue = serving_queue(agent_user)
    Queue.objects.exclude(pk=queue.pk).update(is_default=False)  # campaign tasks are routed to it
    return queue


def test_campaign_worked_to_the_end(book, script, agent_user, admin_user):
    queue = _only_queue(agent_user)
    campaign = back_book.start_campaign(
        name="杭州存量保单核实",
        branch="B3301",
        deadline=timezone.localdate() + dt.timedelta(days=20),
        script_version=script,
        user=admin_user,
    )
    tasks = {t.policy.policy_no: t for t in campaign.tasks.select_related("policy")}
    assert set(tasks) == {"PH1", "PH2"}
    assert all(t.kind == TaskKind.CONTACT_VERIFICATION and t.queue == queue for t in tasks.values())
    assert back_book.campaign_progress(campaign).open == 2
    # The agent works both through the ordinary workspace, reading the campaign's script.
    client = Client()
    client.force_login(agent_user)
    first = take(client)
    attempt = CallAttempt.objects.get(task=first, outcome="")
    assert attempt.script_version == script
    state = answer_script(
        client,
        first,
        overrides={
            "contact_current": {"answer": "no"},
            "contact_correction": {"answer": "新手机 13912345678"},
        },
    )
    assert state.complete
    close(client, first, "verified")
    second = take(client)
    answer_script(client, second)
    close(client, second, "verified")
    progress = back_book.campaign_progress(campaign)
    assert (progress.tasks, progress.verified, progress.open, progress.done) == (2, 2, 0, 2)
    assert "新手机" in str(CallAttempt.objects.get(task=first).answers)
    assert AuditEvent.objects.filter(action="campaign_start").exists()


def test_a_campaign_deadline_passing_raises_no_unreachable(book, script, agent_user, admin_user):
    serving_queue(agent_user)
    campaign = back_book.start_campaign(
        name="x",
        code=FlagCode.PHONE_IS_AGENT,
        deadline=timezone.localdate() + dt.timedelta(days=1),
        script_version=script,
        user=admin_user,
    )
    assert [t.policy.policy_no for t in campaign.tasks.all()] == ["PH2"]
    sweep(now=timezone.now() + dt.timedelta(days=3))
    assert back_book.campaign_progress(campaign).expired == 1
    assert not ContactFlag.objects.filter(code=FlagCode.CALLBACK_UNREACHABLE).exists()
    # The contact-verification script is never chosen for a free-look callback.
    from callback.script_for_policy import version_for_policy

    assert version_for_policy(book["a"]).script.purpose == "free_look"


def test_bad_campaigns_are_refused_without_tasks(book, script, admin_user):
    today = timezone.localdate()
    free_look = ScriptVersion.objects.filter(script__purpose="free_look", status="published").first()
    for kwargs in (
        {"name": "", "deadline": today + dt.timedelta(days=5), "script_version": script},
        {"name": "x", "deadline": today, "script_version": script},
        {"name": "x", "deadline": today + dt.timedelta(days=5), "script_version": free_look},
        {"name": "x", "deadline": today + dt.timedelta(days=5), "script_version": script, "branch": "B9999"},
    ):
        with pytest.raises(back_book.CampaignError):
            back_book.start_campaign(user=admin_user, **kwargs)
    assert not CallbackTask.objects.exists()


def test_progress_report_by_branch(book):
    rows = {r.branch_code: r for r in back_book.back_book_progress()}
    b33 = rows["B3301"]
    assert (b33.screened, b33.defective, b33.corrected, b33.still_open) == (4, 3, 1, 2)
    assert (rows["B1101"].screened, rows["B1101"].still_open) == (1, 1)


def test_page_admin_starts_supervisor_reads_agent_refused(
    book, script, client, admin_user, supervisor_user, agent_user
):
    client.force_login(admin_user)
    deadline = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = client.post(
        reverse("back_book"),
        {
            "name": "存量核实",
            "branch": "B1101",
            "code": "",
            "deadline": deadline,
            "script_version": script.pk,
        },
    )
    assert response.status_code == 302
    assert CallbackTask.objects.get().policy.policy_no == "PH4"
    client.force_login(supervisor_user)
    html = client.get(reverse("back_book")).content.decode()
    assert "存量核实" in html
    assert client.post(reverse("back_book"), {"name": "y"}).status_code == 403
    client.force_login(agent_user)
    assert client.get(reverse("back_book")).status_code == 403
