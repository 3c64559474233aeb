"""What an attempt's outcome does to its task: retry rules, appointments, failures, flags (queue issue).

STUB with the final signature; the queue issue replaces the body with the configurable retry rules.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from verification.vocab import Outcome

from .models import CallAttempt, CallbackTask, TaskStatus


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
) -> CallAttempt:
    """Close an attempt with `outcome` (verification.vocab.Outcome) and move the task on.

    `attempt` is an attempt already opened (e.g. by click-to-call or by autosaved answers); else one
    is created.
    """
    now = timezone.now()
    attempt = attempt or CallAttempt(task=task, agent=agent)
    attempt.outcome, attempt.ended_at, attempt.notes = outcome, now, notes
    attempt.number_dialled = number_dialled or attempt.number_dialled
    attempt.appointment_at = appointment_at
    if answers is not None:
        attempt.answers = answers
    if script_version is not None:
        attempt.script_version = script_version
    attempt.save()
    task.attempts += 1
    task.holder, task.lease_expires_at = None, None
    if outcome == Outcome.VERIFIED:
        task.status, task.outcome, task.closed_at = TaskStatus.COMPLETED, outcome, now
    else:
        task.next_attempt_at = now + dt.timedelta(hours=2)
    task.save()
    return attempt
