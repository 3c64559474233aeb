"""The SMS e-callback as a fallback channel: a rule sends the applicant the e-callback link, once; a task
that cannot have one falls to the next rule's letter, saying why; the e-callback counts in the record
of what was tried."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from callback.fallback import apply_rules, mark_sent, tried
from callback.models import (
    CallAttempt,
    CallbackTask,
    ContactFlag,
    ECallbackLink,
    ECallbackSettings,
    FallbackDelivery,
    FallbackMove,
    FallbackRule,
    FallbackTrigger,
    SmsMessage,
    TaskStatus,
)
from callback.outcomes import close_attempt
from callback.queue import claim_next_task
from callback.sweep import sweep
from callback.telephony import opt_out

from . import factories
from .factories.scripts import serving_queue
from .test_ecallback import identify, phone
from .test_fallback import past_call, rule

pytestmark = pytest.mark.django_db

# Under 60, so the installed phone-only rule ("applicants aged 60 and over") does not apply.
APPLICANT = {
    "birth_date": dt.date(1988, 3, 14),
    "id_no": "11010519880314002X",
    "mobile": "13912345678",
    "address": "北京市朝阳区建国路88号3栋1202室",
}


@pytest.fixture(autouse=True)
def ecallbacks_on(db):
    return ECallbackSettings.objects.create(enabled=True, reminder_days=[])


@pytest.fixture
def q(agent_user):
    return serving_queue(agent_user)


def task_on_phone(q, *, calls=3, **applicant):
    """A task whose applicant was called `calls` times over the last days and never answered."""
    policy = factories.PolicyFactory(receipt_date=timezone.localdate() - dt.timedelta(days=3))
    factories.PartyFactory(policy=policy, **{**APPLICANT, **applicant})
    task = factories.CallbackTaskFactory(policy=policy, queue=q)
    for days_ago in range(calls, 0, -1):
        past_call(task, "no_answer", days_ago)
    task.refresh_from_db()
    return task


def no_contact(channel, order=0):
    return rule(FallbackTrigger.NO_CONTACT, channel=channel, min_attempts=3, over_days=2, order=order)


def link_messages(task) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(task=task, template="ecallback_link"))


class TestSmsECallbackRule:
    def test_sends_the_link_to_the_right_tasks_once(self, q, agent_user):
        silent = task_on_phone(q)
        early = task_on_phone(q, calls=2)  # not yet 3 calls
        no_contact("ecallback")
        assert apply_rules() == 1
        assert apply_rules() == 0  # the rule moves a task once
        sweep()  # nor does the whole sweep send it again
        # The applicant receives the e-callback SMS with a link that opens their e-callback.
        (message,) = link_messages(silent)
        assert message.to == "+8613912345678" and message.status != "opted_out"
        token = re.search(r"/e/([\w-]+)/", message.body).group(1)
        assert phone().get(reverse("ecallback_start", args=[token])).status_code == 200
        assert link_messages(early) == []
        # The phone waits for the applicant until the link's fallback time.
        link = ECallbackLink.objects.get(task=silent)
        silent.refresh_from_db()
        assert (silent.status, silent.next_attempt_at) == (TaskStatus.OPEN, link.fallback_at)
        assert claim_next_task(agent=agent_user) == early
        (moved,) = FallbackMove.objects.filter(task=silent)
        assert moved.to_channel == "ecallback" and moved.rule.channel == "ecallback"

    def test_the_rule_form_accepts_the_sms_ecallback(self, admin_client_):
        response = admin_client_.post(
            reverse("admin:callback_fallbackrule_add"),
            {
                "name": "3次未接通 → 短信电子化回访",
                "trigger": "no_contact",
                "channel": "ecallback",
                "min_attempts": 3,
                "over_days": 2,
                "reply_days": 10,
                "active": "on",
                "order": 0,
            },
        )
        assert response.status_code == 302
        assert FallbackRule.objects.get().channel == "ecallback"

    def test_when_the_link_falls_back_unanswered_the_letter_rule_takes_over(self, q):
        task = task_on_phone(q)
        no_contact("ecallback")
        no_contact("letter", order=1)
        assert apply_rules() == 1
        assert not CallAttempt.objects.filter(task=task, channel="letter").exists()  # the link is out
        fallback_at = ECallbackLink.objects.get(task=task).fallback_at
        sweep(now=fallback_at + dt.timedelta(minutes=1))  # the link falls back to the phone
        sweep(now=fallback_at + dt.timedelta(minutes=2))  # and the next rule sends a letter
        task.refresh_from_db()
        assert task.status == TaskStatus.FALLBACK
        assert CallAttempt.objects.get(task=task, channel="letter").delivery.status == "to_send"
        assert len(link_messages(task)) == 1


class TestNoECallbackFallsToTheLetter:
    @pytest.mark.parametrize(
        "why, applicant, said",
        [
            ("no mobile", {"mobile": "", "phone": "010-62345678"}, "no mobile number"),
            ("opted out", {}, "opted out of SMS"),
            ("aged 60 and over", {"birth_date": dt.date(1950, 1, 1)}, "phone-only rule"),
        ],
    )
    def test_falls_to_the_letter_and_says_why(self, q, why, applicant, said):
        task = task_on_phone(q, **applicant)
        if why == "opted out":
            opt_out(number="+8613912345678", keyword="TD")
        no_contact("ecallback")
        no_contact("letter", order=1)
        assert apply_rules() == 1
        task.refresh_from_db()
        letter = CallAttempt.objects.get(task=task, channel="letter")
        assert task.status == TaskStatus.FALLBACK and letter.delivery.status == "to_send"
        assert not ECallbackLink.objects.filter(task=task).exists() and link_messages(task) == []
        spent = FallbackMove.objects.get(task=task, rule__channel="ecallback")
        assert spent.to_channel == "letter" and said in spent.reason
        assert apply_rules() == 0  # no second letter, no second try
        assert said in " ".join(t.result for t in tried(task))

    def test_switched_off_stays_on_the_phone_without_a_fallthrough_rule(self, q, ecallbacks_on):
        ecallbacks_on.enabled = False
        ecallbacks_on.save()
        task = task_on_phone(q)
        no_contact("ecallback")
        assert apply_rules() == 0
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        spent = FallbackMove.objects.get(task=task)
        assert spent.to_channel == "phone" and "switched off" in spent.reason

    def test_every_number_dead_skips_the_sms_and_sends_a_letter(self, q, agent_user):
        task = task_on_phone(q, calls=0)
        no_contact("ecallback")
        rule(FallbackTrigger.ALL_DEAD, channel="ecallback")
        rule(FallbackTrigger.ALL_DEAD, channel="letter", order=1)
        CallbackTask.objects.filter(pk=task.pk).update(holder=agent_user, lease_expires_at=timezone.now())
        close_attempt(task=task, agent=agent_user, outcome="wrong_number", number_dialled="13912345678")
        task.refresh_from_db()
        assert task.status == TaskStatus.FALLBACK
        assert CallAttempt.objects.filter(task=task, channel="letter").exists()
        assert link_messages(task) == []
        assert "dead number" in FallbackMove.objects.get(task=task, rule__channel="ecallback").reason


class TestNeverReached:
    def test_unreachable_lists_the_sms_ecallback_with_calls_and_letter(self, q, supervisor_user):
        task = task_on_phone(q)
        no_contact("ecallback")
        no_contact("letter", order=1)
        now = timezone.now()
        apply_rules(now=now)
        link = ECallbackLink.objects.get(task=task)
        message = link_messages(task)[0]
        token = re.search(r"/e/([\w-]+)/", message.body).group(1)
        # The applicant proves who they are, then leaves: the e-callback's attempt stays open.
        identify(phone(), link, token)
        assert CallAttempt.objects.get(task=task, channel="ecallback").outcome == ""
        sweep(now=link.fallback_at + dt.timedelta(minutes=1))
        sweep(now=link.fallback_at + dt.timedelta(minutes=2))
        letter = FallbackDelivery.objects.get(attempt__task=task)
        mark_sent(deliveries=[letter], by=supervisor_user)
        task.refresh_from_db()
        sweep(now=task.deadline + dt.timedelta(days=11))
        task.refresh_from_db()
        assert task.status == TaskStatus.EXPIRED
        flag = ContactFlag.objects.get(policy=task.policy, code="callback_unreachable")
        assert "Phone ×3" in flag.detail and "E-callback ×1" in flag.detail and "Letter ×1" in flag.detail

    def test_a_link_never_opened_counts_as_tried(self, q):
        task = task_on_phone(q)
        no_contact("ecallback")
        apply_rules()
        sweep(now=task.deadline + dt.timedelta(minutes=1))
        task.refresh_from_db()
        assert task.status == TaskStatus.EXPIRED
        flag = ContactFlag.objects.get(policy=task.policy, code="callback_unreachable")
        assert "E-callback ×1" in flag.detail and "link sent by SMS" in flag.detail
