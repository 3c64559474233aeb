"""The applicant's e-callback: link SMS, identity by SMS code + id tail or birth date, the published
script as a form, the signature code, "I'd rather be called", locks, dead links, the sweep's offers,
reminders and fallback to the phone queue, and what supervisors see."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callback.ecallback import offer_ecallback
from callback.ecallback.links import hash_token
from callback.models import (
    AuditEvent,
    CallAttempt,
    CallbackTask,
    Channel,
    ECallbackCode,
    ECallbackLink,
    ECallbackSettings,
    LinkStatus,
    PhoneOnlyRule,
    SmsMessage,
    TaskStatus,
)
from callback.sweep import sweep
from verification.vocab import Outcome

from .factories.scripts import due_task, serving_queue

APPLICANT = {
    "birth_date": dt.date(1988, 3, 14),
    "id_no": "11010519880314002X",
    "mobile": "13912345678",
    "mobile_e164": "+8613912345678",
}
UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"


@pytest.fixture
def ecb_settings(db):
    return ECallbackSettings.objects.create(enabled=True, reminder_days=[1])


@pytest.fixture
def task(agent_user, ecb_settings):
    return due_task(serving_queue(agent_user), applicant=APPLICANT)


def messages_for(link) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(event_key__startswith=f"ecallback:{link.pk}:").order_by("pk"))


def offered(task) -> tuple[ECallbackLink, str]:
    """Offer the e-callback and read the link out of the SMS, as the applicant does."""
    link = offer_ecallback(task=task)
    assert link is not None
    body = messages_for(link)[0].body
    token = re.search(r"/e/([\w-]+)/", body).group(1)
    return link, token


def last_code(link) -> str:
    return re.search(r"\d{6}", messages_for(link)[-1].body).group(0)


def phone() -> Client:
    return Client(HTTP_USER_AGENT=UA, REMOTE_ADDR="203.0.113.7")


def identify(client, link, token, *, value="14002X", method="id_last6"):
    client.post(reverse("ecallback_code", args=[token]))
    return client.post(
        reverse("ecallback_start", args=[token]), {"code": last_code(link), "method": method, "value": value}
    )


def all_yes(client, token) -> dict:
    """Every question answered with its passing answer, as the form offers them."""
    page = client.get(reverse("ecallback_answers", args=[token]))
    data = {"disclosures_read": "1"}
    for question in page.context["questions"]:
        kind = question.question.kind
        key = f"q_{question.question.key}"
        if kind == "yes_no":
            data[key] = "yes"
        elif kind == "choice":
            data[key] = (question.question.passing_answers or question.choices)[0]
        elif kind == "date":
            data[key] = "2026-11-20"
        else:
            data[key] = "无"
    return data


def test_whole_ecallback_to_verified_with_evidence_and_receipt(task):
    link, token = offered(task)
    client = phone()
    start = client.get(reverse("ecallback_start", args=[token]))
    assert start.status_code == 200
    # Nothing about the policy before identity: no name, number, product or salesperson.
    for secret in (task.policy.policy_no, "陈磊", task.policy.product_name, task.policy.agent_name, "5,000"):
        assert secret not in start.content.decode()
    response = identify(client, link, token)
    assert response.status_code == 302 and response["Location"].endswith("/answers/")
    page = client.get(reverse("ecallback_answers", args=[token]))
    assert task.policy.policy_no in page.content.decode()
    response = client.post(reverse("ecallback_answers", args=[token]), all_yes(client, token))
    assert response["Location"].endswith("/sign/")
    response = client.post(reverse("ecallback_sign", args=[token]), {"code": last_code(link)})
    assert response["Location"].endswith("/done/")
    done = client.get(reverse("ecallback_done", args=[token]))
    assert "complete" in done.content.decode()
    pdf = client.get(reverse("ecallback_receipt", args=[token]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED and task.outcome == Outcome.VERIFIED
    attempt = CallAttempt.objects.get(task=task)
    assert attempt.channel == Channel.ECALLBACK and attempt.agent is None
    assert attempt.outcome == Outcome.VERIFIED and attempt.script_version is not None
    identity = next(a for a in attempt.answers if a["key"] == "identity")
    assert identity["passed"] and identity["answer"]["method"] == "sms_code+id_last6"
    assert all(a["passed"] for a in attempt.answers)
    link.refresh_from_db()
    assert link.status == LinkStatus.COMPLETED and link.ip == "203.0.113.7" and "Android" in link.user_agent
    assert link.identified_at and link.signed_at
    actions = set(AuditEvent.objects.filter(object_type="ecallbacklink").values_list("action", flat=True))
    assert {
        "ecallback_offered",
        "ecallback_code_sent",
        "ecallback_identified",
        "ecallback_answered",
        "ecallback_signed",
    } <= actions
    # The code SMS texts are sent, but no code is kept in clear in the e-callback's own tables.
    assert not link.codes.filter(code_hash__contains=last_code(link)).exists()
    assert ECallbackLink.objects.filter(token_hash=hash_token(token)).exists()
    assert not ECallbackLink.objects.filter(token_hash=token).exists()


def test_birth_date_works_as_the_second_factor(task):
    link, token = offered(task)
    response = identify(phone(), link, token, method="birth_date", value="1988-03-14")
    assert response["Location"].endswith("/answers/")
    link.refresh_from_db()
    assert link.identity_method == "sms_code+birth_date"


def test_a_no_sends_the_task_to_review_and_says_a_specialist_calls(task):
    link, token = offered(task)
    client = phone()
    identify(client, link, token)
    data = all_yes(client, token)
    data["q_signed_personally"] = "no"
    response = client.post(reverse("ecallback_answers", args=[token]), data)
    assert response["Location"].endswith("/done/")
    assert "specialist will call" in client.get(response["Location"]).content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW and task.outcome == Outcome.VERIFIED_WITH_ISSUES
    attempt = CallAttempt.objects.get(task=task)
    assert attempt.channel == Channel.ECALLBACK
    assert next(a for a in attempt.answers if a["key"] == "signed_personally")["passed"] is False
    # No signature code was asked for, and the link is spent.
    assert not link.codes.filter(purpose="signature").exists()
    assert phone().get(reverse("ecallback_start", args=[token])).status_code == 404


def test_unanswered_questions_and_unread_disclosures_are_refused_without_saving(task):
    link, token = offered(task)
    client = phone()
    identify(client, link, token)
    data = all_yes(client, token)
    del data["disclosures_read"]
    data.pop("q_terms_read", None)
    response = client.post(reverse("ecallback_answers", args=[token]), data)
    assert response.status_code == 200
    assert "Some answers are missing" in response.content.decode()
    assert "tick the box" in response.content.decode()
    attempt = CallAttempt.objects.get(task=task)
    assert [a["key"] for a in attempt.answers] == ["identity"]


def test_wrong_codes_until_the_lock_send_the_task_to_the_phone_queue(task):
    link, token = offered(task)
    client = phone()
    client.post(reverse("ecallback_code", args=[token]))
    wrong = "000000" if last_code(link) != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = client.post(
            reverse("ecallback_start", args=[token]), {"code": wrong, "method": "id_last6", "value": "14002X"}
        )
        assert f"{left} tries left" in response.content.decode()
    # The right code with a wrong id tail is a wrong try too, and the fifth one locks.
    response = client.post(
        reverse("ecallback_start", args=[token]),
        {"code": last_code(link), "method": "id_last6", "value": "123456"},
    )
    assert response.status_code == 403 and "locked" in response.content.decode()
    link.refresh_from_db()
    task.refresh_from_db()
    assert link.status == LinkStatus.LOCKED
    assert task.status == TaskStatus.OPEN and task.next_attempt_at <= timezone.now()
    assert client.get(reverse("ecallback_start", args=[token])).status_code == 404
    assert AuditEvent.objects.filter(action="ecallback_locked", object_id=str(link.pk)).exists()


def test_codes_are_rate_limited_per_link(task):
    link, token = offered(task)
    client = phone()
    client.post(reverse("ecallback_code", args=[token]))
    response = client.post(reverse("ecallback_code", args=[token]), follow=True)
    assert "less than a minute ago" in response.content.decode()
    assert link.codes.count() == 1


def test_expired_forged_reused_and_other_task_links_are_404_with_nothing_disclosed(task, agent_user):
    link, token = offered(task)
    other = due_task(serving_queue(agent_user, code="other"), applicant=APPLICANT)
    other_link, other_token = offered(other)
    client = phone()
    identify(client, link, token)
    # Identity proven on one link opens nothing of another task's link.
    assert client.get(reverse("ecallback_answers", args=[other_token])).status_code == 404
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, "x", "a" * 200):
        response = client.get(reverse("ecallback_start", args=[bad]))
        assert response.status_code == 404
        assert task.policy.policy_no not in response.content.decode()
    # Expired: the window closed.
    ECallbackLink.objects.filter(pk=other_link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert phone().get(reverse("ecallback_start", args=[other_token])).status_code == 404
    # Reused: once completed, the link opens nothing for anyone else.
    client.post(reverse("ecallback_answers", args=[token]), all_yes(client, token))
    client.post(reverse("ecallback_sign", args=[token]), {"code": last_code(link)})
    assert phone().get(reverse("ecallback_start", args=[token])).status_code == 404
    assert phone().get(reverse("ecallback_done", args=[token])).status_code == 404
    assert phone().get(reverse("ecallback_receipt", args=[token])).status_code == 404


def test_task_closed_by_a_call_kills_the_link(task):
    link, token = offered(task)
    CallbackTask.objects.filter(pk=task.pk).update(status=TaskStatus.COMPLETED)
    assert phone().get(reverse("ecallback_start", args=[token])).status_code == 404


def test_rather_be_called_books_an_appointment_in_the_phone_queue(task):
    link, token = offered(task)
    client = phone()
    page = client.get(reverse("ecallback_call", args=[token]))
    assert page.status_code == 200
    slot = page.context["slots"][1][1][0]  # a time tomorrow
    response = client.post(reverse("ecallback_call", args=[token]), {"at": slot.isoformat()})
    assert response["Location"].endswith("/done/")
    task.refresh_from_db()
    assert task.appointment_at == slot and task.next_attempt_at == slot and task.status == TaskStatus.OPEN
    attempt = CallAttempt.objects.get(task=task)
    assert attempt.outcome == Outcome.CALLBACK_REQUESTED and attempt.channel == Channel.ECALLBACK
    link.refresh_from_db()
    assert link.status == LinkStatus.CALL_REQUESTED
    assert "will call you" in client.get(response["Location"]).content.decode()


def test_rather_be_called_refuses_a_time_after_the_window(task):
    link, token = offered(task)
    too_late = task.deadline + dt.timedelta(days=1)
    response = phone().post(reverse("ecallback_call", args=[token]), {"at": too_late.isoformat()})
    assert response.status_code == 200 and "after the free-look period" in response.content.decode()
    assert not CallAttempt.objects.filter(task=task).exists()


def test_no_double_sms_for_one_event(task):
    link = offer_ecallback(task=task)
    again = offer_ecallback(task=task)
    assert again == link
    assert len(messages_for(link)) == 1
    # Two sweeps on the reminder day send one reminder.
    later = timezone.now() + dt.timedelta(days=1, minutes=1)
    sweep(now=later)
    sweep(now=later)
    events = [m.event_key for m in messages_for(link)]
    assert events == [f"ecallback:{link.pk}:link", f"ecallback:{link.pk}:reminder:1"]


def test_the_phone_queue_waits_until_the_fallback_and_the_sweep_falls_back(task):
    link = offer_ecallback(task=task)
    task.refresh_from_db()
    assert task.next_attempt_at == link.fallback_at > timezone.now()
    assert link.fallback_at <= timezone.now() + dt.timedelta(days=3)
    report = sweep(now=link.fallback_at + dt.timedelta(minutes=1))
    assert report.ecallbacks_fallen_back == 1
    link.refresh_from_db()
    task.refresh_from_db()
    assert link.status == LinkStatus.FALLEN_BACK and task.status == TaskStatus.OPEN
    assert task.next_attempt_at <= link.fallback_at + dt.timedelta(minutes=1)


def test_fallback_comes_first_when_the_window_is_short(agent_user, ecb_settings):
    short = due_task(
        serving_queue(agent_user),
        applicant=APPLICANT,
        receipt_date=timezone.localdate() - dt.timedelta(days=8),
    )
    link = offer_ecallback(task=short)
    assert link.fallback_at == short.deadline - dt.timedelta(days=5)


def test_the_sweep_offers_fresh_tasks_and_admins_rules_keep_some_on_the_phone(agent_user, ecb_settings):
    queue = serving_queue(agent_user)
    young = due_task(queue, applicant=APPLICANT)
    old = due_task(queue)  # born 1960: 60 and over, phone only by default
    bank = due_task(queue, applicant=APPLICANT, channel="bancassurance", premium=80000)
    report = sweep()
    assert report.ecallbacks_offered == 1
    assert list(ECallbackLink.objects.values_list("task_id", flat=True)) == [young.pk]
    assert not ECallbackLink.objects.filter(task__in=[old, bank]).exists()
    PhoneOnlyRule.objects.all().update(active=False)
    assert sweep().ecallbacks_offered == 2


def test_nothing_is_offered_until_admins_enable_it(agent_user):
    due_task(serving_queue(agent_user), applicant=APPLICANT)
    assert sweep().ecallbacks_offered == 0
    assert not ECallbackLink.objects.exists()


def test_pages_are_csrf_protected(task):
    link, token = offered(task)
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("ecallback_code", args=[token]))
    assert response.status_code == 403
    assert not link.codes.exists()


def test_supervisors_see_ecallbacks_with_their_evidence_agents_do_not(task, supervisor_user, agent_user):
    link, token = offered(task)
    client = phone()
    identify(client, link, token)
    client.post(reverse("ecallback_answers", args=[token]), all_yes(client, token))
    client.post(reverse("ecallback_sign", args=[token]), {"code": last_code(link)})
    supervisor, agent = Client(), Client()
    supervisor.force_login(supervisor_user)
    agent.force_login(agent_user)
    page = supervisor.get(reverse("attempt_list") + "?channel=ecallback").content.decode()
    assert "E-callback" in page and "203.0.113.7" in page and "Android" in page
    assert "SMS code + id number" in page and task.policy.policy_no in page
    assert "1 offered, 1 completed online; completion rate 100.0%, share of verified callbacks 100.0%" in page
    phone_calls = supervisor.get(reverse("attempt_list") + "?channel=phone").content.decode()
    assert task.policy.policy_no not in phone_calls
    assert agent.get(reverse("attempt_list")).status_code == 403


def test_ecallback_page_in_chinese_by_default(task, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    link, token = offered(task)
    from django.utils import translation

    with translation.override("zh-hans"):
        page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(reverse("ecallback_start", args=[token]))
    assert "回访" in page.content.decode()


def test_a_no_that_an_agent_would_explain_goes_to_review_with_the_follow_up_not_cleared(task):
    link, token = offered(task)
    client = phone()
    identify(client, link, token)
    data = all_yes(client, token)
    data["q_product_understood"] = "no"
    client.post(reverse("ecallback_answers", args=[token]), data)
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW
    answers = {a["key"]: a for a in CallAttempt.objects.get(task=task).answers}
    assert answers["product_understood"]["passed"] is False
    assert answers["product_understood_explained"]["passed"] is False
    assert "E-callback" in answers["product_understood_explained"]["text"]


def test_the_stored_sms_copies_lose_the_link_and_the_code_once_sent(task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the SMS job runs when the offer commits
        link, token = offered(task)
    with django_capture_on_commit_callbacks(execute=True):
        phone().post(reverse("ecallback_code", args=[token]))
    assert token in messages_for(link)[0].body  # queued copies are what the job sends: kept until sent
    sweep()
    bodies = [m.body for m in messages_for(link)]
    assert token not in "".join(bodies) and "/e/…/" in bodies[0]
    assert not re.search(r"\d{6}", bodies[1])


def test_an_applicant_back_after_the_fallback_still_completes_on_one_attempt(task):
    link, token = offered(task)
    client = phone()
    identify(client, link, token)
    sweep(now=link.fallback_at + dt.timedelta(minutes=1))
    link.refresh_from_db()
    assert link.status == LinkStatus.FALLEN_BACK
    client.get(reverse("ecallback_answers", args=[token]))  # sent back to the identity step
    # A minute later: a new code may be sent.
    ECallbackCode.objects.filter(link=link).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert identify(client, link, token).status_code == 302
    client.post(reverse("ecallback_answers", args=[token]), all_yes(client, token))
    client.post(reverse("ecallback_sign", args=[token]), {"code": last_code(link)})
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert CallAttempt.objects.filter(task=task).count() == 1
