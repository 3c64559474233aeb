"""Rebuilding the statistics roll-up (callback/stats/rollup.py reads it): the job, its scope and lock,
the per-task facts, and the day and month rows of tasks, calls and flags.

The refresh job (callback/cron.py, every STATS_ROLLUP_MINUTES; `manage.py refresh_stats` where there
is no Redis) rebuilds the free-look windows that started in the last STATS_ROLLUP_RECENT_DAYS (their
figures can still change) with the definitions the live figures use (callback/stats/definitions.py),
then the month rows of the months they fall in; the first run of a Beijing day rebuilds every day.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import CallAttempt, CallbackTask, TaskKind, TaskStatus
from ..models.stats import Grain, StatsCallDay, StatsFlagDay, StatsRefresh, StatsTaskDay, TaskFacts
from ..sql import analyze, is_postgres
from . import definitions as d
from .dimensions import POLICY_DIMENSIONS, agent_label
from .medians import hours_since_receipt
from .periods import day_start

# Dimensions whose rows carry the median histograms and the flag codes (few values: 60 branches, not
# 5,000 salespeople); a filter on another one asks the live tables for those two.
HISTOGRAM_DIMENSIONS = ("branch", "channel", "product")
# The medians' histograms count whole hours (what the page shows): a year of days adds up quickly.
BUCKET_MINUTES = 60
BATCH = 5000
ROLLUP_LOCK = 7_300_813  # pg_advisory_xact_lock key of the refresh


TASK_FIELDS = d.TASK_FIGURES
CALL_FIELDS = ("calls", "contacts", "verified_calls", "failed_calls", "refusals")


def month_of(day: dt.date | None) -> dt.date | None:
    return day.replace(day=1) if day else None


def refresh(*, full: bool = False, today: dt.date | None = None) -> StatsRefresh:
    """Rebuild the rows of the free-look days that can still change (every day when `full`), in one
    transaction: a page reading meanwhile sees the old rows, never half of the new ones."""
    today = today or timezone.localdate()
    first_day = None if full else today - dt.timedelta(days=settings.STATS_ROLLUP_RECENT_DAYS)
    run = StatsRefresh.objects.create(started_at=timezone.now(), first_day=first_day, full=full)
    clock = time.perf_counter()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            _one_snapshot()
        _lock()
        for model in (StatsTaskDay, StatsCallDay, StatsFlagDay):
            model.objects.filter(_rows_scope(first_day)).delete()
        rows = 0
        _fill_facts(first_day)
        for batch in _chunks(_task_rows()):
            rows += len(StatsTaskDay.objects.bulk_create(batch))
        for batch in _chunks(_call_rows(first_day)):
            rows += len(StatsCallDay.objects.bulk_create(batch))
        for batch in _chunks(_flag_rows()):
            rows += len(StatsFlagDay.objects.bulk_create(batch))
        rows += _rebuild_months(first_day)
    run.finished_at = timezone.now()
    run.rows = rows
    run.seconds = time.perf_counter() - clock
    run.save(update_fields=["finished_at", "rows", "seconds"])
    StatsRefresh.objects.filter(started_at__lt=run.started_at - dt.timedelta(days=7)).delete()
    return run


def refresh_due(*, now: dt.datetime | None = None) -> StatsRefresh | None:
    """What the periodic job runs: a full rebuild when none ran today (Beijing day), else the recent days."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    full_today = StatsRefresh.objects.filter(
        full=True, finished_at__isnull=False, started_at__gte=day_start(today)
    )
    return refresh(full=not full_today.exists(), today=today)


def _scope(first_day: dt.date | None, prefix: str = "") -> Q:
    """The tasks (or with prefix "task__", their calls) whose free-look window started on `first_day`
    or later, or has not started (no receipt yet); every task when `first_day` is None."""
    free_look = Q(**{f"{prefix}kind": TaskKind.FREE_LOOK})
    if first_day is None:
        return free_look
    recent = Q(**{f"{prefix}window_start__gte": first_day}) | Q(**{f"{prefix}window_start__isnull": True})
    return free_look & recent


def _receipt_month(window_start: dt.date | None) -> dt.date | None:
    return month_of(window_start - dt.timedelta(days=1)) if window_start else None


def _rebuild_months(first_day: dt.date | None) -> int:
    """The month rows: sums of the day rows of every receipt month from the one the rebuilt days begin
    in (every month when `first_day` is None), so that a year is read from twelve rows a value."""
    since = _receipt_month(first_day) if first_day else None
    made = 0
    for model, other, sums, group_extra in (
        (
            StatsTaskDay,
            "end_month",
            (*TASK_FIELDS, "contacted", "refused", *CALL_FIELDS, "handled", "handling_seconds"),
            (),
        ),
        (StatsFlagDay, "end_month", ("policies", "not_in_time"), ("code",)),
        (StatsCallDay, "call_month", (*CALL_FIELDS, "handled", "handling_seconds"), ()),
    ):
        months = Q(receipt_month__gte=since) | Q(receipt_month__isnull=True) if since else Q()
        model.objects.filter(months, grain=Grain.MONTH).delete()
        group = ("receipt_month", other, "dimension", "key", "label", *group_extra)
        days = model.objects.filter(months, grain=Grain.DAY).exclude(**{f"{other}__isnull": True}).order_by()
        histograms = _month_histograms(days) if model is StatsTaskDay else {}
        batch = []
        for row in days.values(*group).annotate(**{f"total_{name}": Sum(name) for name in sums}):
            values = {name: row[f"total_{name}"] or 0 for name in sums}
            extra = {}
            if model is StatsTaskDay and row["dimension"] in ("", *HISTOGRAM_DIMENSIONS):
                first, verified = histograms.get(tuple(row[c] for c in group), ({}, {}))
                extra = {"first_call_minutes": first, "verified_minutes": verified}
            batch.append(model(grain=Grain.MONTH, **{c: row[c] for c in group}, **values, **extra))
        for chunk in _chunks(batch):
            made += len(model.objects.bulk_create(chunk))
    return made


def _month_histograms(days) -> dict[tuple, tuple[dict, dict]]:
    """The median histograms of the day rows, added up per month row."""
    out: dict[tuple, tuple[Counter, Counter]] = {}
    group = ("receipt_month", "end_month", "dimension", "key", "label")
    rows = days.filter(dimension__in=("", *HISTOGRAM_DIMENSIONS)).values_list(
        *group, "first_call_minutes", "verified_minutes"
    )
    for *key, first, verified in rows:
        into = out.setdefault(tuple(key), (Counter(), Counter()))
        into[0].update(first or {})
        into[1].update(verified or {})
    return {key: (dict(first), dict(verified)) for key, (first, verified) in out.items()}


def _rows_scope(first_day: dt.date | None) -> Q:
    """The roll-up rows a refresh from `first_day` rebuilds."""
    if first_day is None:
        return Q()
    return Q(grain=Grain.DAY) & (Q(window_start__gte=first_day) | Q(window_start__isnull=True))


def _one_snapshot() -> None:
    """Every query of the refresh reads the same moment of the database (PostgreSQL: REPEATABLE READ,
    when the refresh is its own transaction, as in the job; SQLite's one writer sees a stable database
    anyway), so that the task, call and flag rows agree."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _lock() -> None:
    """One refresh at a time (two would each delete the old rows and both insert the new ones)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])


def _chunks(rows: Iterable) -> Iterable[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _window_row(row: Mapping[str, Any], dimension: str, columns: tuple[str, ...]) -> dict[str, Any]:
    """The columns that place a task or flag row: its window, months and dimension value."""
    key, label = _key_of(row, columns)
    return {
        "window_start": row["window_start"],
        "window_end": row["window_end"],
        "receipt_month": _receipt_month(row["window_start"]),
        "end_month": month_of(row["window_end"]),
        "dimension": dimension,
        "key": key,
        "label": label,
    }


def _key_of(row: Mapping[str, Any], columns: tuple[str, ...]) -> tuple[str, str]:
    key = row[columns[0]] if columns else ""
    label = row[columns[1]] if len(columns) > 1 else ""
    return ("" if key is None else str(key))[:64], (label or "")[:200]


def _seconds(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value / 1_000_000  # SQLite sums durations as microseconds


def _call_sums() -> dict[str, Any]:
    """The closed calls' figures (the live ones, with the handling time as a sum the roll-up can add up)."""
    closed = ~Q(outcome="")
    ended = closed & Q(ended_at__isnull=False)
    duration = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    return {
        **d.call_aggregates(closed),
        "handled": Count("pk", filter=ended),
        "handling": Sum(duration, filter=ended),
    }


def _fill_facts(first_day: dt.date | None) -> None:
    """The temporary table `TaskFacts`: each task in scope with the sums of its calls, in one pass."""
    calls = (
        CallAttempt.objects.filter(_scope(first_day, "task__"))
        .order_by()
        .values("task_id")
        .annotate(first_at=Min("started_at"), **_call_sums())
    )
    calls_sql, calls_params = calls.query.sql_with_params()
    tasks_sql, tasks_params = (
        CallbackTask.objects.filter(_scope(first_day)).order_by().values("pk").query.sql_with_params()
    )
    sums = ", ".join(f"COALESCE(a.{name}, 0) AS {name}" for name in (*CALL_FIELDS, "handled"))
    table = TaskFacts._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TEMP TABLE {table} AS SELECT t.id, t.policy_id, t.window_start, t.window_end, t.status, "
            f"t.outcome, t.closed_at, t.deadline, a.first_at, {sums}, a.handling "
            f"FROM callback_callbacktask t LEFT JOIN ({calls_sql}) a ON a.task_id = t.id "
            f"WHERE t.id IN ({tasks_sql})",
            [*calls_params, *tasks_params],
        )
        analyze(cursor, table)


def _task_rows() -> Iterable[StatsTaskDay]:
    """One row per (window, dimension value), "" first: the selectors' task counts, the AAPOR cases
    and the calls on those tasks, and for the small dimensions the median histograms."""
    decided = d.DECIDED
    for dimension, columns in [("", ()), *POLICY_DIMENSIONS.items()]:
        group = ("window_start", "window_end", *columns)
        rows = (
            TaskFacts.objects.order_by()
            .values(*group)
            .annotate(
                **d.task_aggregates(),
                **{f"total_{name}": Sum(name) for name in (*CALL_FIELDS, "handled", "handling")},
                contacted=Count("pk", filter=decided & Q(contacts__gt=0)),
                refused=Count("pk", filter=decided & Q(refusals__gt=0)),
            )
        )
        histograms = _histograms(columns) if dimension in ("", *HISTOGRAM_DIMENSIONS) else None
        for row in rows:
            first, verified = (histograms or {}).get(tuple(row[c] for c in group), ({}, {}))
            yield StatsTaskDay(
                **_window_row(row, dimension, columns),
                **{name: row[name] or 0 for name in (*TASK_FIELDS, "contacted", "refused")},
                **{name: row[f"total_{name}"] or 0 for name in (*CALL_FIELDS, "handled")},
                handling_seconds=_seconds(row["total_handling"]),
                first_call_minutes=first if histograms is not None else None,
                verified_minutes=verified if histograms is not None else None,
            )


def _call_rows(first_day: dt.date | None) -> Iterable[StatsCallDay]:
    """One row per (Beijing call day, window, agent or channel), "" for all calls of the day: one pass
    over the calls at the finest of these, added up here."""
    rows = (
        CallAttempt.objects.filter(_scope(first_day, "task__"))
        .exclude(outcome="")
        .annotate(call_day=TruncDate("started_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values("call_day", "task__window_start", "agent_id", "channel")
        .annotate(**_call_sums())
    )
    labels = _agent_labels()
    summed: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        for dimension, key, label in (
            ("", "", ""),
            (
                "agent",
                "" if row["agent_id"] is None else str(row["agent_id"]),
                labels.get(row["agent_id"], ""),
            ),
            ("call_channel", row["channel"], ""),
        ):
            into = summed.setdefault(
                (row["call_day"], row["task__window_start"], dimension, key),
                {"label": label, "handling_seconds": 0.0, **dict.fromkeys((*CALL_FIELDS, "handled"), 0)},
            )
            for name in (*CALL_FIELDS, "handled"):
                into[name] += row[name]
            into["handling_seconds"] += _seconds(row["handling"])
    for (call_day, window_start, dimension, key), values in summed.items():
        yield StatsCallDay(
            call_day=call_day,
            window_start=window_start,
            receipt_month=_receipt_month(window_start),
            call_month=month_of(call_day),
            dimension=dimension,
            key=key,
            **values,
        )


def _agent_labels() -> dict[int, str]:
    """Every agent's label as the live breakdown shows it."""
    users = get_user_model().objects.values_list("pk", "username", "first_name", "last_name")
    return {pk: agent_label(username, first, last) for pk, username, first, last in users}


def _flag_rows() -> Iterable[StatsFlagDay]:
    """Per (window, small dimension value, flag code): policies carrying the code, and of those how
    many were not verified in time (the live `flag_reasons`, per day)."""
    for dimension in ("", *HISTOGRAM_DIMENSIONS):
        columns = POLICY_DIMENSIONS[dimension] if dimension else ()
        group = ("window_start", "window_end", *columns, "policy__flags__code")
        rows = (
            TaskFacts.objects.filter(policy__flags__isnull=False)
            .order_by()
            .values(*group)
            .annotate(
                policies=Count("policy_id", distinct=True),
                not_in_time=Count("policy_id", distinct=True, filter=d.NOT_IN_TIME),
            )
        )
        for row in rows:
            yield StatsFlagDay(
                **_window_row(row, dimension, columns),
                code=row["policy__flags__code"],
                policies=row["policies"],
                not_in_time=row["not_in_time"],
            )


def _histograms(columns: tuple[str, ...]) -> dict[tuple, tuple[dict, dict]]:
    """{(window_start, window_end, *columns): ({minutes: tasks} to first call, … to verification)}:
    minutes from 00:00 Beijing time of the receipt day (medians.py), floored to BUCKET_MINUTES."""
    out: dict[tuple, tuple[dict, dict]] = {}
    sources = ["t.window_start", "t.window_end", *[f"p.{c.removeprefix('policy__')}" for c in columns]]
    select = ", ".join(f"{column} AS c{i}" for i, column in enumerate(sources))
    names = ", ".join(f"c{i}" for i in range(len(sources)))
    for index, moment, where in (
        (0, "t.first_at", "t.first_at IS NOT NULL"),
        (1, "t.closed_at", f"t.status = '{TaskStatus.COMPLETED}'"),
    ):
        hours, params = hours_since_receipt(moment, "t.window_start")
        inner = (
            f"SELECT {select}, {hours} AS v FROM {TaskFacts._meta.db_table} t "
            f"JOIN callback_policy p ON p.id = t.policy_id WHERE t.window_start IS NOT NULL AND {where}"
        )
        bucket = _floor(f"v * {60 // BUCKET_MINUTES}")
        sql = (
            f"SELECT {names}, {bucket} * {BUCKET_MINUTES} AS b, COUNT(*) FROM ({inner}) x GROUP BY {names}, b"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for *values, minutes, n in cursor.fetchall():
                key = tuple(_as_date(v) if i < 2 else v for i, v in enumerate(values))
                out.setdefault(key, ({}, {}))[index][str(int(minutes))] = n
    return out


def _floor(expression: str) -> str:
    if is_postgres():
        return f"FLOOR({expression})::bigint"
    return f"(CAST({expression} AS INTEGER) - (({expression}) < CAST({expression} AS INTEGER)))"


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
