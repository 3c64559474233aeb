"""Free-look windows, calling hours and callback tasks (queue issue).

The pure parts (window arithmetic, calling hours, routing) take plain values so that the queue
simulation in bench/ runs exactly the rules the product runs. `sync_tasks` is what intake calls after
every import: it gives every in-scope policy its one task, moves windows whose receipt date changed,
and is idempotent.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from .models import CallbackTask, FreeLookRule, Holiday, Party, Policy, Queue, RoutingRule, TaskStatus
from .models.rules import DEFAULT_FREE_LOOK_DAYS

DEFAULT_TZ = "Asia/Shanghai"
BATCH = 2000

# ---------------------------------------------------------------------------------------------
# Free-look window


def free_look_window(receipt_date: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """First and last calendar day of the free-look period.

    The period is counted from the day after the applicant signed the policy receipt (《人身保险
    新型产品信息披露管理办法》 and the 2013 customer-information rule): a receipt signed on 31 Jan with
    15 days gives 1 Feb – 15 Feb, both days included.
    """
    start = receipt_date + dt.timedelta(days=1)
    return start, receipt_date + dt.timedelta(days=days)


def start_of_day(day: dt.date, tz_name: str = DEFAULT_TZ) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(tz_name))


def deadline_for(window_end: dt.date, tz_name: str = DEFAULT_TZ) -> dt.datetime:
    """The instant the window closes: midnight after its last day, in the applicant's local time."""
    return start_of_day(window_end + dt.timedelta(days=1), tz_name)


@dataclass(frozen=True)
class FreeLookDays:
    """The free-look rules as plain values: {(channel, product_type): days}, blank meaning any."""

    by_scope: dict[tuple[str, str], int]

    @classmethod
    def load(cls) -> "FreeLookDays":
        return cls({(r.channel, r.product_type): r.days for r in FreeLookRule.objects.all()})

    def days_for(self, *, channel: str, product_type: str) -> int:
        for key in ((channel, product_type), ("", product_type), (channel, ""), ("", "")):
            if key in self.by_scope:
                return self.by_scope[key]
        return DEFAULT_FREE_LOOK_DAYS


# ---------------------------------------------------------------------------------------------
# Calling hours


@dataclass(frozen=True)
class CallingHours:
    """A queue's calling hours in the applicant's local time. Start included, end excluded."""

    tz_name: str = DEFAULT_TZ
    weekday_start: dt.time = dt.time(9, 0)
    weekday_end: dt.time = dt.time(20, 30)
    weekend_start: dt.time = dt.time(9, 0)
    weekend_end: dt.time = dt.time(17, 0)

    @classmethod
    def of(cls, queue: Queue | None) -> "CallingHours":
        if queue is None:
            return cls()
        return cls(
            queue.timezone or DEFAULT_TZ,
            queue.weekday_start,
            queue.weekday_end,
            queue.weekend_start,
            queue.weekend_end,
        )

    def hours_on(self, day: dt.date, holidays: frozenset[dt.date]) -> tuple[dt.time, dt.time] | None:
        if day in holidays:
            return None
        start, end = (
            (self.weekend_start, self.weekend_end)
            if day.weekday() >= 5
            else (self.weekday_start, self.weekday_end)
        )
        return (start, end) if start < end else None

    def is_open(self, at: dt.datetime, holidays: frozenset[dt.date] = frozenset()) -> bool:
        local = at.astimezone(ZoneInfo(self.tz_name))
        hours = self.hours_on(local.date(), holidays)
        return bool(hours) and hours[0] <= local.time() < hours[1]

    def next_open(self, at: dt.datetime, holidays: frozenset[dt.date] = frozenset()) -> dt.datetime | None:
        """`at` itself when calls are allowed then, else the next opening; None within 60 days."""
        tz = ZoneInfo(self.tz_name)
        local = at.astimezone(tz)
        for offset in range(60):
            day = local.date() + dt.timedelta(days=offset)
            hours = self.hours_on(day, holidays)
            if not hours:
                continue
            opening = dt.datetime.combine(day, hours[0], tzinfo=tz)
            closing = dt.datetime.combine(day, hours[1], tzinfo=tz)
            if offset == 0 and local >= closing:
                continue
            return max(opening, at)
        return None


def load_holidays(*, around: dt.date | None = None) -> frozenset[dt.date]:
    """Holidays from a week before `around` (default today) for two months: enough for any window."""
    around = around or timezone.localdate()
    return frozenset(
        Holiday.objects.filter(
            date__gte=around - dt.timedelta(days=7), date__lte=around + dt.timedelta(days=60)
        ).values_list("date", flat=True)
    )


# ---------------------------------------------------------------------------------------------
# Routing


@dataclass(frozen=True)
class Route:
    queue_id: int
    channel: str = ""
    branch_code: str = ""
    product_type: str = ""
    min_age: int | None = None
    max_age: int | None = None

    def matches(self, *, channel: str, branch_code: str, product_type: str, age: int | None) -> bool:
        if self.channel and self.channel != channel:
            return False
        if self.branch_code and self.branch_code != branch_code:
            return False
        if self.product_type and self.product_type != product_type:
            return False
        if self.min_age is not None and (age is None or age < self.min_age):
            return False
        return not (self.max_age is not None and (age is None or age > self.max_age))


def load_routes() -> tuple[list[Route], int | None]:
    routes = [
        Route(r.queue_id, r.channel, r.branch_code, r.product_type, r.min_age, r.max_age)
        for r in RoutingRule.objects.order_by("order", "id")
    ]
    default = Queue.objects.filter(is_default=True).order_by("id").values_list("id", flat=True).first()
    if default is None:
        default = Queue.objects.order_by("id").values_list("id", flat=True).first()
    return routes, default


def route_queue(
    routes: Sequence[Route],
    default_queue_id: int | None,
    *,
    channel: str,
    branch_code: str,
    product_type: str,
    age: int | None,
) -> int | None:
    for route in routes:
        if route.matches(channel=channel, branch_code=branch_code, product_type=product_type, age=age):
            return route.queue_id
    return default_queue_id


def age_on(birth_date: dt.date | None, day: dt.date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# ---------------------------------------------------------------------------------------------
# Tasks


def sync_tasks(*, policy_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> int:
    """Create or update the callback tasks of `policy_ids` (all policies when None). Returns how many changed.

    One task per in-scope policy (the one-to-one key makes a second impossible, even for two imports
    racing). A policy without `receipt_date` waits in "awaiting receipt"; a changed receipt date moves
    the window of a task still open. Closed tasks are history and are left alone. Works in batches so
    an import of a million policies does not hold a million objects.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = FreeLookDays.load()
    routes, default_queue = load_routes()
    tz_of_queue = dict(Queue.objects.values_list("id", "timezone"))
    policies = Policy.objects.filter(in_scope=True)
    if policy_ids is not None:
        policy_ids = list(policy_ids)
    changed = 0
    if policy_ids is None:
        last = 0
        while True:
            ids = list(policies.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            last = ids[-1]
            changed += _sync_batch(ids, rules, routes, default_queue, tz_of_queue, today, now)
    else:
        for i in range(0, len(policy_ids), BATCH):
            ids = list(policies.filter(pk__in=policy_ids[i : i + BATCH]).values_list("pk", flat=True))
            changed += _sync_batch(ids, rules, routes, default_queue, tz_of_queue, today, now)
    return changed


@transaction.atomic
def _sync_batch(ids, rules, routes, default_queue, tz_of_queue, today, now) -> int:
    if not ids:
        return 0
    rows = Policy.objects.filter(pk__in=ids).values_list(
        "pk", "receipt_date", "channel", "branch_code", "product_type"
    )
    births = dict(
        Party.objects.filter(policy_id__in=ids, role="applicant", seq=0).values_list(
            "policy_id", "birth_date"
        )
    )
    existing = {
        t.policy_id: t
        for t in CallbackTask.objects.filter(policy_id__in=ids).only(
            "policy_id",
            "status",
            "queue_id",
            "holder_id",
            "window_start",
            "window_end",
            "deadline",
            "next_attempt_at",
        )
    }
    to_create = []
    # Tasks needing the same new values are updated together: one UPDATE per distinct state (a
    # re-import of a day's business is a handful of receipt dates times queues), not one per row.
    to_update: dict[tuple, list[int]] = {}
    for pk, receipt, channel, branch, product_type in rows:
        task = existing.get(pk)
        if task is not None and task.status not in (TaskStatus.AWAITING_RECEIPT, TaskStatus.OPEN):
            continue  # completed, in review, failed or expired: history, not re-opened by a re-import
        queue_id = route_queue(
            routes,
            default_queue,
            channel=channel,
            branch_code=branch,
            product_type=product_type,
            age=age_on(births.get(pk), today),
        )
        if task is not None and task.holder_id is not None:
            queue_id = task.queue_id  # an agent is on it: do not pull it out of their queue
        wanted = _wanted_state(
            receipt,
            rules.days_for(channel=channel, product_type=product_type),
            tz_of_queue.get(queue_id) or DEFAULT_TZ,
            task,
        )
        wanted["queue_id"] = queue_id
        if task is None:
            to_create.append({"policy_id": pk, **wanted})
        elif any(getattr(task, f) != v for f, v in wanted.items()):
            to_update.setdefault(tuple(sorted(wanted.items())), []).append(task.pk)
    _insert_tasks(to_create, now=now)
    for values, pks in to_update.items():
        CallbackTask.objects.filter(pk__in=pks).update(**dict(values), updated_at=now)
    return len(to_create) + sum(len(pks) for pks in to_update.values())


# PostgreSQL: one INSERT … SELECT FROM unnest(arrays) per batch, several times faster than bulk_create
# (which prepares every field of every row in Python). ON CONFLICT / ignore_conflicts: a concurrent
# sync of the same policy already made its task; the one-to-one key never lets a second in.
INSERT_TASKS_SQL = """
INSERT INTO callback_callbacktask (policy_id, queue_id, status, window_start, window_end, deadline,
                                   next_attempt_at, attempts, dead_numbers, outcome, review_note, created_at,
                                   updated_at)
SELECT u.p, u.q, u.s, u.ws, u.we, u.d, u.n, 0, '[]'::jsonb, '', '', %(now)s, %(now)s
FROM unnest(%(p)s::bigint[], %(q)s::bigint[], %(s)s::text[], %(ws)s::date[], %(we)s::date[],
            %(d)s::timestamptz[], %(n)s::timestamptz[]) AS u(p, q, s, ws, we, d, n)
ON CONFLICT (policy_id) DO NOTHING
"""


def _insert_tasks(tasks: list[dict], *, now: dt.datetime) -> None:
    """Insert new tasks given as field dicts (model instances cost ~50 µs a row to build)."""
    if not tasks:
        return
    if connection.vendor != "postgresql":
        CallbackTask.objects.bulk_create(
            [CallbackTask(**t) for t in tasks], ignore_conflicts=True, batch_size=500
        )
        return
    columns = {
        "p": [t["policy_id"] for t in tasks],
        "q": [t["queue_id"] for t in tasks],
        "s": [str(t["status"]) for t in tasks],
        "ws": [t["window_start"] for t in tasks],
        "we": [t["window_end"] for t in tasks],
        "d": [t["deadline"] for t in tasks],
        "n": [t["next_attempt_at"] for t in tasks],
    }
    with connection.cursor() as cursor:
        cursor.execute(INSERT_TASKS_SQL, {"now": now, **columns})


def _wanted_state(receipt: dt.date | None, days: int, tz_name: str, task: CallbackTask | None) -> dict:
    if receipt is None:
        return dict(
            status=TaskStatus.AWAITING_RECEIPT,
            window_start=None,
            window_end=None,
            deadline=None,
            next_attempt_at=None,
        )
    start, end = free_look_window(receipt, days)
    opens = start_of_day(start, tz_name)
    next_attempt = opens
    if task is not None and task.status == TaskStatus.OPEN and task.next_attempt_at:
        # A retry already scheduled stays, unless the window moved past it.
        next_attempt = max(task.next_attempt_at, opens)
        if task.window_start == start and task.window_end == end:
            next_attempt = task.next_attempt_at
    return dict(
        status=TaskStatus.OPEN,
        window_start=start,
        window_end=end,
        deadline=deadline_for(end, tz_name),
        next_attempt_at=next_attempt,
    )
