"""Every statistic as an aggregate query: the pages, the exports, the API and other packages read these.

No Python loop over tasks or calls: each figure set is one aggregate (conditional counts) over the
period's tasks or calls, grouped by the breakdown's columns. The tasks of a period are found through
indexed dates (`window_start` for the receipt basis, `window_end` for the call basis, the call's
`started_at`), never through a join to the policies unless a breakdown groups by a policy column.

Where the roll-up answers the question (`rollup.covers`: the pages' usual questions, once the refresh
job has run) the same figures are sums of its daily rows; the live aggregates here are their
definition, and the tests hold the two equal.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from ..models import CallAttempt, CallbackTask, ContactFlag, Outlet, TaskKind
from . import definitions as d
from . import rollup
from .dimensions import ATTEMPT_DIMENSIONS, POLICY_DIMENSIONS, TIME_UNITS, agent_label
from .medians import median_hours_to_first_call, median_hours_to_verification
from .periods import CALL, Period, day_start

FILTER_KEYS = (*POLICY_DIMENSIONS, *ATTEMPT_DIMENSIONS, "flag")


def _policy_filters(filters: Mapping[str, Any] | None, prefix: str = "") -> Q:
    """The policy-column filters (branch, salesperson, …) of a drill-down as one Q."""
    q = Q()
    for key, columns in POLICY_DIMENSIONS.items():
        value = (filters or {}).get(key)
        if value not in (None, ""):
            q &= Q(**{prefix + columns[0]: value})
    return q


def tasks(
    period: Period, filters: Mapping[str, Any] | None = None, *, base: QuerySet[CallbackTask] | None = None
) -> QuerySet[CallbackTask]:
    """The period's in-scope policies (their free-look callback tasks; a back-book campaign's contact
    verifications are not callbacks the rule counts), under the breakdown filters.

    Receipt basis: receipt signed in the period, i.e. the free-look window starts the day after
    (callback/schedule.free_look_window). Call basis: the window's last day is in the period.
    """
    filters = filters or {}
    qs = (CallbackTask.objects.all() if base is None else base).filter(kind=TaskKind.FREE_LOOK)
    if period.basis == CALL:
        qs = qs.filter(window_end__gte=period.first, window_end__lte=period.last)
    else:
        one = dt.timedelta(days=1)
        qs = qs.filter(window_start__gte=period.first + one, window_start__lte=period.last + one)
    qs = qs.filter(_policy_filters(filters))
    if filters.get("agent"):
        qs = qs.filter(pk__in=CallAttempt.objects.filter(agent_id=filters["agent"]).values("task_id"))
    if filters.get("call_channel"):
        qs = qs.filter(pk__in=CallAttempt.objects.filter(channel=filters["call_channel"]).values("task_id"))
    if filters.get("flag"):
        qs = qs.filter(policy_id__in=ContactFlag.objects.filter(code=filters["flag"]).values("policy_id"))
    return qs


def attempts(
    period: Period, filters: Mapping[str, Any] | None = None, *, base: QuerySet[CallAttempt] | None = None
) -> QuerySet[CallAttempt]:
    """The period's closed calls: receipt basis, every call on the period's policies; call basis,
    the calls started in the period (Beijing days)."""
    filters = filters or {}
    qs = (CallAttempt.objects.all() if base is None else base).exclude(outcome="")
    qs = qs.filter(task__kind=TaskKind.FREE_LOOK)
    if period.basis == CALL:
        qs = qs.filter(started_at__gte=period.since, started_at__lt=period.until)
    else:
        one = dt.timedelta(days=1)
        qs = qs.filter(task__window_start__gte=period.first + one, task__window_start__lte=period.last + one)
    qs = qs.filter(_policy_filters(filters, prefix="task__"))
    if filters.get("agent"):
        qs = qs.filter(agent_id=filters["agent"])
    if filters.get("call_channel"):
        qs = qs.filter(channel=filters["call_channel"])
    if filters.get("flag"):
        qs = qs.filter(
            task__policy_id__in=ContactFlag.objects.filter(code=filters["flag"]).values("policy_id")
        )
    return qs


def _attempt_counts() -> dict[str, Any]:
    return {
        **d.call_aggregates(),
        "handling": Avg(
            ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField()),
            filter=Q(ended_at__isnull=False),
        ),
    }


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    if "decided" in row:
        row["in_time_rate"] = d.rate(row["in_time"], row["decided"])
        row["failure_rate"] = d.rate(row["not_in_time"], row["decided"])
    if "calls" in row:
        row["contact_share"] = d.rate(row["contacts"], row["calls"])
        row["verified_share"] = d.rate(row["verified_calls"], row["calls"])
        handling = row.get("handling")
        if isinstance(handling, (int, float)):  # SQLite returns microseconds
            handling = dt.timedelta(microseconds=handling)
        row["handling_seconds"] = round(handling.total_seconds()) if handling is not None else None
    return row


@dataclass
class Compliance:
    """The compliance figures of a period (definitions: callback/stats/definitions.py)."""

    period: Period
    counts: dict[str, int]
    calls: dict[str, Any]
    cases: dict[str, int]
    median_hours_to_first_call: float | None
    median_hours_to_verification: float | None

    @property
    def in_time_rate(self) -> float | None:
        return d.rate(self.counts["in_time"], self.counts["decided"])

    @property
    def attempts_per_verification(self) -> float | None:
        return d.rate(self.calls["calls"], self.counts["verified"])

    @property
    def contact_rate(self) -> float | None:
        return d.rate(self.cases["contacted"], self.counts["decided"])

    @property
    def cooperation_rate(self) -> float | None:
        return d.rate(self.cases["verified"], self.cases["contacted"])

    @property
    def refusal_rate(self) -> float | None:
        return d.rate(self.cases["refused"], self.counts["decided"])

    @property
    def response_rate(self) -> float | None:
        return d.rate(self.cases["verified"], self.counts["decided"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.as_params(),
            **self.counts,
            "calls": self.calls["calls"],
            "in_time_rate": self.in_time_rate,
            "attempts_per_verification": self.attempts_per_verification,
            "median_hours_to_first_call": self.median_hours_to_first_call,
            "median_hours_to_verification": self.median_hours_to_verification,
            "contacted_cases": self.cases["contacted"],
            "refused_cases": self.cases["refused"],
            "contact_rate": self.contact_rate,
            "cooperation_rate": self.cooperation_rate,
            "refusal_rate": self.refusal_rate,
            "response_rate": self.response_rate,
        }


def compliance(period: Period, filters: Mapping[str, Any] | None = None) -> Compliance:
    """The headline figures: three aggregates (tasks, calls, cases) and two medians."""
    if rollup.covers(period, filters):
        medians = rollup.medians(period, filters)
        if medians is None:
            cohort = tasks(period, filters)
            medians = median_hours_to_first_call(cohort), median_hours_to_verification(cohort)
        counts = rollup.task_counts(period, filters)
        return Compliance(
            period=period,
            counts=counts,
            calls=_with_rates(rollup.call_counts(period, filters)),
            cases={**rollup.case_counts(period, filters), "verified": counts["verified"]},
            median_hours_to_first_call=medians[0],
            median_hours_to_verification=medians[1],
        )
    cohort = tasks(period, filters)
    counts = cohort.aggregate(**d.task_aggregates())
    calls = attempts(period, filters).aggregate(**_attempt_counts())
    decided_calls = CallAttempt.objects.filter(task__in=cohort.filter(d.DECIDED).values("pk"))
    cases = decided_calls.aggregate(
        contacted=Count("task_id", distinct=True, filter=Q(outcome__in=d.CONTACT_OUTCOMES)),
        refused=Count("task_id", distinct=True, filter=Q(outcome__in=d.REFUSAL_OUTCOMES)),
    )
    cases["verified"] = counts["verified"]
    return Compliance(
        period=period,
        counts=counts,
        calls=_with_rates(calls),
        cases=cases,
        median_hours_to_first_call=median_hours_to_first_call(cohort),
        median_hours_to_verification=median_hours_to_verification(cohort),
    )


def breakdown(
    period: Period, dimension: str, filters: Mapping[str, Any] | None = None, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per value of `dimension`, worst first (most policies not verified in time, or for
    the call-centre dimensions most failed calls), with counts and rates."""
    if dimension not in POLICY_DIMENSIONS and dimension not in ATTEMPT_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if rollup.covers(period, filters, breakdown=dimension):
        if dimension in POLICY_DIMENSIONS:
            rows = rollup.task_breakdown(period, dimension, limit)
        else:
            rows = rollup.call_breakdown(period, dimension, limit)
        return _with_outlet_names(dimension, [_with_rates(row) for row in rows])
    if dimension in POLICY_DIMENSIONS:
        columns = POLICY_DIMENSIONS[dimension]
        rows = (
            tasks(period, filters)
            .order_by()
            .values(*columns)
            .annotate(**d.task_aggregates())
            .order_by("-not_in_time", "-decided", *columns)
        )
    elif dimension in ATTEMPT_DIMENSIONS:
        columns = ATTEMPT_DIMENSIONS[dimension]
        rows = (
            attempts(period, filters)
            .order_by()
            .values(*columns)
            .annotate(**_attempt_counts())
            .order_by("-failed_calls", "-calls", *columns)
        )
    else:
        raise ValueError(f"unknown dimension {dimension!r}")
    if limit:
        rows = rows[:limit]
    return _with_outlet_names(dimension, [_with_rates(_key(dimension, row)) for row in rows])


def _with_outlet_names(dimension: str, result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An outlet's name from the registry (policies carry only its code)."""
    if dimension == "outlet":
        names = dict(
            Outlet.objects.filter(outlet_code__in=[r["key"] for r in result]).values_list(
                "outlet_code", "name"
            )
        )
        for row in result:
            row["label"] = names.get(row["key"], "")
    return result


def _key(dimension: str, row: dict[str, Any]) -> dict[str, Any]:
    """Each row's value as `key` (what a drill-down filters on) and `label` (what a person reads)."""
    if dimension == "agent":
        label = agent_label(
            row.pop("agent__username"), row.pop("agent__first_name"), row.pop("agent__last_name")
        )
        row["key"], row["label"] = row.pop("agent_id"), label
    elif dimension == "call_channel":
        row["key"] = row.pop("channel")
        row["label"] = ""
    else:
        columns = POLICY_DIMENSIONS[dimension]
        row["key"] = row.pop(columns[0]) or ""
        row["label"] = (row.pop(columns[1]) or "") if len(columns) > 1 else ""
    return row


def reasons(
    period: Period, filters: Mapping[str, Any] | None = None, *, counts: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """Why policies were not verified in time: each failed outcome, unreachable, verified late;
    worst first. One aggregate (the compliance counts, or `counts` already computed)."""
    if counts is None:
        if rollup.covers(period, filters):
            counts = rollup.task_counts(period, filters)
        else:
            counts = tasks(period, filters).aggregate(**d.task_aggregates())
    rows = [{"key": f"failed_{kind}", "count": counts[f"failed_{kind}"]} for kind in d.FAILED_OUTCOMES]
    rows += [{"key": "unreachable", "count": counts["unreachable"]}, {"key": "late", "count": counts["late"]}]
    for row in rows:
        row["share"] = d.rate(row["count"], counts["not_in_time"])
        row["of_decided"] = d.rate(row["count"], counts["decided"])
    return sorted(rows, key=lambda r: (-r["count"], r["key"]))


def flag_reasons(period: Period, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Contact-data flags on the period's policies, by code: how many policies carry the code and
    how many of those were not verified in time; worst first."""
    rows = rollup.flag_breakdown(period, filters) if rollup.covers(period, filters) else None
    if rows is not None:
        return [
            {**row, "key": row["code"], "failure_rate": d.rate(row["not_in_time"], row["policies"])}
            for row in rows
        ]
    cohort = tasks(period, filters)
    rows = (
        ContactFlag.objects.filter(policy_id__in=cohort.values("policy_id"))
        .order_by()
        .values("code")
        .annotate(
            policies=Count("policy_id", distinct=True),
            not_in_time=Count(
                "policy_id",
                distinct=True,
                filter=Q(policy_id__in=cohort.filter(d.NOT_IN_TIME).values("policy_id")),
            ),
        )
        .order_by("-not_in_time", "-policies", "code")
    )
    return [
        {**row, "key": row["code"], "failure_rate": d.rate(row["not_in_time"], row["policies"])}
        for row in rows
    ]


def over_time(
    period: Period, unit: str = "day", filters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The figures per day, week (from Monday) or month of the deciding date, oldest first."""
    if rollup.covers(period, filters):
        return _buckets(rollup.daily(period, filters), unit)
    trunc = TIME_UNITS[unit]
    column = "window_end" if period.basis == CALL else "policy__receipt_date"
    rows = (
        tasks(period, filters)
        .order_by()
        .annotate(bucket=trunc(column))
        .values("bucket")
        .annotate(**d.task_aggregates())
        .order_by("bucket")
    )
    result = []
    for row in rows:
        bucket = row.pop("bucket")
        row["key"] = bucket.date() if isinstance(bucket, dt.datetime) else bucket
        result.append(_with_rates(row))
    return result


def bucket_start(day: dt.date, unit: str) -> dt.date:
    """The first day of `day`'s row in the over-time table: the day, its Monday, or the 1st."""
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _buckets(days: list[tuple[dt.date, dict[str, int]]], unit: str) -> list[dict[str, Any]]:
    """Daily roll-up counts summed per day, week or month, oldest first (as `over_time` returns them)."""
    summed: dict[dt.date, dict[str, int]] = {}
    for day, counts in days:
        row = summed.setdefault(bucket_start(day, unit), dict.fromkeys(d.TASK_FIGURES, 0))
        for name in d.TASK_FIGURES:
            row[name] += counts[name]
    return [_with_rates({**summed[key], "key": key}) for key in sorted(summed)]


@dataclass
class AgentFigures:
    """An agent's own calls today and this week (the workspace shows these, to that agent only)."""

    today: dict[str, Any]
    week: dict[str, Any]


def agent_figures(agent, *, today: dt.date | None = None) -> AgentFigures:
    """Calls, verified calls, verification rate and average handling time of `agent` alone."""
    today = today or timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    calls = CallAttempt.objects.filter(
        agent=agent,
        started_at__gte=day_start(monday),
        started_at__lt=day_start(today + dt.timedelta(days=1)),
    ).exclude(outcome="")
    result = {}
    for name, since in (("today", day_start(today)), ("week", day_start(monday))):
        row = calls.filter(started_at__gte=since).aggregate(**_attempt_counts())
        result[name] = _with_rates(row)
    return AgentFigures(**result)
