"""The agents' queue: claim the most urgent due task, hold it under a lease (queue issue).

The queue is a query, not a list: a task is due when it is open, its window has not closed, its next
attempt time has come, its queue is in calling hours and no live lease holds it. The order is the
agent's own due appointments, then due appointments open to anyone, then due tasks by earliest
free-look deadline, fewest attempts, oldest.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import CallbackTask, Queue, TaskStatus
from .schedule import CallingHours, load_holidays


def lease_length() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "QUEUE_LEASE_MINUTES", 15))


def appointment_grace() -> dt.timedelta:
    """How long an appointment waits for its own agent before anyone may take it."""
    return dt.timedelta(minutes=getattr(settings, "QUEUE_APPOINTMENT_GRACE_MINUTES", 15))


# Kept for callers of the stub.
LEASE = dt.timedelta(minutes=15)


class TaskNotHeld(Exception):
    """The agent does not hold the task (another agent does, or it is closed)."""


def agent_queues(agent) -> QuerySet[Queue]:
    """The queues an agent works: those served by their team."""
    return Queue.objects.filter(teams__members__user=agent).distinct()


def open_queue_ids(agent, *, now: dt.datetime) -> list[int]:
    """The agent's queues that are in calling hours at `now` (in each queue's time zone, holidays off)."""
    queues = list(agent_queues(agent))
    if not queues:
        return []
    holidays = load_holidays(around=now.astimezone(ZoneInfo(queues[0].timezone or "Asia/Shanghai")).date())
    return [q.id for q in queues if CallingHours.of(q).is_open(now, holidays)]


def _lock_first(qs: QuerySet[CallbackTask]) -> CallbackTask | None:
    # skip_locked: a row another claimer has locked is passed over, not waited for; of=self keeps
    # the lock off the joined user row (PostgreSQL refuses FOR UPDATE on an outer join's null side).
    return qs.select_for_update(skip_locked=True, of=("self",)).first()


def _due_key(task: CallbackTask) -> tuple:
    return (task.deadline, task.attempts, task.created_at)


@transaction.atomic
def claim_next_task(*, agent, now: dt.datetime | None = None) -> CallbackTask | None:
    """The next task for `agent`, leased to them; None when nothing is due.

    Why it cannot double-claim: on PostgreSQL each candidate row is locked with SELECT … FOR UPDATE
    SKIP LOCKED inside this transaction, so two claimers never lock the same row; a row locked by a
    claim that has since committed is re-checked by PostgreSQL against the WHERE clause, and the
    final conditional UPDATE (holder empty or lease lapsed) must change exactly one row. On SQLite
    the transaction is IMMEDIATE (config/settings.py): it takes the database write lock at BEGIN, so
    claims run one after another and the second sees the first one's holder.
    """
    now = now or timezone.now()
    held = (
        CallbackTask.objects.select_for_update()
        .filter(holder=agent, lease_expires_at__gt=now, status=TaskStatus.OPEN)
        .order_by("lease_expires_at")
        .first()
    )
    if held is not None:  # one task at a time: the agent gets back what they already hold
        _lease(held, agent, now)
        return held
    queue_ids = open_queue_ids(agent, now=now)
    if not queue_ids:
        return None
    due = CallbackTask.objects.filter(
        status=TaskStatus.OPEN, queue_id__in=queue_ids, deadline__gt=now, next_attempt_at__lte=now
    )
    free = Q(holder__isnull=True) | Q(lease_expires_at__lte=now)
    for candidate in _candidates(due, free, agent, now):
        if candidate is not None and _lease(candidate, agent, now):
            return candidate
    return None


def _candidates(due: QuerySet[CallbackTask], free: Q, agent, now: dt.datetime):
    appointments = due.filter(free, appointment_at__lte=now)
    yield _lock_first(appointments.filter(appointment_agent=agent).order_by("appointment_at", "id"))
    # Open to anyone: nobody owns it, or its agent let the grace period pass, or has left.
    yield _lock_first(
        appointments.filter(
            Q(appointment_agent__isnull=True)
            | Q(appointment_at__lte=now - appointment_grace())
            | Q(appointment_agent__is_active=False)
        ).order_by("appointment_at", "id")
    )
    # Unheld tasks come from a partial index in due order; tasks whose lease lapsed (the sweep clears
    # them within a minute) are a second, small query. The better of the two is served.
    order = ("deadline", "attempts", "created_at")
    plain = due.filter(appointment_at__isnull=True)
    unheld = _lock_first(plain.filter(holder__isnull=True).order_by(*order))
    lapsed = _lock_first(plain.filter(holder__isnull=False, lease_expires_at__lte=now).order_by(*order))
    yield from sorted((t for t in (unheld, lapsed) if t is not None), key=_due_key)


def _lease(task: CallbackTask, agent, now: dt.datetime) -> bool:
    until = now + lease_length()
    mine_or_free = Q(holder__isnull=True) | Q(lease_expires_at__lte=now) | Q(holder=agent)
    updated = CallbackTask.objects.filter(mine_or_free, pk=task.pk, status=TaskStatus.OPEN).update(
        holder=agent, lease_expires_at=until, updated_at=now
    )
    if updated != 1:
        return False
    task.holder, task.lease_expires_at = agent, until
    return True


def holds_or_may_take(task: CallbackTask, agent, *, now: dt.datetime) -> bool:
    """The agent may act on the open task: they hold it, or nobody holds it under a live lease."""
    if task.status != TaskStatus.OPEN:
        return False
    return task.holder_id in (None, agent.pk) or (task.lease_expires_at is not None and task.lease_expires_at <= now)


def renew_lease(*, task: CallbackTask, agent, now: dt.datetime | None = None) -> bool:
    """Extend the lease while the agent works; False when the agent no longer holds the task."""
    now = now or timezone.now()
    until = now + lease_length()
    renewed = CallbackTask.objects.filter(pk=task.pk, holder=agent, status=TaskStatus.OPEN).update(
        lease_expires_at=until, updated_at=now
    )
    if renewed:
        task.lease_expires_at = until
    return bool(renewed)


def release_task(*, task: CallbackTask, agent, now: dt.datetime | None = None) -> bool:
    """Give the task back to the queue untouched."""
    now = now or timezone.now()
    released = CallbackTask.objects.filter(pk=task.pk, holder=agent).update(
        holder=None, lease_expires_at=None, updated_at=now
    )
    if released:
        task.holder, task.lease_expires_at = None, None
    return bool(released)
