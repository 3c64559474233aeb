"""Every disposition and its retry rule, as the agent and the supervisor see the task afterwards."""

import datetime as dt

import pytest

from callback.models import CallAttempt, Channel, ContactFlag, RetryRule, TaskStatus
from callback.outcomes import (
    DEFAULT_RETRIES,
    AttemptError,
    close_attempt,
    live_numbers,
    plan_retry,
    review_task,
)
from callback.queue import TaskNotHeld, claim_next_task
from callback.schedule import CallingHours
from verification.vocab import Outcome

from .factories.queue import NOW, agent_in, at, open_task, queue, supervisor  # noqa: F401
from .factories.scripts import passing_answers

pytestmark = pytest.mark.django_db


def _record(task, agent, outcome, now=NOW, **kwargs):
    close_attempt(task=task, agent=agent, outcome=outcome, now=now, **kwargs)
    task.refresh_from_db()
    return task


def test_verified_completes(q, agent):
    task = open_task(q)
    claim_next_task(agent=agent, now=NOW)
    task = _record(task, agent, Outcome.VERIFIED, number_dialled="13800138000", answers=passing_answers(task))
    assert (task.status, task.outcome, task.holder, task.attempts) == (
        TaskStatus.COMPLETED,
        "verified",
        None,
        1,
    )
    assert CallAttempt.objects.get().number_dialled == "13800138000"


@pytest.mark.parametrize("outcome", [Outcome.VERIFIED_WITH_ISSUES, Outcome.FAILED_IDENTITY, Outcome.REFUSED])
def test_review_outcomes_go_to_supervisor(q, agent, outcome):
    task = open_task(q)
    answers = (
        passing_answers(task, {"premium_understood": "no", "premium_understood_explained": "no"})
        if outcome == Outcome.VERIFIED_WITH_ISSUES
        else {}
    )
    task = _record(task, agent, outcome, answers=answers)
    assert task.status == TaskStatus.REVIEW
    boss = supervisor()
    with pytest.raises(AttemptError):
        review_task(task=task, supervisor=boss, verified=False, note="  ")
    review_task(task=task, supervisor=boss, verified=False, note="客户否认投保")
    task.refresh_from_db()
    assert (task.status, task.review_note, task.reviewed_by) == (TaskStatus.FAILED, "客户否认投保", boss)


def test_review_mark_verified(q, agent):
    task = _record(open_task(q), agent, Outcome.REFUSED)
    review_task(task=task, supervisor=supervisor(), verified=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_no_answer_retries_after_two_hours(q, agent):
    task = _record(open_task(q), agent, Outcome.NO_ANSWER)
    assert task.status == TaskStatus.OPEN
    assert task.next_attempt_at == NOW + dt.timedelta(hours=2)


def test_no_answer_at_most_three_a_day_then_next_morning(q, agent):
    task = open_task(q)
    for hour in (9, 12, 15):
        task = _record(task, agent, Outcome.NO_ANSWER, now=at(2026, 3, 4, hour))
    assert task.next_attempt_at == at(2026, 3, 5, 9)


def test_no_answer_late_evening_moves_to_next_opening(q, agent):
    task = _record(open_task(q), agent, Outcome.NO_ANSWER, now=at(2026, 3, 6, 19, 0))  # Friday
    assert task.next_attempt_at == at(2026, 3, 7, 9)  # Saturday opening, not 21:00


def test_busy_retries_after_thirty_minutes_without_daily_cap(q, agent):
    task = open_task(q)
    for minute in (0, 30, 60, 90):
        task = _record(task, agent, Outcome.BUSY, now=at(2026, 3, 4, 10) + dt.timedelta(minutes=minute))
    assert task.next_attempt_at == at(2026, 3, 4, 12, 0)


def test_hung_up_treated_like_no_answer_and_configurable(q, agent):
    task = _record(open_task(q), agent, Outcome.HUNG_UP)
    assert task.next_attempt_at == NOW + dt.timedelta(hours=2)
    RetryRule.objects.filter(outcome="hung_up").update(retry_after_minutes=10)
    task = _record(task, agent, Outcome.HUNG_UP, now=NOW + dt.timedelta(hours=2))
    assert task.next_attempt_at == NOW + dt.timedelta(hours=2, minutes=10)


def test_give_up_only_after_three_attempts_on_two_days(q, agent):
    RetryRule.objects.filter(outcome="no_answer").update(give_up_after=3)
    task = open_task(q)
    for hour in (9, 12, 15):
        task = _record(task, agent, Outcome.NO_ANSWER, now=at(2026, 3, 4, hour))
    assert task.status == TaskStatus.OPEN  # three attempts, but all on one day
    task = _record(task, agent, Outcome.NO_ANSWER, now=at(2026, 3, 5, 9))
    assert task.status == TaskStatus.FAILED
    assert (
        ContactFlag.objects.filter(policy=task.policy, code="callback_unreachable", status="open").count()
        == 1
    )


def test_plan_retry_is_pure():
    hours = CallingHours()
    assert plan_retry(
        outcome="busy",
        now=at(2026, 3, 4, 20, 10),
        attempt_days=[dt.date(2026, 3, 4)],
        rules=DEFAULT_RETRIES,
        hours=hours,
    ) == at(2026, 3, 5, 9)


def test_wrong_number_tries_other_number_then_fails_with_flag(q, agent):
    task = open_task(q, mobile="13800138000", phone="010-62345678")
    task = _record(task, agent, Outcome.WRONG_NUMBER, number_dialled="13800138000")
    assert task.status == TaskStatus.OPEN and task.dead_numbers == ["+8613800138000"]
    assert task.next_attempt_at == NOW
    task = _record(task, agent, Outcome.WRONG_NUMBER, number_dialled="010-62345678")
    assert task.status == TaskStatus.FAILED
    flag = ContactFlag.objects.get(policy=task.policy, code="callback_wrong_number")
    assert (flag.party, flag.field) == ("applicant", "phone")


def test_wrong_number_on_the_landline_keeps_the_mobile_live(q, agent):
    # The landline is stored as intake stores it (+861062345678) and dialled as written on the file:
    # the wrong number is the landline, so the next attempt goes to the mobile.
    task = open_task(q, mobile="13800138000", phone="010-62345678")
    task = _record(task, agent, Outcome.WRONG_NUMBER, number_dialled="010-62345678")
    assert task.status == TaskStatus.OPEN and task.dead_numbers == ["+861062345678"]
    assert live_numbers(task, task.policy.parties.get()) == [("mobile", "+8613800138000")]
    task = _record(task, agent, Outcome.WRONG_NUMBER, number_dialled="138 0013 8000")
    assert task.status == TaskStatus.FAILED
    assert ContactFlag.objects.get(policy=task.policy, code="callback_wrong_number").field == "mobile"


def test_wrong_number_with_single_number_fails_at_once(q, agent):
    task = _record(open_task(q), agent, Outcome.WRONG_NUMBER, number_dialled="+86 138 0013 8000")
    assert task.status == TaskStatus.FAILED
    assert ContactFlag.objects.get(code="callback_wrong_number").field == "mobile"


def test_agent_answered_fails_with_flag_once(q, agent):
    task = _record(open_task(q), agent, Outcome.AGENT_ANSWERED)
    assert task.status == TaskStatus.FAILED
    assert ContactFlag.objects.filter(code="callback_agent_answered", status="open").count() == 1


def test_callback_requested_is_an_appointment_for_that_agent(q, agent):
    when = at(2026, 3, 5, 19, 0)  # Thursday 19:00
    task = _record(open_task(q), agent, Outcome.CALLBACK_REQUESTED, appointment_at=when)
    assert (task.appointment_at, task.appointment_agent, task.next_attempt_at) == (when, agent, when)
    assert claim_next_task(agent=agent, now=when) == task


@pytest.mark.parametrize(
    "when",
    [None, NOW - dt.timedelta(minutes=1), at(2026, 3, 5, 22, 0), at(2026, 3, 20, 10, 0)],
    ids=["missing", "past", "outside-hours", "after-window"],
)
def test_unusable_appointment_is_refused_with_a_reason(q, agent, when):
    task = open_task(q)
    with pytest.raises(AttemptError):
        close_attempt(
            task=task, agent=agent, outcome=Outcome.CALLBACK_REQUESTED, appointment_at=when, now=NOW
        )
    assert not CallAttempt.objects.exists()


def test_cannot_record_on_a_task_another_agent_holds(q, agent):
    task = open_task(q)
    other = agent_in(q, "wang")
    claim_next_task(agent=other, now=NOW)
    with pytest.raises(TaskNotHeld):
        close_attempt(task=task, agent=agent, outcome=Outcome.NO_ANSWER, now=NOW)


def test_every_channel_closes_through_the_script_rules(q):
    """An e-callback (no agent) closes through the same rules as the workspace and the API."""
    task = open_task(q)
    with pytest.raises(AttemptError, match="identity"):
        close_attempt(task=task, agent=None, outcome=Outcome.VERIFIED, channel=Channel.ECALLBACK, now=NOW)
    assert not CallAttempt.objects.exists()
    close_attempt(
        task=task,
        agent=None,
        outcome=Outcome.VERIFIED,
        channel=Channel.ECALLBACK,
        answers=passing_answers(task),
        now=NOW,
    )
    task.refresh_from_db()
    attempt = CallAttempt.objects.get()
    assert (task.status, attempt.channel, attempt.agent, attempt.outcome) == (
        TaskStatus.COMPLETED,
        Channel.ECALLBACK,
        None,
        Outcome.VERIFIED,
    )
    assert attempt.script_version is not None and attempt.answers
