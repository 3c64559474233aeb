"""Medians in the database: PostgreSQL's percentile_cont, and on SQLite the middle row(s) in order.

Times are measured from the start (00:00 Beijing time) of the day the receipt was signed, which is
the day before the free-look window starts (callback/schedule.free_look_window).
"""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from ..models import CallAttempt, CallbackTask, TaskStatus
from ..sql import is_postgres


def _offset_days() -> float:
    """Beijing time's offset from UTC in days (fixed: China has no daylight saving time)."""
    offset = dt.datetime.now(timezone.get_default_timezone()).utcoffset() or dt.timedelta()
    return offset.total_seconds() / 86400


def _median(values_sql: str, params: list) -> float | None:
    """Median of the single column `v` of `values_sql` (rows with NULL excluded)."""
    if is_postgres():
        sql = (
            f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM ({values_sql}) m WHERE v IS NOT NULL"
        )
        args = params
    else:
        inner = f"SELECT v FROM ({values_sql}) m WHERE v IS NOT NULL"
        sql = (
            f"SELECT AVG(v) FROM (SELECT v FROM ({inner}) o ORDER BY v "
            f"LIMIT 2 - (SELECT COUNT(*) FROM ({inner}) c) %% 2 "
            f"OFFSET ((SELECT COUNT(*) FROM ({inner}) c) - 1) / 2) x"
        )
        args = params * 3
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else None


def hours_since_receipt(moment: str, window_start: str) -> tuple[str, list]:
    """SQL for the hours between `moment` (timestamp column) and 00:00 Beijing time of the receipt day."""
    if is_postgres():
        return (
            f"EXTRACT(EPOCH FROM ({moment} - (({window_start} - 1)::timestamp AT TIME ZONE %s))) / 3600.0",
            [settings.TIME_ZONE],
        )
    return (f"(julianday({moment}) - (julianday({window_start}) - 1 - %s)) * 24.0", [_offset_days()])


def median_hours_to_first_call(cohort: QuerySet[CallbackTask]) -> float | None:
    ids_sql, ids_params = cohort.order_by().values("pk").query.sql_with_params()
    task = CallbackTask._meta.db_table
    attempt = CallAttempt._meta.db_table
    hours, hour_params = hours_since_receipt("a.first_at", "t.window_start")
    values = (
        f"SELECT {hours} AS v FROM {task} t JOIN (SELECT task_id, MIN(started_at) AS first_at FROM {attempt} "
        f"WHERE task_id IN ({ids_sql}) GROUP BY task_id) a ON a.task_id = t.id"
    )
    return _median(values, [*hour_params, *ids_params])


def median_hours_to_verification(cohort: QuerySet[CallbackTask]) -> float | None:
    ids_sql, ids_params = (
        cohort.filter(status=TaskStatus.COMPLETED).order_by().values("pk").query.sql_with_params()
    )
    task = CallbackTask._meta.db_table
    hours, hour_params = hours_since_receipt("t.closed_at", "t.window_start")
    values = f"SELECT {hours} AS v FROM {task} t WHERE t.id IN ({ids_sql})"
    return _median(values, [*hour_params, *ids_params])
