"""Free-look windows, calling hours and callback tasks.

The pure parts (window arithmetic, calling hours, routing) take plain values so that the queue
simulation in bench/ runs exactly the rules the product runs. `sync_tasks` is what intake calls inside
every import's merge (and the sweep when a receipt date arrives): it gives every in-scope policy its
one task, moves windows whose receipt date changed, and is idempotent.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from verification.scripts import age_on

from . import sql
from .models import (
    CallbackTask,
    FreeLookRule,
    Holiday,
    Party,
    Policy,
    Queue,
    RoutingRule,
    TaskKind,
    TaskStatus,
)
from .models.rules import DEFAULT_FREE_LOOK_DAYS

DEFAULT_TZ = "Asia/Shanghai"

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


# ---------------------------------------------------------------------------------------------
# Tasks


def sync_tasks(
    *,
    policy_ids: Iterable[int] | None = None,
    scope: sql.PolicyScope | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Create or update the callback tasks of `policy_ids`, or of the policies of `scope` (intake passes
    its staging table), or of all policies. Returns how many changed.

    One task per in-scope policy (the one-to-one key makes a second impossible, even for two imports
    racing). The back book gets none (通知 二(三)): a policy whose free-look window had already closed
    when it is first synced (imported) has nothing to call back, and a task for it would only expire
    into a false `callback_unreachable`. A policy without `receipt_date` waits in "awaiting receipt";
    a changed receipt date moves the window of a task still open, keeping a retry already scheduled
    inside the new window. Closed tasks, and a campaign's contact verifications, are left alone.

    Set-based, so that an import of a million policies takes seconds: the policies are gathered into a
    temporary table, and the rules are applied in Python only to their distinct inputs — birth dates
    (ages), (channel, branch, product type, age) combinations (routing) and (receipt date, channel,
    product type, queue) combinations (windows) — then one INSERT and one UPDATE join the answers back.
    The rules themselves stay the plain functions above, which the queue simulation also runs.
    """
    now = now or timezone.now()
    if scope is not None and scope.ids is not None:
        policy_ids = scope.ids
    if policy_ids is not None:
        policy_ids = sorted(set(policy_ids))
        if not policy_ids:
            return 0
    with transaction.atomic(), connection.cursor() as cursor:
        if sql.is_postgres():
            cursor.execute("SET LOCAL work_mem = '64MB'")  # the joins of a million policies sort in memory
        try:
            _gather(cursor, policy_ids, scope)
            _fill_ages(cursor, today=timezone.localdate(now))
            _fill_routes(cursor)
            _fill_windows(cursor)
            changed = _write_tasks(cursor, now=now)
            if changed >= ANALYZE_AFTER_TASKS:
                # The claim is planned once per connection (callback/queue.py): not on statistics that
                # still describe the task table before a bulk load.
                sql.analyze(cursor, CallbackTask._meta.db_table)
            return changed
        finally:
            for table in _SYNC_TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")


ANALYZE_AFTER_TASKS = 50_000
_SYNC_TABLES = ("hf_sync_scope", "hf_sync", "hf_sync_age", "hf_sync_route", "hf_sync_window")
_NO_DATE = dt.date(1, 1, 1)  # stands for a missing receipt date in joins (NULL never equals NULL)
_NO_VALUE = -1  # the same for a missing age or queue


def _fill(cursor, table: str, rows: list[tuple]) -> None:
    sql.insert_rows(cursor, table, rows)
    sql.analyze(cursor, table)


def _day(value) -> dt.date | None:
    """A date read back from a temporary table (SQLite hands back text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# The applicant has a number to call (outcomes.numbers_on_file: mobile or landline, as written or
# normalised). Without one the task waits as "needs contact data" instead of open: the claim serves only
# open tasks (its partial index says so), so it never reaches an agent, and the next sync after an import
# brings a number opens it.
_CALLABLE = (
    "(COALESCE(a.mobile, '') <> '' OR COALESCE(a.mobile_e164, '') <> '' "
    "OR COALESCE(a.phone, '') <> '' OR COALESCE(a.phone_e164, '') <> '')"
)


def _gather(cursor, policy_ids: list[int] | None, policies: sql.PolicyScope | None) -> None:
    """hf_sync: one row per in-scope policy whose task is missing or still open, with what decides it."""
    scope = f"AND p.id IN ({policies.select_sql()})" if policies is not None and policy_ids is None else ""
    if policy_ids is not None:
        sql.create_temp_table(cursor, "hf_sync_scope", "policy_id bigint PRIMARY KEY")
        _fill(cursor, "hf_sync_scope", [(pk,) for pk in policy_ids])
        scope = "AND p.id IN (SELECT policy_id FROM hf_sync_scope)"
    sql.create_temp_table(
        cursor,
        "hf_sync",
        "policy_id bigint, receipt_date date, channel varchar(16), branch_code varchar(20), "
        "product_type varchar(20), birth_date date, callable boolean, task_id bigint, status varchar(20), "
        "holder_id bigint, task_queue_id bigint, window_start date, window_end date, "
        "next_attempt_at timestamptz",
    )
    cursor.execute(
        f"""INSERT INTO hf_sync
            SELECT p.id, p.receipt_date, p.channel, p.branch_code, p.product_type, a.birth_date,
                   {_CALLABLE}, t.id, t.status, t.holder_id, t.queue_id, t.window_start, t.window_end,
                   t.next_attempt_at
            FROM {Policy._meta.db_table} p
            LEFT JOIN {Party._meta.db_table} a ON a.policy_id = p.id AND a.role = 'applicant' AND a.seq = 0
            LEFT JOIN {CallbackTask._meta.db_table} t ON t.policy_id = p.id
            WHERE p.in_scope = %s AND (t.id IS NULL OR (t.status IN (%s, %s, %s) AND t.kind = %s)) {scope}""",
        [True, TaskStatus.AWAITING_RECEIPT, TaskStatus.OPEN, TaskStatus.NEEDS_CONTACT, TaskKind.FREE_LOOK],
    )
    sql.analyze(cursor, "hf_sync")


def _fill_ages(cursor, *, today: dt.date) -> None:
    cursor.execute("SELECT DISTINCT birth_date FROM hf_sync WHERE birth_date IS NOT NULL")
    ages = [(born, age_on(_day(born), today)) for (born,) in cursor.fetchall()]
    sql.create_temp_table(cursor, "hf_sync_age", "birth_date date PRIMARY KEY, age integer")
    _fill(cursor, "hf_sync_age", ages)


_WITH_AGE = "hf_sync s LEFT JOIN hf_sync_age g ON g.birth_date = s.birth_date"


def _fill_routes(cursor) -> None:
    routes, default_queue = load_routes()
    cursor.execute(
        "SELECT DISTINCT s.channel, s.branch_code, s.product_type, "
        f"COALESCE(g.age, {_NO_VALUE}) FROM {_WITH_AGE}"
    )
    rows = []
    for channel, branch, product_type, age in cursor.fetchall():
        queue_id = route_queue(
            routes,
            default_queue,
            channel=channel,
            branch_code=branch,
            product_type=product_type,
            age=None if age == _NO_VALUE else age,
        )
        rows.append((channel, branch, product_type, age, queue_id))
    sql.create_temp_table(
        cursor,
        "hf_sync_route",
        "channel varchar(16), branch_code varchar(20), product_type varchar(20), age integer, "
        "queue_id bigint",
    )
    _fill(cursor, "hf_sync_route", rows)


# Each policy with its final queue: the routed one, unless an agent holds the task (it stays where it is).
_ROUTED = f"""{_WITH_AGE}
    JOIN hf_sync_route r ON r.channel = s.channel AND r.branch_code = s.branch_code
     AND r.product_type = s.product_type AND r.age = COALESCE(g.age, {_NO_VALUE})"""
_QUEUE = "CASE WHEN s.holder_id IS NOT NULL THEN s.task_queue_id ELSE r.queue_id END"


def _fill_windows(cursor) -> None:
    rules = FreeLookDays.load()
    tz_of_queue = dict(Queue.objects.values_list("id", "timezone"))
    cursor.execute(
        "SELECT DISTINCT COALESCE(s.receipt_date, %s), s.channel, s.product_type, "
        f"COALESCE({_QUEUE}, {_NO_VALUE}) FROM {_ROUTED}",
        [_NO_DATE],
    )
    ops = connection.ops
    rows = []
    for receipt, channel, product_type, queue_id in cursor.fetchall():
        receipt = _day(receipt)
        state = (TaskStatus.AWAITING_RECEIPT, None, None, None, None)
        if receipt != _NO_DATE:
            tz_name = tz_of_queue.get(queue_id) or DEFAULT_TZ
            start, end = free_look_window(receipt, rules.days_for(channel=channel, product_type=product_type))
            state = (
                TaskStatus.OPEN,
                start,
                end,
                ops.adapt_datetimefield_value(deadline_for(end, tz_name)),
                ops.adapt_datetimefield_value(start_of_day(start, tz_name)),
            )
        rows.append((receipt, channel, product_type, queue_id, *state))
    sql.create_temp_table(
        cursor,
        "hf_sync_window",
        "receipt_date date, channel varchar(16), product_type varchar(20), queue_id bigint, "
        "status varchar(20), window_start date, window_end date, deadline timestamptz, opens timestamptz",
    )
    _fill(cursor, "hf_sync_window", rows)


# Every policy with the task it should have. A retry already scheduled stays, unless the window moved
# past it (then the window's opening) — the same window keeps it exactly.
_WANTED = f"""SELECT s.policy_id, s.task_id,
    CASE WHEN w.status = 'open' AND NOT s.callable
         THEN '{TaskStatus.NEEDS_CONTACT.value}' ELSE w.status END AS status,
    w.window_start, w.window_end, w.deadline,
    NULLIF({_QUEUE}, {_NO_VALUE}) AS queue_id,
    CASE WHEN s.status = 'open' AND s.next_attempt_at IS NOT NULL AND w.status = 'open' THEN
        CASE WHEN s.window_start = w.window_start AND s.window_end = w.window_end THEN s.next_attempt_at
             WHEN s.next_attempt_at > w.opens THEN s.next_attempt_at
             ELSE w.opens END
    ELSE w.opens END AS next_attempt_at
FROM {_ROUTED}
JOIN hf_sync_window w ON w.receipt_date = COALESCE(s.receipt_date, %(no_date)s) AND w.channel = s.channel
 AND w.product_type = s.product_type AND w.queue_id = COALESCE({_QUEUE}, {_NO_VALUE})"""


def _write_tasks(cursor, *, now: dt.datetime) -> int:
    table = CallbackTask._meta.db_table
    params = {"no_date": _NO_DATE, "now": connection.ops.adapt_datetimefield_value(now)}
    # ON CONFLICT: a concurrent sync of the same policy already made its task; the one-to-one key
    # never lets a second in.
    cursor.execute(
        f"""INSERT INTO {table} (policy_id, queue_id, status, window_start, window_end, deadline,
                next_attempt_at, attempts, dead_numbers, outcome, review_note, created_at, updated_at)
            SELECT u.policy_id, u.queue_id, u.status, u.window_start, u.window_end, u.deadline,
                   u.next_attempt_at, 0, '[]', '', '', %(now)s, %(now)s
            FROM ({_WANTED}) u WHERE u.task_id IS NULL AND (u.deadline IS NULL OR u.deadline > %(now)s)
            ON CONFLICT (policy_id) DO NOTHING""",
        params,
    )
    created = cursor.rowcount
    differs = "IS DISTINCT FROM" if sql.is_postgres() else "IS NOT"
    fields = ("queue_id", "status", "window_start", "window_end", "deadline", "next_attempt_at")
    cursor.execute(
        f"""UPDATE {table} SET {", ".join(f"{f} = u.{f}" for f in fields)}, updated_at = %(now)s
            FROM ({_WANTED}) u
            WHERE {table}.id = u.task_id AND {table}.status IN ('awaiting_receipt', 'open', 'needs_contact')
              AND ({" OR ".join(f"{table}.{f} {differs} u.{f}" for f in fields)})""",
        params,
    )
    return created + cursor.rowcount
