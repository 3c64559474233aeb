"""The statistics as tables: the same rows for the page, the CSV/XLSX exports and the API.

Each table is a list of dicts from the selectors plus the drill-down link of each number.
"""

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from verification.vocab import Channel, FlagCode, Outcome

from ..models import Channel as CallChannel
from . import charts
from . import selectors as s
from .cache import cached
from .forms import drill_query
from .periods import Period, next_month

REASON_LABELS = {
    **{
        f"failed_{k}": Outcome(k).label
        for k in ("failed_identity", "refused", "agent_answered", "wrong_number")
    },
    "unreachable": None,  # filled lazily: gettext at call time
    "late": None,
}


def reason_label(key: str) -> str:
    if key == "unreachable":
        return _("Unreachable when the window closed")
    if key == "late":
        return _("Verified after the free-look period")
    return str(REASON_LABELS.get(key) or key)


def _link(view: str, period: Period, filters: dict, **extra) -> str:
    return f"{reverse(view)}?{drill_query(period, filters, **extra)}"


def value_label(dimension: str, row: dict) -> str:
    """What a person reads for a breakdown row: code and name, or the choice's label."""
    key, label = row.get("key"), row.get("label") or ""
    if dimension == "channel":
        return str(dict(Channel.choices).get(key, key or "—"))
    if dimension == "call_channel":
        return str(dict(CallChannel.choices).get(key, key or "—"))
    if dimension == "agent":
        return label or _("(no agent: self-service)")
    if not key:
        return _("(not recorded)")
    return f"{key} {label}".strip()


def compliance_table(period: Period, filters: dict) -> tuple[s.Compliance, Any]:
    return cached("compliance", s.compliance, period, filters)


def breakdown_table(period: Period, dimension: str, filters: dict, *, limit: int | None = 50) -> list[dict]:
    rows, _at = cached("breakdown", s.breakdown, period, dimension, filters, limit=limit)
    out = []
    for row in rows:
        row = dict(row)
        row["name"] = value_label(dimension, row)
        key = row["key"] if row["key"] is not None else ""
        if dimension in s.POLICY_DIMENSIONS:
            narrowed = {**filters, dimension: key}
            row["href"] = _link("task_list", period, narrowed)
            row["href_not_in_time"] = _link("task_list", period, narrowed, result="not_in_time")
            row["href_in_time"] = _link("task_list", period, narrowed, result="in_time")
        else:
            narrowed = {**filters, dimension: key}
            row["href"] = _link("attempt_list", period, narrowed)
            row["href_failed"] = _link("attempt_list", period, narrowed, calls="failed_calls")
            row["href_verified"] = _link("attempt_list", period, narrowed, calls="verified_calls")
        out.append(row)
    return out


def reason_table(period: Period, filters: dict, counts: dict) -> list[dict]:
    rows = s.reasons(period, filters, counts=counts)
    for row in rows:
        row["name"] = reason_label(row["key"])
        row["href"] = _link("task_list", period, filters, result=row["key"])
    return rows


def flag_table(period: Period, filters: dict) -> list[dict]:
    rows, _at = cached("flag_reasons", s.flag_reasons, period, filters)
    labels = dict(FlagCode.choices)
    return [
        {
            **row,
            "name": str(labels.get(row["code"], row["code"])),
            "href": _link("task_list", period, {**filters, "flag": row["code"]}),
            "href_not_in_time": _link(
                "task_list", period, {**filters, "flag": row["code"]}, result="not_in_time"
            ),
        }
        for row in rows
    ]


def bucket_period(period: Period, start: dt.date, unit: str) -> Period:
    """The days of one row of the over-time table, clipped to the period."""
    if unit == "day":
        end = start
    elif unit == "week":
        end = start + dt.timedelta(days=6)
    else:
        end = next_month(start) - dt.timedelta(days=1)
    return Period(max(start, period.first), min(end, period.last), period.basis)


def time_table(period: Period, unit: str, filters: dict) -> list[dict]:
    rows, _at = cached("over_time", s.over_time, period, unit, filters)
    out = []
    for row in rows:
        row = dict(row)
        row["name"] = row["key"].isoformat() if row["key"] else "—"
        if row["key"]:
            row["href"] = _link("task_list", bucket_period(period, row["key"], unit), filters)
            row["href_in_time"] = _link(
                "task_list", bucket_period(period, row["key"], unit), filters, result="in_time"
            )
        out.append(row)
    return out


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def failure_chart(rows: list[dict], *, title: str, slug: str, count_key: str = "not_in_time") -> Any:
    bars = [
        charts.Bar(
            label=row["name"],
            value=row[count_key],
            text=str(row[count_key]),
            href=row.get("href_not_in_time") or row.get("href_failed") or row.get("href", ""),
        )
        for row in rows[:10]
        if row.get(count_key)
    ]
    return charts.bar_chart(bars, title=title, slug=slug)


def trend_chart(rows: list[dict], *, title: str) -> Any:
    points = [
        charts.Bar(
            label=row["name"][5:] if len(row["name"]) == 10 else row["name"],
            value=row["in_time_rate"] or 0,
            text=pct(row["in_time_rate"]),
            href=row.get("href_in_time", ""),
        )  # fmt: skip
        for row in rows
    ]
    return charts.rate_chart(points, title=title, slug="trend")


# --- exports: the same tables as rows of text ------------------------------------------------------

TASK_COLUMNS = [
    "in_scope", "decided", "in_time", "in_time_rate", "late", "failed", "unreachable", "review", "pending",
    "not_in_time", "failure_rate",
]  # fmt: skip
CALL_COLUMNS = [
    "calls", "contacts", "verified_calls", "failed_calls", "refusals", "contact_share", "verified_share",
    "handling_seconds",
]  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def export_table(
    table: str, period: Period, filters: dict, unit: str = "day"
) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of one statistics table, for CSV/XLSX. Raises ValueError for an unknown table."""
    if table == "compliance":
        figures, _at = compliance_table(period, filters)
        data = figures.as_dict()
        data.pop("period")
        return ["figure", "value"], [[k, _text(v)] for k, v in data.items()]
    if table == "reason":
        figures, _at = compliance_table(period, filters)
        rows = reason_table(period, filters, figures.counts)
        return ["reason", "label", "count", "share_of_not_in_time", "share_of_decided"], [
            [r["key"], r["name"], _text(r["count"]), _text(r["share"]), _text(r["of_decided"])] for r in rows
        ]
    if table == "flags":
        rows = flag_table(period, filters)
        return ["code", "label", "policies", "not_in_time", "failure_rate"], [
            [r["code"], r["name"], _text(r["policies"]), _text(r["not_in_time"]), _text(r["failure_rate"])]
            for r in rows
        ]
    if table == "time":
        rows = time_table(period, unit, filters)
        return ["period_start", *TASK_COLUMNS], [
            [r["name"], *(_text(r.get(c)) for c in TASK_COLUMNS)] for r in rows
        ]
    if table in s.POLICY_DIMENSIONS:
        rows = breakdown_table(period, table, filters, limit=None)
        return ["key", "name", *TASK_COLUMNS], [
            [_text(r["key"]), r["name"], *(_text(r.get(c)) for c in TASK_COLUMNS)] for r in rows
        ]
    if table in s.ATTEMPT_DIMENSIONS:
        rows = breakdown_table(period, table, filters, limit=None)
        return ["key", "name", *CALL_COLUMNS], [
            [_text(r["key"]), r["name"], *(_text(r.get(c)) for c in CALL_COLUMNS)] for r in rows
        ]
    raise ValueError(table)
