"""The statistics roll-up, read: each free-look window's figures, rebuilt by a job
(callback/stats/refresh.py), summed by the pages instead of aggregating a million tasks and three
million calls (a month takes the database a minute; a web request may not).

Which questions the roll-up answers (`covers`): no filter, or on the receipt basis one filter on a
policy dimension; a breakdown without filters. Anything else (a drill-down filtered twice, an agent
filter) is asked of the live tables, which the filter already narrows. Until the first full refresh
has run (a new installation, the demo) every figure is live. The figures are as of the last refresh;
the page says when that was. A period reads month rows for its months and day rows for the days
around them (`_span`).
"""

import datetime as dt
import functools
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Case, F, Q, Sum, Value, When

from ..models.stats import Grain, StatsCallDay, StatsFlagDay, StatsRefresh, StatsTaskDay
from .dimensions import POLICY_DIMENSIONS
from .periods import CALL, Period, next_month
from .refresh import CALL_FIELDS, HISTOGRAM_DIMENSIONS, TASK_FIELDS, refresh, refresh_due

__all__ = [
    "as_of",
    "call_breakdown",
    "call_counts",
    "case_counts",
    "covers",
    "daily",
    "flag_breakdown",
    "latest_refresh",
    "medians",
    "refresh",
    "refresh_due",
    "task_breakdown",
    "task_counts",
]


def latest_refresh() -> StatsRefresh | None:
    """The last finished refresh, if a full one has ever finished (before that nothing is rolled up)."""
    if not StatsRefresh.objects.filter(full=True, finished_at__isnull=False).exists():
        return None
    return StatsRefresh.objects.filter(finished_at__isnull=False).latest()


def as_of(period: Period, filters: Mapping[str, Any] | None) -> dt.datetime | None:
    """When the figures of this question were taken: the start of the last refresh, if the roll-up
    answers it; None when they are live."""
    run = latest_refresh() if _answerable(period, filters) else None
    return run.started_at if run else None


def _single_filter(filters: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """("", "") for no filter, (dimension, value) for one policy-dimension filter, None otherwise."""
    given = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if not given:
        return "", ""
    if len(given) == 1:
        ((name, value),) = given.items()
        if name in POLICY_DIMENSIONS:
            return name, str(value)
    return None


def _answerable(period: Period, filters: Mapping[str, Any] | None, breakdown: str | None = None) -> bool:
    """Whether the roll-up's rows can answer this question at all."""
    selection = _single_filter(filters)
    if selection is None:
        return False
    return selection == ("", "") or (period.basis != CALL and breakdown is None)


def covers(period: Period, filters: Mapping[str, Any] | None, *, breakdown: str | None = None) -> bool:
    """Whether the roll-up answers this question (and has been built)."""
    return _answerable(period, filters, breakdown) and latest_refresh() is not None


def _span(first: dt.date, last: dt.date) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]], list]:
    """How to read [first, last]: whole months (month rows), days to add (day rows) and days to take
    away. A month mostly inside the period is its month row less the days outside it (a year from
    2 December reads December as one row less 1 December, not 30 day rows)."""
    months, days, minus = [], [], []
    month = first.replace(day=1)
    while month <= last:
        end = next_month(month) - dt.timedelta(days=1)
        inside = (max(month, first), min(end, last))
        if inside == (month, end):
            months.append(month)
        elif (inside[1] - inside[0]).days + 1 > ((end - month).days + 1) // 2:
            months.append(month)
            if inside[0] > month:
                minus.append((month, inside[0] - dt.timedelta(days=1)))
            if inside[1] < end:
                minus.append((inside[1] + dt.timedelta(days=1), end))
        else:
            days.append(inside)
        month = next_month(month)
    return months, days, minus


def _period_q(period: Period, *, day_field: str, month_field: str, shift: int, months: bool = True):
    """(the rows to read, those of them to take away) for the period: month rows for its months, day
    rows for the days around them."""
    whole, days, minus = (
        _span(period.first, period.last) if months else ([], [(period.first, period.last)], [])
    )
    one = dt.timedelta(days=shift)

    def day_rows(first: dt.date, last: dt.date) -> Q:
        return Q(grain=Grain.DAY, **{f"{day_field}__gte": first + one, f"{day_field}__lte": last + one})

    parts = [Q(grain=Grain.MONTH, **{f"{month_field}__in": whole})] if whole else []
    parts += [day_rows(first, last) for first, last in days]
    taken = [day_rows(first, last) for first, last in minus]
    read = functools.reduce(operator.or_, parts + taken) if parts else Q(pk__in=[])
    return read, (functools.reduce(operator.or_, taken) if taken else None)


def _signed(rows, read: Q, minus: Q | None):
    """`rows` of the period, each with its `sign` (−1 for the days taken away from a month)."""
    sign = Case(When(minus, then=Value(-1)), default=Value(1)) if minus is not None else Value(1)
    return rows.filter(read).annotate(sign=sign)


def _window_q(period: Period, *, months: bool = True):
    """Task and flag rows: by receipt (window start − 1 day) or by the window's last day."""
    if period.basis == CALL:
        return _period_q(period, day_field="window_end", month_field="end_month", shift=0, months=months)
    return _period_q(period, day_field="window_start", month_field="receipt_month", shift=1, months=months)


def _day_rows(
    model,
    period: Period,
    filters: Mapping[str, Any] | None,
    dimension: str | None = None,
    *,
    months: bool = True,
):
    """The roll-up rows of the period (with their `sign`): one dimension's rows (a breakdown), or the
    rows of the filter."""
    if dimension is None:
        dimension, key = _single_filter(filters)
        rows = model.objects.filter(dimension=dimension, key=key)
    else:
        rows = model.objects.filter(dimension=dimension)
    return _signed(rows, *_window_q(period, months=months))


def _call_rows_of(period: Period, dimension: str):
    """Call rows (with their `sign`): the calls on the period's windows (receipt basis), or made in it."""
    if period.basis == CALL:
        span = _period_q(period, day_field="call_day", month_field="call_month", shift=0)
    else:
        span = _window_q(period)
    return _signed(StatsCallDay.objects.filter(dimension=dimension), *span)


def _sums(names: Iterable[str]) -> dict[str, Sum]:
    return {name: Sum(F(name) * F("sign")) for name in names}


def _calls_row(row: dict[str, Any]) -> dict[str, Any]:
    """The call figures of summed roll-up rows, shaped as the live aggregate returns them."""
    out = {name: row.get(name) or 0 for name in CALL_FIELDS}
    handled = row.get("handled") or 0
    out["handling"] = dt.timedelta(seconds=row["handling_seconds"] / handled) if handled else None
    return out


def task_counts(period: Period, filters: Mapping[str, Any] | None) -> dict[str, int]:
    sums = _day_rows(StatsTaskDay, period, filters).aggregate(**_sums(TASK_FIELDS))
    return {name: value or 0 for name, value in sums.items()}


def case_counts(period: Period, filters: Mapping[str, Any] | None) -> dict[str, int]:
    sums = _day_rows(StatsTaskDay, period, filters).aggregate(**_sums(("contacted", "refused")))
    return {name: value or 0 for name, value in sums.items()}


def call_counts(period: Period, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Receipt basis: the calls on the period's tasks; call basis: the calls made in the period."""
    names = (*CALL_FIELDS, "handled", "handling_seconds")
    if period.basis == CALL:
        rows = _call_rows_of(period, "")
    else:
        rows = _day_rows(StatsTaskDay, period, filters)
    return _calls_row(rows.aggregate(**_sums(names)))


def medians(period: Period, filters: Mapping[str, Any] | None) -> tuple[float | None, float | None] | None:
    """(hours to first call, hours to verification) from the histograms, or None where there are none."""
    dimension, _key = _single_filter(filters)
    if dimension and dimension not in HISTOGRAM_DIMENSIONS:
        return None
    first, verified = Counter(), Counter()
    rows = _day_rows(StatsTaskDay, period, filters)
    for a, b, sign in rows.values_list("first_call_minutes", "verified_minutes", "sign"):
        first.update({int(k): sign * n for k, n in (a or {}).items()})
        verified.update({int(k): sign * n for k, n in (b or {}).items()})
    return _median_hours(first), _median_hours(verified)


def _median_hours(histogram: Counter) -> float | None:
    """The median of the values the histogram counts (the middle one, or the mean of the middle two)."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found, seen = [], 0
    for minutes in sorted(histogram):
        seen += histogram[minutes]
        while wanted and wanted[0] < seen:
            found.append(minutes)
            wanted.pop(0)
    return sum(found) / len(found) / 60


def task_breakdown(period: Period, dimension: str, limit: int | None) -> list[dict[str, Any]]:
    rows = (
        _day_rows(StatsTaskDay, period, None, dimension)
        .values("key", "label")
        .annotate(**_sums(TASK_FIELDS))
        .filter(in_scope__gt=0)  # a value whose days were all taken away from its month
        .order_by("-not_in_time", "-decided", "key", "label")
    )
    return list(rows[:limit] if limit else rows)


def call_breakdown(period: Period, dimension: str, limit: int | None) -> list[dict[str, Any]]:
    rows = _call_rows_of(period, dimension)
    summed = rows.values("key", "label").annotate(**_sums((*CALL_FIELDS, "handled", "handling_seconds")))
    out = [{"key": r["key"], "label": r["label"], **_calls_row(r)} for r in summed if r["calls"]]
    if dimension == "agent":
        for row in out:
            row["key"] = int(row["key"]) if row["key"] else None
    # As the live query orders them: ascending keys, none (self-service) last.
    out.sort(
        key=lambda r: (-r["failed_calls"], -r["calls"], r["key"] is None, r["key"] or type(r["key"] or "")())
    )
    return out[:limit] if limit else out


def flag_breakdown(period: Period, filters: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    dimension, _key = _single_filter(filters)
    if dimension and dimension not in HISTOGRAM_DIMENSIONS:
        return None
    rows = (
        _day_rows(StatsFlagDay, period, filters)
        .values("code")
        .annotate(**_sums(("policies", "not_in_time")))
        .filter(policies__gt=0)
        .order_by("-not_in_time", "-policies", "code")
    )
    return list(rows)


def daily(period: Period, filters: Mapping[str, Any] | None) -> list[tuple[dt.date, dict[str, int]]]:
    """(deciding day, task counts) per free-look window: the receipt day, or the window's last day."""
    column = "window_end" if period.basis == CALL else "window_start"
    rows = (
        _day_rows(StatsTaskDay, period, filters, months=False).values(column).annotate(**_sums(TASK_FIELDS))
    )
    out = []
    for row in rows:
        day = row.pop(column)
        if period.basis != CALL:
            day -= dt.timedelta(days=1)
        out.append((day, {name: value or 0 for name, value in row.items()}))
    return out
