"""What supervisors read about the queue: the live dashboard and the filterable task list (selectors)."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Subquery
from django.utils import timezone

from .models import CallbackTask, Party, Queue, TaskStatus
from .privacy import mask_phone
from .schedule import CallingHours, load_holidays

CLOSE_TO_DEADLINE = dt.timedelta(days=2)
OVERDUE_AFTER = dt.timedelta(hours=24)


def mask_name(name: str) -> str:
    """`陈*` / `欧阳**`: the family name (first character) and the length, not the given name."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


@dataclass
class QueueRow:
    queue: Queue
    calling_now: bool
    open: int = 0
    due_now: int = 0
    held: int = 0
    appointments: int = 0
    closing_soon: int = 0
    review: int = 0
    expired: int = 0


@dataclass
class Dashboard:
    now: dt.datetime
    due_now: int
    held: list[CallbackTask]
    appointments: list[CallbackTask]
    due_today: int
    overdue: int
    closing_soon: int
    awaiting_receipt: int
    review: int
    failed_recent: int
    expired_recent: int
    closing_list: list[CallbackTask]
    queues: list[QueueRow] = field(default_factory=list)
    needs_contact: int = 0  # no callable number: waiting for contact data (callback/fallback/)
    # The counts behind the `held` and `appointments` lists, which show at most 50 tasks each.
    held_now: int = 0
    appointments_soon: int = 0


def _due(now: dt.datetime) -> Q:
    return Q(status=TaskStatus.OPEN, next_attempt_at__lte=now, deadline__gt=now) & (
        Q(holder__isnull=True) | Q(lease_expires_at__lte=now)
    )


# The live queue's figures are shared by every supervisor (in Redis when configured): the page
# refreshes itself every 30 s for each of them, and one pass over a million tasks costs more than a
# page (bench/RESULTS.md, page benchmark). A job recomputes them every DASHBOARD_REFRESH_SECONDS
# (callback/cron.py), so that no supervisor waits for the pass; without the job (no Redis) the first
# request after DASHBOARD_CACHE_SECONDS computes them. "As of" on the page says when they were read.
DASHBOARD_CACHE_KEY = "supervision:dashboard"
DASHBOARD_REFRESH_SECONDS = 15
DASHBOARD_CACHE_SECONDS = 30

# Totals of the dashboard that are not a column of the per-queue table.
_TOTALS = (
    "needs_contact",
    "due_now",
    "due_today",
    "overdue",
    "closing_soon",
    "awaiting_receipt",
    "review",
    "failed_recent",
    "expired_recent",
)
_PER_QUEUE = {
    "open": "open",
    "due_now": "due_now",
    "held": "held",
    "appointments": "appointments",
    "closing_soon": "closing_soon",
    "review": "review",
    "expired": "expired_recent",
}


def live_dashboard() -> Dashboard:
    """The dashboard as the live-queue page shows it: computed at most once per
    DASHBOARD_CACHE_SECONDS for all supervisors."""
    return cache.get_or_set(DASHBOARD_CACHE_KEY, dashboard, DASHBOARD_CACHE_SECONDS)


def refresh_live_dashboard() -> None:
    """The job: the figures computed now, for every supervisor's next request."""
    cache.set(DASHBOARD_CACHE_KEY, dashboard(), DASHBOARD_CACHE_SECONDS)


def dashboard(*, now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    tasks = CallbackTask.objects.all()
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    week_ago = now - dt.timedelta(days=7)
    open_ = Q(status=TaskStatus.OPEN)
    held_q = Q(holder__isnull=False, lease_expires_at__gt=now)
    closing_q = open_ & Q(deadline__gt=now, deadline__lte=now + CLOSE_TO_DEADLINE)
    # Every figure, per queue, in one pass over the tasks that can count: live ones, the held and
    # those closed this week (verified tasks of past months, the bulk of the table, are never read).
    appointments_soon_q = Q(
        appointment_at__isnull=False, appointment_at__lte=end_of_today + dt.timedelta(days=1)
    )
    counted = Q(
        status__in=[TaskStatus.OPEN, TaskStatus.AWAITING_RECEIPT, TaskStatus.REVIEW, TaskStatus.NEEDS_CONTACT]
    )
    counted |= Q(holder__isnull=False) | Q(closed_at__gte=week_ago)
    per_queue = {
        row["queue_id"]: row
        for row in tasks.filter(counted)
        .order_by()
        .values("queue_id")
        .annotate(
            open=Count("pk", filter=open_),
            due_now=Count("pk", filter=_due(now)),
            due_today=Count("pk", filter=open_ & Q(next_attempt_at__lte=end_of_today, deadline__gt=now)),
            overdue=Count("pk", filter=_due(now) & Q(next_attempt_at__lte=now - OVERDUE_AFTER)),
            held=Count("pk", filter=held_q),
            appointments=Count("pk", filter=open_ & Q(appointment_at__isnull=False)),
            appointments_soon=Count("pk", filter=open_ & appointments_soon_q),
            closing_soon=Count("pk", filter=closing_q),
            awaiting_receipt=Count("pk", filter=Q(status=TaskStatus.AWAITING_RECEIPT)),
            needs_contact=Count("pk", filter=Q(status=TaskStatus.NEEDS_CONTACT)),
            review=Count("pk", filter=Q(status=TaskStatus.REVIEW)),
            failed_recent=Count("pk", filter=Q(status=TaskStatus.FAILED, closed_at__gte=week_ago)),
            expired_recent=Count("pk", filter=Q(status=TaskStatus.EXPIRED, closed_at__gte=week_ago)),
        )
    }
    totals = {key: sum(row[key] for row in per_queue.values()) for key in _TOTALS}
    totals["held_now"] = sum(row["held"] for row in per_queue.values())
    totals["appointments_soon"] = sum(row["appointments_soon"] for row in per_queue.values())
    related = ("policy", "queue", "holder", "appointment_agent")
    held = list(tasks.filter(held_q).select_related(*related).order_by("lease_expires_at")[:50])
    appointments = list(
        tasks.filter(open_ & appointments_soon_q).select_related(*related).order_by("appointment_at")[:50]
    )
    closing_list = list(
        tasks.filter(closing_q).select_related(*related).order_by("deadline", "attempts")[:20]
    )
    holidays = load_holidays(around=timezone.localdate(now))
    rows = []
    for queue in Queue.objects.order_by("name"):
        counts = per_queue.get(queue.pk, {})
        rows.append(
            QueueRow(
                queue,
                CallingHours.of(queue).is_open(now, holidays),
                **{field: counts.get(key, 0) for field, key in _PER_QUEUE.items()},
            )
        )
    return Dashboard(
        now=now, held=held, appointments=appointments, closing_list=closing_list, queues=rows, **totals
    )


def _when(when: str, now: dt.datetime) -> Q | None:
    """The dashboard's counts as task-list filters, so that each number opens the tasks it counts."""
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    return {
        "due": _due(now),
        "today": Q(status=TaskStatus.OPEN, next_attempt_at__lte=end_of_today, deadline__gt=now),
        "overdue": _due(now) & Q(next_attempt_at__lte=now - OVERDUE_AFTER),
        "closing": Q(status=TaskStatus.OPEN, deadline__gt=now, deadline__lte=now + CLOSE_TO_DEADLINE),
        "held": Q(holder__isnull=False, lease_expires_at__gt=now),
        "appointments": Q(status=TaskStatus.OPEN, appointment_at__isnull=False),
    }.get(when)


def task_list(
    *,
    status: str = "",
    queue: str = "",
    branch: str = "",
    policy_no: str = "",
    when: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[CallbackTask]:
    tasks = CallbackTask.objects.select_related("policy", "queue", "holder", "appointment_agent").order_by(
        "deadline", "pk"
    )
    when_q = _when(when, now or timezone.now()) if when else None
    if when_q is not None:
        tasks = tasks.filter(when_q)
    if status:
        tasks = tasks.filter(status=status)
    if queue:
        # By id, not through a join on the code: PostgreSQL then walks the queue's tasks in the
        # list's order (task_list_queue_order) instead of sorting them.
        tasks = tasks.filter(queue_id=Subquery(Queue.objects.filter(code=queue).values("pk")[:1]))
    if branch:
        tasks = tasks.filter(policy__branch_code=branch)
    if policy_no:
        tasks = tasks.filter(policy__policy_no__icontains=policy_no.strip())
    return tasks


def with_masked_applicants(tasks: Iterable[CallbackTask]) -> None:
    """Give each task of a page `applicant_name` and `applicant_phone`, masked, in one query."""
    tasks = list(tasks)
    applicants = {
        p.policy_id: p for p in Party.objects.applicants().filter(policy_id__in=[t.policy_id for t in tasks])
    }
    for task in tasks:
        party = applicants.get(task.policy_id)
        task.applicant_name = mask_name(party.name) if party else ""
        task.applicant_phone = mask_phone(party.mobile or party.phone) if party else ""
