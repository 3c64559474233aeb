"""统计 Statistics: compliance figures, failure breakdowns with charts, drill-down and exports
(supervisors and admins; agents see their own figures on the workspace)."""

import io
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import exports
from ..audit import record_audit
from ..roles import ADMIN, SUPERVISOR, role_required
from ..stats import report, rollup
from ..stats.forms import (
    DIMENSION_LABELS,
    UNIT_LABELS,
    StatsFilterForm,
    drill_filters,
    drill_query,
    period_of,
)
from ..stats.periods import BASES


def _filters(request) -> tuple[StatsFilterForm, dict]:
    form = StatsFilterForm(request.GET or None)
    return form, form.valid() if request.GET else {}


@role_required(SUPERVISOR, ADMIN)
@require_GET
def stats_page(request):
    form, data = _filters(request)
    period = period_of(data)
    filters = drill_filters(data)
    by = data.get("by") or "reason"
    unit = data.get("unit") or "day"
    figures, computed_at = report.compliance_table(period, filters)
    context = {
        "form": form,
        "period": period,
        "basis_label": dict(BASES)[period.basis],
        "filters": filters,
        "by": by,
        "unit": unit,
        "dimensions": [(key, label, key == by) for key, label in DIMENSION_LABELS.items()],
        "units": [(key, label, key == unit) for key, label in UNIT_LABELS.items()],
        "figures": figures,
        "counts": figures.counts,
        "computed_at": computed_at,
        "rollup_at": rollup.as_of(period, filters),
        "rollup_minutes": settings.STATS_ROLLUP_MINUTES,
        "links": _figure_links(period, filters),
        "query": drill_query(period, filters, by=by, unit=unit),
        "export_query": drill_query(period, filters, unit=unit),
        "clear_query": drill_query(period, {}, by=by, unit=unit),
    }
    if by == "reason":
        context["reasons"] = report.reason_table(period, filters, figures.counts)
        context["flag_rows"] = report.flag_table(period, filters)
        context["chart"] = report.failure_chart(
            context["reasons"],
            title=_("Policies not verified in time, by reason"),
            slug="reasons",
            count_key="count",
        )
    elif by == "time":
        context["rows"] = report.time_table(period, unit, filters)
        context["chart"] = report.trend_chart(context["rows"], title=_("Verified-in-time rate over time"))
    else:
        context["rows"] = report.breakdown_table(period, by, filters)
        context["attempt_rows"] = by in ("agent", "call_channel")
        key = "failed_calls" if context["attempt_rows"] else "not_in_time"
        context["chart"] = report.failure_chart(
            context["rows"],
            title=_("Worst 10 by %(dimension)s") % {"dimension": DIMENSION_LABELS[by]},
            slug=by,
            count_key=key,
        )
    return render(request, "callback/stats.html", context)


def _figure_links(period, filters) -> dict[str, str]:
    links = {
        result: report._link("task_list", period, filters, result=result)
        for result in (
            "in_time",
            "late",
            "with_issues",
            "decided",
            "failed",
            "unreachable",
            "review",
            "pending",
            "verified",
            "not_in_time",
            "failed_failed_identity",
            "failed_refused",
            "failed_agent_answered",
            "failed_wrong_number",
        )  # fmt: skip
    }
    links["in_scope"] = report._link("task_list", period, filters)
    links["calls"] = report._link("attempt_list", period, filters)
    for calls in ("contacts", "verified_calls", "failed_calls", "refusals"):
        links[calls] = report._link("attempt_list", period, filters, calls=calls)
    return links


def table_response(
    *, request, columns: list[str], rows: Iterable[list[str]], name: str, fmt: str, audit: dict
):
    """A table as CSV (UTF-8 with BOM, streamed) or XLSX through the shared export helpers; audited
    (who, when, which filter, how many rows when known before streaming)."""
    count = len(rows) if isinstance(rows, list) else None
    detail = {**audit, "format": fmt, **({"rows": count} if count is not None else {})}
    record_audit(user=request.user, action=detail.pop("action"), detail=detail, request=request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{name}-{stamp}.{fmt}"
    if fmt == "xlsx":
        buffer = io.BytesIO()
        exports.write_xlsx(rows=rows, stream=buffer, columns=columns, title=name[:31])
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            exports.csv_chunks(rows, columns), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(SUPERVISOR, ADMIN)
@require_GET
def stats_export(request):
    form, data = _filters(request)
    period = period_of(data)
    filters = drill_filters(data)
    table = request.GET.get("table", "compliance")
    try:
        columns, rows = report.export_table(table, period, filters, data.get("unit") or "day")
    except ValueError:
        return HttpResponse(_("Unknown table."), status=400, content_type="text/plain; charset=utf-8")
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    audit = {
        "action": "export_stats",
        "table": table,
        "filter": {**period.as_params(), **{k: str(v) for k, v in filters.items()}},
    }
    return table_response(
        request=request, columns=columns, rows=rows, name=f"stats-{table}", fmt=fmt, audit=audit
    )


urlpatterns = [
    path("stats/", stats_page, name="stats"),
    path("stats/export/", stats_export, name="stats_export"),
]
