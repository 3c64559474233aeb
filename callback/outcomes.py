"""What an attempt's outcome does to its task: retry rules, appointments, failures, flags.

`close_attempt` is the one way to close an attempt, for every channel (the workspace, the API,
e-callbacks, letters, visits): it holds the rules of closing (the script's required questions
answered, identity confirmed before "verified", the open attempt) and then moves the task on.
`plan_retry` and `may_fail_unreachable` are pure, so bench/queue_sim.py simulates the very rules
that `close_attempt` applies.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import scripts
from verification.models import Question, ScriptVersion
from verification.validators import normalize_phone
from verification.vocab import FlagCode, Outcome, PartyRole

from .fallback.history import tried_summary
from .models import (
    FLAG_DETAIL_LENGTH,
    CallAttempt,
    CallbackTask,
    Channel,
    ContactFlag,
    FallbackTrigger,
    Party,
    RetryRule,
    TaskStatus,
)
from .models.flags import ACTIVE_FLAG_STATUSES
from .queue import TaskNotHeld, holds_or_may_take
from .schedule import CallingHours, load_holidays
from .script_for_policy import identity_reference, script_context, version_for_policy

# ---------------------------------------------------------------------------------------------
# Retry rules (pure)


@dataclass(frozen=True)
class Retry:
    after: dt.timedelta
    max_per_day: int | None = None
    give_up_after: int | None = None


# A Chinese call centre's usual practice; admins change them in Settings → Retry rules.
DEFAULT_RETRIES: dict[str, Retry] = {
    Outcome.NO_ANSWER: Retry(dt.timedelta(hours=2), max_per_day=3),
    Outcome.BUSY: Retry(dt.timedelta(minutes=30)),
    Outcome.HUNG_UP: Retry(dt.timedelta(hours=2), max_per_day=3),
}
REVIEW_OUTCOMES = frozenset({Outcome.VERIFIED_WITH_ISSUES, Outcome.FAILED_IDENTITY, Outcome.REFUSED})

# Before a task may fail as unreachable: at least this many attempts on at least this many days
# (a company rule), when the window allows.
MIN_ATTEMPTS_BEFORE_UNREACHABLE = 3
MIN_DAYS_BEFORE_UNREACHABLE = 2


def load_retry_rules() -> dict[str, Retry]:
    rules = dict(DEFAULT_RETRIES)
    for row in RetryRule.objects.all():
        rules[row.outcome] = Retry(
            dt.timedelta(minutes=row.retry_after_minutes), row.max_attempts_per_day, row.give_up_after
        )
    return rules


def may_fail_unreachable(attempt_days: list[dt.date]) -> bool:
    return (
        len(attempt_days) >= MIN_ATTEMPTS_BEFORE_UNREACHABLE
        and len(set(attempt_days)) >= MIN_DAYS_BEFORE_UNREACHABLE
    )


def plan_retry(
    *,
    outcome: str,
    now: dt.datetime,
    attempt_days: list[dt.date],
    rules: dict[str, Retry],
    hours: CallingHours,
    holidays: frozenset[dt.date] = frozenset(),
) -> dt.datetime | None:
    """When to call again after `outcome`; None means give up (fail as unreachable).

    `attempt_days` are the local dates of every attempt on the task, this one included.
    """
    rule = rules[outcome]
    if rule.give_up_after and len(attempt_days) >= rule.give_up_after and may_fail_unreachable(attempt_days):
        return None
    tz = ZoneInfo(hours.tz_name)
    today = now.astimezone(tz).date()
    candidate = now + rule.after
    if rule.max_per_day and attempt_days.count(today) >= rule.max_per_day:
        candidate = max(candidate, dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return hours.next_open(candidate, holidays) or candidate


# ---------------------------------------------------------------------------------------------
# Numbers


def numbers_on_file(applicant: Party | None) -> list[tuple[str, str]]:
    """[(field, number)] the applicant can be called on, mobile first."""
    if applicant is None:
        return []
    found = []
    for field, raw, e164 in (
        ("mobile", applicant.mobile, applicant.mobile_e164),
        ("phone", applicant.phone, applicant.phone_e164),
    ):
        if raw or e164:
            found.append((field, e164 or raw))
    return found


def live_numbers(task: CallbackTask, applicant: Party | None) -> list[tuple[str, str]]:
    dead = {normalize_phone(n) for n in task.dead_numbers}
    return [(f, n) for f, n in numbers_on_file(applicant) if normalize_phone(n) not in dead]


def _field_dialled(task: CallbackTask, applicant: Party | None, dialled: str) -> tuple[str, str]:
    live = live_numbers(task, applicant)
    for field, number in numbers_on_file(applicant):
        if dialled and normalize_phone(number) == normalize_phone(dialled):
            return field, number
    if live:
        return live[0]
    return "mobile", dialled


def raise_callback_flag(
    *, task: CallbackTask, code: str, field: str, detail: str, by=None
) -> tuple[ContactFlag, bool]:
    """Raise a flag on the applicant's `field` from a callback: (the flag, whether it is new).

    One live flag per (policy, party, field, code): a live one is kept and a second failure refreshes
    nothing, also when another request raises the same flag at the same moment (the partial unique
    constraint on ContactFlag turns the second insert into an IntegrityError).
    """
    lookup = {"policy_id": task.policy_id, "party": PartyRole.APPLICANT, "field": field, "code": code}
    live = ContactFlag.objects.filter(**lookup, status__in=ACTIVE_FLAG_STATUSES)
    flag = live.first()
    if flag is not None:
        return flag, False
    try:
        with transaction.atomic():
            return ContactFlag.objects.create(
                **lookup, detail=detail[:FLAG_DETAIL_LENGTH], raised_by=by
            ), True
    except IntegrityError:
        return live.get(), False


# ---------------------------------------------------------------------------------------------
# Recording an attempt


class AttemptError(ValueError):
    """Input that cannot be recorded (e.g. an appointment outside the window); the message says why,
    `field` which input it is about (outcome, answers, appointment_at)."""

    def __init__(self, message: str, *, field: str = "outcome"):
        super().__init__(message)
        self.field = field


# Outcomes that say the customer was reached and the policy confirmed: the script must back them.
SCRIPTED_OUTCOMES = frozenset({Outcome.VERIFIED, Outcome.VERIFIED_WITH_ISSUES})


def questions_of(version: ScriptVersion | None) -> list[Question]:
    return list(version.questions.order_by("order")) if version else []


def judge_answer(*, task: CallbackTask, question: Question, answer: Any, caller=None) -> dict:
    """One answer judged against the policy, as stored on the attempt (with the exact text read).

    Raises scripts.ScriptError when `answer` is not an answer to `question` at all.
    """
    if question.kind == "identity" and isinstance(answer, Mapping):
        # Whatever a client sends (numbers, lists) is compared as the text the customer stated.
        answer = {str(k): v if isinstance(v, str) else "" if v is None else str(v) for k, v in answer.items()}
    result = scripts.evaluate(question, answer, identity=identity_reference(task.policy))
    return {
        "key": question.key,
        "text": scripts.render(
            question.text_zh, script_context(policy=task.policy, task=task, caller=caller)
        ),
        "answer": result.value,
        "passed": result.passed,
        "reason": result.reason,
        "at": timezone.now().isoformat(timespec="seconds"),
    }


def merge_answers(questions: list[Question], answers: list[dict], entry: dict) -> list[dict]:
    """`answers` with `entry` replacing any earlier answer to its question, in script order."""
    order = {q.key: i for i, q in enumerate(questions)}
    merged = [a for a in answers if a.get("key") != entry["key"]] + [entry]
    return sorted(merged, key=lambda a: order.get(a.get("key"), 999))


@dataclass
class ConfirmingAnswers:
    """A customer who confirms everything, walked through a script: what they said by question key (as
    the API and `close_attempt` take it) and the judged entries (as stored on the attempt)."""

    stated: dict[str, Any]
    judged: list[dict]


def confirming_answers(
    *,
    task: CallbackTask,
    version: ScriptVersion | None,
    caller=None,
    overrides: Mapping[str, Any] | None = None,
) -> ConfirmingAnswers:
    """Walk `version` for `task`'s policy as a customer who confirms everything would answer it
    (`scripts.confirming_answer`), with `overrides` replacing answers by key: the demo's calls and the
    tests' closings, each branch followed as the script says."""
    overrides = overrides or {}
    questions = questions_of(version)
    by_key = {q.key: q for q in questions}
    identity = identity_reference(task.policy)
    today = timezone.localdate()
    stated: dict[str, Any] = {}
    judged: list[dict] = []
    for _step in range(len(questions)):
        state = scripts.walk(questions, judged)
        if state.complete or state.ended_with:
            break
        question = by_key[state.current_key]
        stated[question.key] = overrides.get(
            question.key, scripts.confirming_answer(question, identity=identity, today=today)
        )
        entry = judge_answer(task=task, question=question, answer=stated[question.key], caller=caller)
        judged = merge_answers(questions, judged, entry)
    return ConfirmingAnswers(stated=stated, judged=judged)


def check_script_allows(
    *, questions: list[Question], answers: list[dict], outcome: str
) -> scripts.ScriptState:
    """The script's verdict on closing as `outcome`; AttemptError says what is missing."""
    state = scripts.walk(questions, answers)
    if outcome in SCRIPTED_OUTCOMES:
        if not questions:
            raise AttemptError(
                _("No published script covers this policy: it cannot be closed as verified."), field="answers"
            )
        identity_passed = any(s.question.kind == "identity" and s.passed for s in state.steps)
        if not identity_passed and not state.ended_with and not state.complete:
            raise AttemptError(
                _("Confirm the customer's identity and answer every question before closing as verified."),
                field="answers",
            )
        if not identity_passed and not state.ended_with:
            raise AttemptError(
                _("The customer's identity was not confirmed: it cannot be closed as verified."),
                field="answers",
            )
    if not state.allows(outcome):
        if state.ended_with:
            raise AttemptError(
                # Name the outcome to use, not the question's internal key.
                _("The script ended: close the call as “%(outcome)s”.")
                % {"outcome": Outcome(state.ended_with).label},
                field="answers",
            )
        if not state.complete:
            raise AttemptError(
                _("Answer every question of the script before closing as verified."), field="answers"
            )
        raise AttemptError(
            _("Some answers failed: close as “verified with issues” so a supervisor reviews it."),
            field="answers",
        )
    return state


def raise_script_flags(*, task: CallbackTask, agent, state: scripts.ScriptState) -> list[ContactFlag]:
    """The contact flags the script's failing answers call for; an existing live flag is kept."""
    raised = []
    for question, entry in state.flags:
        detail = _("Callback on %(date)s: “%(text)s” → %(answer)s") % {
            "date": timezone.localdate().isoformat(),
            "text": entry.get("text", "")[:200],
            "answer": entry.get("answer"),
        }
        flag, created = raise_callback_flag(
            task=task, code=question.fail_flag, field=question.flag_field or "phone", detail=detail, by=agent
        )
        if created:
            raised.append(flag)
    return raised


def open_attempt(*, task: CallbackTask, agent, channel: str = Channel.PHONE) -> CallAttempt | None:
    """The attempt `agent` has open on `task` on `channel` (answers given, no outcome yet)."""
    return (
        CallAttempt.objects.select_for_update()
        .open_for(task=task, agent=agent)
        .filter(channel=channel)
        .order_by("-started_at")
        .first()
    )


@transaction.atomic
def close_attempt(
    *,
    task: CallbackTask,
    agent,
    outcome: str,
    channel: str = Channel.PHONE,
    answers: Mapping[str, Any] | None = None,
    number_dialled: str = "",
    notes: str = "",
    appointment_at: dt.datetime | None = None,
    attempt: CallAttempt | None = None,
    now: dt.datetime | None = None,
) -> CallAttempt:
    """Close an attempt with `outcome` (verification.vocab.Outcome) and move the task on.

    The one service every channel closes through. `answers` ({question key: what the customer
    said}) are judged against the policy and added to those already on the attempt; "verified"
    needs every required question of the script version answered and passed and the identity
    confirmed ("verified with issues": answered, identity confirmed). The attempt is `attempt`, else
    the one `agent` has open on `channel` (e.g. by click-to-call or autosaved answers), else a new
    one on the script covering the policy. `agent` is None for an attempt no staff member made (an
    e-callback the applicant completes alone). Raises TaskNotHeld when another agent holds the
    task or it is closed, AttemptError when the script, an answer, the appointment or the outcome
    does not allow the close.
    """
    now = now or timezone.now()
    if outcome not in Outcome.values:
        raise AttemptError(_("Unknown outcome."))
    locked = (
        CallbackTask.objects.select_for_update(of=("self",)).select_related("queue", "policy").get(pk=task.pk)
    )
    # A letter's or a visit's receipt closes on a task moved to a fallback (callback/fallback/).
    if not holds_or_may_take(locked, agent, now=now, channel=attempt.channel if attempt else channel):
        raise TaskNotHeld(_("Another agent holds this task, or it is closed."))
    hours = CallingHours.of(locked.queue)
    holidays = load_holidays(around=now.astimezone(ZoneInfo(hours.tz_name)).date())
    if appointment_at is not None and timezone.is_naive(appointment_at):
        appointment_at = timezone.make_aware(appointment_at)
    if outcome == Outcome.CALLBACK_REQUESTED:
        _check_appointment(locked, appointment_at, now, hours, holidays)

    if attempt is None:
        attempt = open_attempt(task=locked, agent=agent, channel=channel)
    if attempt is None:
        attempt = CallAttempt(task=locked, agent=agent, channel=channel)
    elif attempt.pk and (attempt.task_id != locked.pk or attempt.outcome or attempt.ended_at):
        raise AttemptError(_("This attempt is already closed."))
    if attempt.script_version_id is None:
        attempt.script_version = version_for_policy(locked.policy)
    questions = questions_of(attempt.script_version)
    given = list(attempt.answers or [])
    by_key = {q.key: q for q in questions}
    for key, value in (answers or {}).items():
        question = by_key.get(key)
        if question is None:
            raise AttemptError(_("This script has no question “%(key)s”.") % {"key": key}, field="answers")
        try:
            entry = judge_answer(task=locked, question=question, answer=value, caller=agent)
        except scripts.ScriptError as exc:
            raise AttemptError(f"{key}: {' '.join(exc.messages)}", field="answers") from exc
        given = merge_answers(questions, given, entry)
    state = check_script_allows(questions=questions, answers=given, outcome=outcome)
    raise_script_flags(task=locked, agent=agent, state=state)
    attempt.answers = given
    return _record(
        locked=locked,
        attempt=attempt,
        agent=agent,
        outcome=outcome,
        number_dialled=number_dialled,
        notes=notes,
        appointment_at=appointment_at,
        hours=hours,
        holidays=holidays,
        now=now,
        task=task,
    )


def _record(
    *, locked, attempt, agent, outcome, number_dialled, notes, appointment_at, hours, holidays, now, task
):
    """Store the closed attempt and move the task on by its outcome (close_attempt checked the rules)."""
    applicant = Party.objects.applicant_of(locked.policy_id)
    attempt.outcome, attempt.ended_at = outcome, now
    attempt.notes = notes or attempt.notes
    attempt.number_dialled = number_dialled or attempt.number_dialled
    attempt.appointment_at = appointment_at if outcome == Outcome.CALLBACK_REQUESTED else None
    attempt.save()

    locked.attempts += 1
    locked.holder, locked.lease_expires_at = None, None
    locked.appointment_at, locked.appointment_agent = None, None
    locked.outcome = outcome
    field, number = _field_dialled(locked, applicant, attempt.number_dialled)

    if outcome == Outcome.VERIFIED:
        _close(locked, TaskStatus.COMPLETED, now)
    elif outcome in REVIEW_OUTCOMES:
        locked.status = TaskStatus.REVIEW  # a supervisor decides (task_list review actions)
    elif outcome == Outcome.CALLBACK_REQUESTED:
        # The customer's own time, kept for the agent who agreed it (callback/queue.py serves it first).
        locked.appointment_at, locked.appointment_agent = appointment_at, agent
        locked.next_attempt_at = appointment_at
        from .telephony.notices import confirm_appointment  # telephony closes attempts through here

        confirm_appointment(task=locked, appointment_at=appointment_at)  # SMS, sent after commit
    elif outcome == Outcome.AGENT_ANSWERED:
        _close(locked, TaskStatus.FAILED, now)
        raise_callback_flag(
            task=locked,
            code=FlagCode.CALLBACK_AGENT_ANSWERED,
            field=field,
            detail=_("Answered by sales staff at %(number)s") % {"number": number},
            by=agent,
        )
    elif outcome == Outcome.WRONG_NUMBER:
        if number and normalize_phone(number) not in {normalize_phone(n) for n in locked.dead_numbers}:
            locked.dead_numbers = [*locked.dead_numbers, number]
        others = live_numbers(locked, applicant)
        if others:
            locked.next_attempt_at = hours.next_open(now, holidays) or now
        else:
            if not _fallback_takes_over(locked, FallbackTrigger.ALL_DEAD, now):
                _close(locked, TaskStatus.FAILED, now)
            raise_callback_flag(
                task=locked,
                code=FlagCode.CALLBACK_WRONG_NUMBER,
                field=field,
                detail=_("Wrong number or out of service: %(number)s") % {"number": number},
                by=agent,
            )
    else:  # no answer, busy, hung up
        days = attempt_days(locked, hours)
        retry_at = plan_retry(
            outcome=outcome,
            now=now,
            attempt_days=days,
            rules=load_retry_rules(),
            hours=hours,
            holidays=holidays,
        )
        if retry_at is None and not _fallback_takes_over(locked, FallbackTrigger.NO_CONTACT, now):
            _close(locked, TaskStatus.FAILED, now)
            raise_callback_flag(
                task=locked,
                code=FlagCode.CALLBACK_UNREACHABLE,
                field=field,
                detail=tried_summary(locked),
                by=agent,
            )
        elif retry_at is None:
            pass  # moved to a letter or a visit: callback_unreachable waits until every way was tried
        else:
            locked.next_attempt_at = retry_at
    locked.save()
    task.refresh_from_db()  # the caller sees the task as it now is
    return attempt


def _fallback_takes_over(task: CallbackTask, trigger: str, now: dt.datetime) -> bool:
    """The phone has given up: an admin's fallback rule may move the task to a letter or a visit."""
    from .fallback import take_over

    return take_over(task=task, triggers=[trigger], now=now) is not None


def attempt_days(task: CallbackTask, hours: CallingHours) -> list[dt.date]:
    tz = ZoneInfo(hours.tz_name)
    return [
        (ended or started).astimezone(tz).date()
        for ended, started in CallAttempt.objects.filter(task=task).values_list("ended_at", "started_at")
    ]


def _close(task: CallbackTask, status: str, now: dt.datetime) -> None:
    task.status, task.closed_at = status, now


def _check_appointment(task, appointment_at, now, hours: CallingHours, holidays) -> None:
    if appointment_at is None:
        raise AttemptError(_("Give the time the customer asked to be called back."), field="appointment_at")
    if appointment_at <= now:
        raise AttemptError(_("The callback time must be in the future."), field="appointment_at")
    if task.deadline and appointment_at >= task.deadline:
        raise AttemptError(_("The callback time is after the free-look period ends."), field="appointment_at")
    if not hours.is_open(appointment_at, holidays):
        raise AttemptError(_("The callback time is outside calling hours."), field="appointment_at")


# ---------------------------------------------------------------------------------------------
# Supervisor review


@transaction.atomic
def review_task(
    *, task: CallbackTask, supervisor, verified: bool, note: str = "", now: dt.datetime | None = None
) -> CallbackTask:
    """A supervisor's decision on a task in review: verified, or failed with a note."""
    now = now or timezone.now()
    locked = CallbackTask.objects.select_for_update().get(pk=task.pk)
    if locked.status != TaskStatus.REVIEW:
        raise AttemptError(_("This task is not waiting for review."))
    if not verified and not note.strip():
        raise AttemptError(_("Say why the verification failed."))
    locked.status = TaskStatus.COMPLETED if verified else TaskStatus.FAILED
    locked.closed_at, locked.reviewed_by, locked.reviewed_at, locked.review_note = (
        now,
        supervisor,
        now,
        note.strip(),
    )
    locked.save()
    return locked
