"""The agents' queue: claim the most urgent due task, hold it under a lease.

The queue is a query, not a list: a task is due when it is open, its window has not closed, its next
attempt time has come, its queue is in calling hours and no live lease holds it. The order is the
agent's own due appointments, then due appointments open to anyone, then due tasks by earliest
free-look deadline, fewest attempts, oldest.
"""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from verification.models import ScriptVersion

from . import sql
from .models import CallbackTask, Holiday, Queue, StaffProfile, TaskStatus, Team
from .schedule import CallingHours, load_holidays
from .script_for_policy import version_for_task


def lease_length() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "QUEUE_LEASE_MINUTES", 15))


def appointment_grace() -> dt.timedelta:
    """How long an appointment waits for its own agent before anyone may take it."""
    return dt.timedelta(minutes=getattr(settings, "QUEUE_APPOINTMENT_GRACE_MINUTES", 15))


class TaskNotHeld(Exception):
    """The agent does not hold the task (another agent does, or it is closed)."""


def agent_queues(agent) -> QuerySet[Queue]:
    """The queues an agent works: those served by their team."""
    return Queue.objects.filter(teams__members__user=agent).distinct()


# Queue membership, calling hours and holidays change rarely but are read on every claim: kept per
# process for CONFIG_TTL seconds, and dropped at once when any of them is saved in this process.
CONFIG_TTL = 30.0
_config_cache: dict[tuple, tuple[float, object]] = {}


def _cached(key: tuple, load):
    hit = _config_cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    value = load()
    _config_cache[key] = (time.monotonic() + CONFIG_TTL, value)
    return value


def clear_config_cache(**kwargs) -> None:
    _config_cache.clear()


for _model in (Queue, Team, StaffProfile, Holiday):
    post_save.connect(clear_config_cache, sender=_model, dispatch_uid=f"queue-cache-save-{_model.__name__}")
    post_delete.connect(
        clear_config_cache, sender=_model, dispatch_uid=f"queue-cache-delete-{_model.__name__}"
    )
m2m_changed.connect(clear_config_cache, sender=Queue.teams.through, dispatch_uid="queue-cache-teams")


def open_queue_ids(agent, *, now: dt.datetime) -> list[int]:
    """The agent's queues that are in calling hours at `now` (in each queue's time zone, holidays off)."""
    queues = _cached(("queues", agent.pk), lambda: [(q.id, CallingHours.of(q)) for q in agent_queues(agent)])
    if not queues:
        return []
    day = now.astimezone(ZoneInfo(queues[0][1].tz_name)).date()
    holidays = _cached(("holidays", day), lambda: load_holidays(around=day))
    return [queue_id for queue_id, hours in queues if hours.is_open(now, holidays)]


# The claim, as one statement. Each bucket is "SELECT id … LIMIT 1 FOR UPDATE SKIP LOCKED" and
# COALESCE takes the first bucket that found a row: PostgreSQL evaluates the sub-selects lazily, so a
# bucket is only searched when the ones before it are empty. Buckets, in order:
#   1. due appointments: the agent's own first, then those open to anyone (nobody owns it, its agent
#      let the grace period pass, or has left);
#   2. tasks whose lease lapsed (they were the most urgent when claimed);
#   3. unheld due tasks by earliest deadline, fewest attempts, oldest (the task_due_order index).
# The guard "the agent holds no live task" wraps lease_expires_at in COALESCE so that PostgreSQL looks it
# up by agent (task_holder_lease) instead of range-scanning every lease in task_leases.
# Written in SQL rather than the ORM because it runs on every "Next callback": compiling the
# equivalent queryset cost several times the database work (bench/queue_claim.py).
CLAIM_SQL = """
UPDATE callback_callbacktask SET holder_id = %(agent)s, lease_expires_at = %(until)s, updated_at = %(now)s
WHERE id = COALESCE(
    (SELECT t.id FROM callback_callbacktask t LEFT JOIN auth_user u ON u.id = t.appointment_agent_id
     WHERE {due} AND t.appointment_at <= %(now)s AND (t.holder_id IS NULL OR t.lease_expires_at <= %(now)s)
       AND (t.appointment_agent_id = %(agent)s OR t.appointment_agent_id IS NULL
            OR t.appointment_at <= %(grace_cut)s OR NOT u.is_active)
     ORDER BY CASE WHEN t.appointment_agent_id = %(agent)s THEN 0 ELSE 1 END, t.appointment_at, t.id
     LIMIT 1 {lock}),
    (SELECT t.id FROM callback_callbacktask t
     WHERE {due} AND t.appointment_at IS NULL AND t.holder_id IS NOT NULL AND t.lease_expires_at <= %(now)s
     ORDER BY t.deadline, t.attempts, t.created_at LIMIT 1 {lock}),
    (SELECT t.id FROM callback_callbacktask t
     WHERE {due} AND t.appointment_at IS NULL AND t.holder_id IS NULL
     ORDER BY t.deadline, t.attempts, t.created_at LIMIT 1 {lock})
)
AND status = 'open' AND (holder_id IS NULL OR lease_expires_at <= %(now)s)
AND NOT EXISTS (SELECT 1 FROM callback_callbacktask h
                WHERE h.holder_id = %(agent)s AND COALESCE(h.lease_expires_at, h.lease_expires_at) > %(now)s
                  AND h.status = 'open')
RETURNING {returning}
"""


def due_order_key(*, deadline: dt.datetime, attempts: int, created_at: dt.datetime) -> tuple:
    """Bucket 3's order as a Python key (what bench/queue_sim.py simulates); tests pin it to CLAIM_SQL."""
    return (deadline, attempts, created_at)


DUE_SQL = (
    "t.status = 'open' AND t.queue_id IN ({queues}) AND t.deadline > %(now)s AND t.next_attempt_at <= %(now)s"
)


_TASK_FIELDS = CallbackTask._meta.concrete_fields
_RETURNING = ", ".join(f.column for f in _TASK_FIELDS)
_converters: list | None = None


def _task_from_row(row: tuple) -> CallbackTask:
    """The RETURNING row as a model, with the field conversions a queryset would apply."""
    global _converters
    if _converters is None:
        cols = [f.get_col(CallbackTask._meta.db_table) for f in _TASK_FIELDS]
        _converters = [
            (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)) for col in cols
        ]
    values = []
    for value, (col, funcs) in zip(row, _converters, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        values.append(value)
    return CallbackTask.from_db(connection.alias, [f.attname for f in _TASK_FIELDS], values)


def _execute_claim(statement: str, params: dict) -> CallbackTask | None:
    """Run the claim statement. On PostgreSQL it is a prepared statement (server-side binding): it is
    planned once per connection instead of on every claim, which was most of its database time
    (bench/queue_claim.py). `QUEUE_PREPARED_CLAIM=0` turns that off behind a pooler that cannot
    carry prepared statements (PgBouncer before 1.21 in transaction mode)."""
    if sql.is_postgres() and settings.QUEUE_PREPARED_CLAIM:
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(statement, params, prepare=True)
            row = cursor.fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
    return None if row is None else _task_from_row(row)


def claim_next_task(*, agent, now: dt.datetime | None = None) -> CallbackTask | None:
    """The next task for `agent`, leased to them; None when nothing is due. An agent holds one task at
    a time: while their lease is live they get the same task back.

    Why it cannot double-claim: on PostgreSQL two claimers never lock the same row (FOR UPDATE SKIP
    LOCKED); a row that another claim updated and committed meanwhile is re-checked by PostgreSQL
    against the WHERE clause before it is locked, and drops out because it has a live holder; and the
    UPDATE repeats that condition (holder empty or lease lapsed) on the row it changes. On SQLite the
    statement takes the database write lock (config/settings.py opens transactions IMMEDIATE):
    claims are serialised, and one UPDATE statement is atomic. Being one statement, the claim needs no
    transaction of its own (it joins the caller's if there is one).
    """
    now = now or timezone.now()
    queue_ids = open_queue_ids(agent, now=now)
    if queue_ids:
        ops = connection.ops
        params = {
            "agent": agent.pk,
            "now": ops.adapt_datetimefield_value(now),
            "until": ops.adapt_datetimefield_value(now + lease_length()),
            "grace_cut": ops.adapt_datetimefield_value(now - appointment_grace()),
            **{f"q{i}": queue_id for i, queue_id in enumerate(queue_ids)},
        }
        due = DUE_SQL.format(queues=", ".join(f"%(q{i})s" for i in range(len(queue_ids))))
        lock = "FOR UPDATE OF t SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        claimed = _execute_claim(CLAIM_SQL.format(due=due, lock=lock, returning=_RETURNING), params)
        if claimed is not None:
            return claimed
    # Nothing new: what the agent already holds, with its lease renewed, if anything.
    task = (
        CallbackTask.objects.filter(holder=agent, lease_expires_at__gt=now, status=TaskStatus.OPEN)
        .order_by("-lease_expires_at")
        .first()
    )
    if task is not None:
        renew_lease(task=task, agent=agent, now=now)
    return task


def holds_or_may_take(task: CallbackTask, agent, *, now: dt.datetime) -> bool:
    """The agent may act on the open task: they hold it, or nobody holds it under a live lease."""
    if task.status != TaskStatus.OPEN:
        return False
    return task.holder_id in (None, getattr(agent, "pk", None)) or (
        task.lease_expires_at is not None and task.lease_expires_at <= now
    )


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


# A task no published script covers waits this long before it is offered again, so the agents' queue
# moves on while the admins (who see it on the scripts page) publish a script for it.
UNSCRIPTED_RETRY = dt.timedelta(hours=1)
MAX_UNSCRIPTED_SKIPS = 5


def claim_scripted_task(*, agent) -> tuple[CallbackTask | None, ScriptVersion | None, str]:
    """Claim the next callback that a published script covers, with that script's version.

    A policy no published script covers cannot be worked: its task goes back to the queue for
    UNSCRIPTED_RETRY and the admins see it (`script_for_policy.tasks_without_script`). Returns the task, its
    version and the number of the last policy set aside (for the agent's message).
    """
    skipped = ""
    for _attempt in range(MAX_UNSCRIPTED_SKIPS):
        task = claim_next_task(agent=agent)
        if task is None:
            return None, None, skipped
        version = version_for_task(task)
        if version is not None:
            return task, version, skipped
        CallbackTask.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now() + UNSCRIPTED_RETRY)
        release_task(task=task, agent=agent)
        skipped = task.policy.policy_no
    return None, None, skipped
