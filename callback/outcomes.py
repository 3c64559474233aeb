"""What an attempt's outcome does to its task: retry rules, appointments, failures, flags.

`plan_retry` and `may_fail_unreachable` are pure, so bench/queue_sim.py simulates the very rules
that `record_attempt` applies.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.validators import normalize_phone
from verification.vocab import FlagCode, Outcome, PartyRole

from .models import FLAG_DETAIL_LENGTH, CallAttempt, CallbackTask, ContactFlag, Party, RetryRule, TaskStatus
from .models.flags import ACTIVE_FLAG_STATUSES
from .queue import TaskNotHeld, holds_or_may_take
from .schedule import CallingHours, load_holidays

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
    """Input that cannot be recorded (e.g. an appointment outside the window); the message says why."""


@transaction.atomic
def record_attempt(
    *,
    task: CallbackTask,
    agent,
    outcome: str,
    number_dialled: str = "",
    notes: str = "",
    appointment_at: dt.datetime | None = None,
    answers: list[dict] | None = None,
    script_version=None,
    attempt: CallAttempt | None = None,
    now: dt.datetime | None = None,
) -> CallAttempt:
    """Close an attempt with `outcome` (verification.vocab.Outcome) and move the task on.

    `attempt` is an attempt already opened (e.g. by click-to-call or by autosaved answers); else one
    is created. Raises TaskNotHeld when another agent holds the task or it is closed, AttemptError
    for an unusable appointment time or outcome.
    """
    now = now or timezone.now()
    if outcome not in Outcome.values:
        raise AttemptError(_("Unknown outcome."))
    locked = CallbackTask.objects.select_for_update(of=("self",)).select_related("queue").get(pk=task.pk)
    if not holds_or_may_take(locked, agent, now=now):
        raise TaskNotHeld(_("Another agent holds this task, or it is closed."))
    hours = CallingHours.of(locked.queue)
    holidays = load_holidays(around=now.astimezone(ZoneInfo(hours.tz_name)).date())
    if appointment_at is not None and timezone.is_naive(appointment_at):
        appointment_at = timezone.make_aware(appointment_at)
    if outcome == Outcome.CALLBACK_REQUESTED:
        _check_appointment(locked, appointment_at, now, hours, holidays)

    applicant = Party.objects.applicant_of(locked.policy_id)
    attempt = attempt or CallAttempt(task=locked, agent=agent)
    attempt.outcome, attempt.ended_at, attempt.notes = outcome, now, notes
    attempt.number_dialled = number_dialled or attempt.number_dialled
    attempt.appointment_at = appointment_at if outcome == Outcome.CALLBACK_REQUESTED else None
    if answers is not None:
        attempt.answers = answers
    if script_version is not None:
        attempt.script_version = script_version
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
        if retry_at is None:
            _close(locked, TaskStatus.FAILED, now)
            raise_callback_flag(
                task=locked,
                code=FlagCode.CALLBACK_UNREACHABLE,
                field=field,
                detail=_("%(count)s attempts on %(days)s days without reaching the applicant")
                % {"count": len(days), "days": len(set(days))},
                by=agent,
            )
        else:
            locked.next_attempt_at = retry_at
    locked.save()
    task.refresh_from_db()  # the caller sees the task as it now is
    return attempt


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
        raise AttemptError(_("Give the time the customer asked to be called back."))
    if appointment_at <= now:
        raise AttemptError(_("The callback time must be in the future."))
    if task.deadline and appointment_at >= task.deadline:
        raise AttemptError(_("The callback time is after the free-look period ends."))
    if not hours.is_open(appointment_at, holidays):
        raise AttemptError(_("The callback time is outside calling hours."))


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
