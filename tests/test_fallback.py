"""Callbacks the phone alone cannot finish: no number, someone else answers, fallbacks, never reached."""

import datetime as dt

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callback.exports import export_tasks
from callback.fallback import ReceiptError, apply_rules, mark_sent, record_receipt
from callback.fallback.letters import receipt_questions
from callback.models import (
    AuditEvent,
    CallAttempt,
    CallbackTask,
    ContactFlag,
    FallbackDelivery,
    FallbackMove,
    FallbackRule,
    FallbackTrigger,
    TaskStatus,
)
from callback.outcomes import close_attempt
from callback.queue import claim_next_task
from callback.sweep import sweep
from verification.models import Question, Script, ScriptVersion

from . import factories
from .factories.intake import import_rows, row
from .factories.queue import agent_in, at, queue
from .factories.scripts import due_task, serving_queue
from .test_workspace import answer, close, take

pytestmark = pytest.mark.django_db

# A Tuesday morning inside the window of a receipt signed on 2026-11-20 (imported on 2026-11-25).
IN_WINDOW = at(2026, 11, 24, 10, 0)
RECEIPT = "2026-11-20"


class TestNoCallableNumber:
    def test_never_claimed_and_reenters_the_queue_when_an_import_brings_a_number(self):
        q = queue("main")
        agent = agent_in(q, "li")
        import_rows(row(applicant_mobile="", applicant_phone="", receipt_date=RECEIPT))
        task = CallbackTask.objects.get()
        assert task.status == TaskStatus.NEEDS_CONTACT
        flag = ContactFlag.objects.get(
            policy=task.policy, code="missing_field", field__in=("mobile", "phone")
        )
        assert flag.status == "open"
        assert claim_next_task(agent=agent, now=IN_WINDOW) is None

        import_rows(row(applicant_mobile="15020513739", receipt_date=RECEIPT))
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        assert claim_next_task(agent=agent, now=IN_WINDOW) == task

    def test_a_landline_alone_is_callable(self):
        queue("main")
        import_rows(row(applicant_mobile="", applicant_phone="010-62345678", receipt_date=RECEIPT))
        assert CallbackTask.objects.get().status == TaskStatus.OPEN


class TestSomeoneElseAnswers:
    """The default scripts' path when the person who answers is not the applicant."""

    @pytest.fixture
    def task(self, agent_user):
        return due_task(serving_queue(agent_user))

    def _reach_someone_else(self, client, task, *, applicant_number: str):
        take(client)
        answer(client, task, "is_applicant", answer="no")
        page = answer(client, task, "applicant_number", answer=applicant_number).content.decode()
        return page

    def test_ends_in_an_appointment_and_marks_nothing_dead(self, agent_client, task):
        page = self._reach_someone_else(agent_client, task, applicant_number="yes")
        assert "什么时候方便接听" in page
        answer(agent_client, task, "applicant_reachable_at", answer="明天上午十点半")
        # Wrong number is refused: the person who answered said it is the applicant's number.
        close(agent_client, task, "wrong_number")
        assert CallAttempt.objects.get(task=task).outcome == ""
        assert "Customer asked for a later call" in agent_client.get("/workspace/").content.decode()
        agreed = (timezone.localtime() + dt.timedelta(days=1)).replace(
            hour=10, minute=30, second=0, microsecond=0
        )
        close(agent_client, task, "callback_requested", appointment_at=agreed.strftime("%Y-%m-%dT%H:%M"))
        task.refresh_from_db()
        assert (task.appointment_at, task.status, task.dead_numbers) == (agreed, TaskStatus.OPEN, [])
        assert not ContactFlag.objects.filter(code="callback_wrong_number").exists()

    def test_not_known_at_this_number_is_a_wrong_number(self, agent_client, task):
        self._reach_someone_else(agent_client, task, applicant_number="no")
        close(agent_client, task, "wrong_number")
        task.refresh_from_db()
        assert task.dead_numbers and task.outcome == "wrong_number"

    def test_wrong_number_waits_for_the_answer_that_says_so(self, agent_client, task):
        take(agent_client)
        answer(agent_client, task, "is_applicant", answer="no")
        close(agent_client, task, "wrong_number")
        task.refresh_from_db()
        assert task.dead_numbers == [] and CallAttempt.objects.get(task=task).outcome == ""

    def test_migration_publishes_a_new_version_and_leaves_the_old_one_alone(self):
        from verification.default_scripts import SOMEONE_ELSE, add_someone_else_path

        script = Script.objects.create(code="old-script", name="旧话术")
        old = ScriptVersion.objects.create(script=script, number=1)
        Question.objects.create(
            version=old,
            order=10,
            key="is_applicant",
            kind="yes_no",
            text_zh="您是本人吗？",
            on_fail="end",
            fail_outcome="wrong_number",
        )
        Question.objects.create(version=old, order=20, key="identity", kind="identity", text_zh="身份")
        ScriptVersion.objects.filter(pk=old.pk).update(status="published")
        assert add_someone_else_path(Script, ScriptVersion, Question) == 1
        assert add_someone_else_path(Script, ScriptVersion, Question) == 0  # idempotent
        old.refresh_from_db()
        assert old.status == "retired"
        assert list(old.questions.values_list("key", "on_fail")) == [
            ("is_applicant", "end"),
            ("identity", "continue"),
        ]
        new = script.versions.get(status="published")
        assert new.number == 2
        assert [q.key for q in new.questions.order_by("order")] == [
            "is_applicant",
            *[q.key for q in SOMEONE_ELSE],
            "identity",
        ]
        assert new.publish_errors() == []


# ---------------------------------------------------------------------------------------------
# Fallback channels


def phone_task(
    *, mobile="13800138000", address="河北省邯郸市涉县建国路57号5栋2671室", receipt_days_ago=2, **kwargs
):
    policy = factories.PolicyFactory(receipt_date=timezone.localdate() - dt.timedelta(days=receipt_days_ago))
    factories.PartyFactory(
        policy=policy, mobile=mobile, mobile_e164=f"+86{mobile}" if mobile else "", address=address
    )
    return factories.CallbackTaskFactory(policy=policy, **kwargs)


def rule(trigger, channel="letter", **kwargs):
    return FallbackRule.objects.create(name=trigger, trigger=trigger, channel=channel, **kwargs)


def past_call(task, outcome, days_ago):
    attempt = CallAttempt.objects.create(task=task, outcome=outcome, number_dialled="13800138000")
    when = timezone.now() - dt.timedelta(days=days_ago)
    CallAttempt.objects.filter(pk=attempt.pk).update(started_at=when, ended_at=when)
    CallbackTask.objects.filter(pk=task.pk).update(attempts=models.F("attempts") + 1)


def receipt_answers(delivery) -> dict:
    applicant = delivery.attempt.task.policy.applicant
    answers = {}
    for q in receipt_questions(delivery):
        answers[q.key] = {
            "yes_no": "yes",
            "choice": (q.choices or [""])[0],
            "text": "无",
            "date": "2026-11-20",
            "identity": {"birth_date": applicant.birth_date.isoformat(), "id_last6": applicant.id_no[-6:]},
        }[q.kind]
    return answers


class TestFallbackRules:
    def test_no_number_moves_waiting_tasks_to_a_letter_once(self):
        waiting = phone_task(mobile="", status=TaskStatus.NEEDS_CONTACT)
        on_phone = phone_task()
        rule(FallbackTrigger.NO_NUMBER)
        assert apply_rules() == 1
        assert apply_rules() == 0  # idempotent
        waiting.refresh_from_db()
        on_phone.refresh_from_db()
        assert (waiting.status, on_phone.status) == (TaskStatus.FALLBACK, TaskStatus.OPEN)
        letter = CallAttempt.objects.get(task=waiting)
        assert (letter.channel, letter.agent, letter.delivery.status) == ("letter", None, "to_send")
        assert FallbackMove.objects.filter(task=waiting).count() == 1

    def test_window_ending_moves_only_tasks_within_k_days(self):
        closing = phone_task(receipt_days_ago=13)  # window ends in 2 days
        early = phone_task(receipt_days_ago=2)
        rule(FallbackTrigger.WINDOW_ENDING, channel="visit", days_before_end=2)
        assert apply_rules() == 1
        closing.refresh_from_db()
        early.refresh_from_db()
        assert (closing.status, early.status) == (TaskStatus.FALLBACK, TaskStatus.OPEN)
        assert CallAttempt.objects.get(task=closing).channel == "visit"

    def test_n_attempts_over_m_days_without_contact(self):
        silent = phone_task()
        for days_ago in (2, 1, 1):
            past_call(silent, "no_answer", days_ago)
        same_day = phone_task()
        for _ in range(3):
            past_call(same_day, "no_answer", 1)
        talked = phone_task()
        for days_ago, outcome in ((2, "no_answer"), (1, "refused"), (1, "no_answer")):
            past_call(talked, outcome, days_ago)
        rule(FallbackTrigger.NO_CONTACT, min_attempts=3, over_days=2)
        assert apply_rules() == 1
        assert set(CallbackTask.objects.filter(status=TaskStatus.FALLBACK)) == {silent}

    def test_every_number_dead_moves_instead_of_failing(self, agent_user):
        task = due_task(serving_queue(agent_user))
        rule(FallbackTrigger.ALL_DEAD)
        close_attempt(task=task, agent=agent_user, outcome="wrong_number", number_dialled="13800138000")
        task.refresh_from_db()
        assert task.status == TaskStatus.FALLBACK
        assert CallAttempt.objects.filter(task=task, channel="letter").exists()
        # The number is still flagged as wrong: the flag is about the data, not the task.
        assert ContactFlag.objects.filter(policy=task.policy, code="callback_wrong_number").exists()

    def test_a_letter_needs_an_address(self):
        phone_task(mobile="", address="", status=TaskStatus.NEEDS_CONTACT)
        rule(FallbackTrigger.NO_NUMBER)
        assert apply_rules() == 0

    def test_an_sms_ecallback_rule_is_valid(self):
        # What it does: tests/test_fallback_ecallback.py
        FallbackRule(name="e", trigger="no_number", channel="ecallback").full_clean()


class TestLettersAndReceipts:
    @pytest.fixture
    def letter(self):
        task = phone_task(mobile="", status=TaskStatus.NEEDS_CONTACT)
        rule(FallbackTrigger.NO_NUMBER)
        apply_rules()
        return FallbackDelivery.objects.get(attempt__task=task)

    def test_the_days_letters_render_as_one_pdf_audited(self, supervisor_client, letter):
        response = supervisor_client.get(reverse("fallback_letters_pdf"))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF") and b"STSong-Light" in response.content
        assert AuditEvent.objects.filter(action="export_letters").exists()

    def test_agents_never_see_fallback_pages(self, agent_client, letter):
        for url in (
            reverse("fallback_queues"),
            reverse("fallback_letters_pdf"),
            reverse("fallback_receipt", args=[letter.pk]),
        ):
            assert agent_client.get(url).status_code == 403

    def test_a_returned_receipt_closes_the_task_through_the_closing_rules(self, supervisor_user, letter):
        mark_sent(deliveries=[letter], by=supervisor_user)
        answers = receipt_answers(letter)
        incomplete = {k: v for k, v in answers.items() if k != "identity"}
        with pytest.raises(ReceiptError):
            record_receipt(
                delivery=letter,
                by=supervisor_user,
                returned_on=timezone.localdate(),
                scan_reference="SCAN-1",
                answers=incomplete,
                outcome="verified",
            )
        letter.refresh_from_db()
        assert letter.status == "sent" and letter.attempt.outcome == ""
        record_receipt(
            delivery=letter,
            by=supervisor_user,
            returned_on=timezone.localdate(),
            scan_reference="SCAN-1",
            answers=answers,
            outcome="verified",
        )
        letter.refresh_from_db()
        task = letter.attempt.task
        task.refresh_from_db()
        assert (task.status, letter.attempt.outcome, letter.attempt.agent) == (
            "completed",
            "verified",
            supervisor_user,
        )
        assert (letter.status, letter.scan_reference, letter.recorded_by) == (
            "returned",
            "SCAN-1",
            supervisor_user,
        )

    def test_receipt_page_records_it(self, supervisor_client, supervisor_user, letter):
        mark_sent(deliveries=[letter], by=supervisor_user)
        url = reverse("fallback_receipt", args=[letter.pk])
        form = supervisor_client.get(url).content.decode()
        assert (
            "HZ" in form
            and "本回执由投保人陈磊本人填写并亲笔签名" in form
            and "{" not in form.split("<ol")[1]
        )
        data = {
            "returned_on": timezone.localdate().isoformat(),
            "scan_reference": "SCAN-2",
            "outcome": "verified",
        }
        for key, value in receipt_answers(letter).items():
            if isinstance(value, dict):
                data.update({f"q_{key}_{part}": v for part, v in value.items()})
            else:
                data[f"q_{key}"] = value
        bad = supervisor_client.post(url, {**data, "returned_on": "tomorrow"})
        assert bad.status_code == 400
        assert supervisor_client.post(url, data).status_code == 302
        assert CallbackTask.objects.get().status == "completed"


class TestNeverReached:
    def test_unreachable_lists_every_channel_tried(self, supervisor_user, tmp_path):
        task = phone_task()
        for days_ago in (3, 2, 1):
            past_call(task, "no_answer", days_ago)
        rule(FallbackTrigger.NO_CONTACT, min_attempts=3, over_days=2)
        rule(FallbackTrigger.NO_CONTACT, channel="visit", min_attempts=3, over_days=2, order=1)
        now = timezone.now()
        apply_rules(now=now)
        letter = FallbackDelivery.objects.get(attempt__task=task)
        mark_sent(deliveries=[letter], by=supervisor_user)
        task.refresh_from_db()
        # The letter is never returned; the visit rule takes over; its receipt never comes back either.
        later = now + dt.timedelta(days=11)
        sweep(now=later)
        visit = FallbackDelivery.objects.get(attempt__task=task, attempt__channel="visit")
        mark_sent(deliveries=[visit], by=supervisor_user)
        sweep(now=later + dt.timedelta(days=11))
        task.refresh_from_db()
        assert task.status == TaskStatus.EXPIRED
        flag = ContactFlag.objects.get(policy=task.policy, code="callback_unreachable")
        assert "Phone ×3" in flag.detail and "Letter ×1" in flag.detail and "Branch visit ×1" in flag.detail
        page = Client()
        page.force_login(supervisor_user)
        html = page.get(reverse("policy_detail", args=[task.policy.policy_no])).content.decode()
        assert html.count("No answer") >= 3 and "Not returned by the deadline" in html
        export_tasks(output=tmp_path / "tasks.csv")
        exported = (tmp_path / "tasks.csv").read_text(encoding="utf-8-sig")
        assert "tried" in exported.splitlines()[0]
        assert "Letter" in exported and "Branch visit" in exported and exported.count("No answer") == 3


class TestSupervisorPages:
    def test_counts_on_the_live_queue_and_the_fallback_page(self, supervisor_client):
        phone_task(mobile="", status=TaskStatus.NEEDS_CONTACT)
        page = supervisor_client.get(reverse("dashboard")).content.decode()
        assert "need contact data" in page and "letters to print" in page
        page = supervisor_client.get(reverse("fallback_queues")).content.decode()
        assert "Needs contact data" in page and "Letters to print" in page

    def test_move_by_hand_with_a_reason_is_audited(self, supervisor_client, agent_user):
        task = phone_task()
        url = reverse("task_move", args=[task.pk])
        supervisor_client.post(url, {"to": "visit", "reason": ""})
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        supervisor_client.post(url, {"to": "visit", "reason": "客户在外地务工，请网点上门"})
        task.refresh_from_db()
        assert task.status == TaskStatus.FALLBACK
        assert AuditEvent.objects.filter(
            action="fallback_move", detail__reason="客户在外地务工，请网点上门"
        ).exists()
        supervisor_client.post(url, {"to": "phone", "reason": "客户来电留了新号码"})
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        assert FallbackDelivery.objects.get(attempt__task=task).status == "cancelled"
        agent_client = Client()
        agent_client.force_login(agent_user)
        assert agent_client.post(url, {"to": "letter", "reason": "x"}).status_code == 403
