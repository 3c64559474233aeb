"""Recent call attempts with their outcome and the exact script text read (supervisors, admins)."""

from django.shortcuts import render
from django.urls import path

from verification.vocab import Outcome

from .. import exports
from ..audit import record_audit
from ..ecallback.stats import recent_figures
from ..models import CallAttempt, Channel
from ..paging import LongListPaginator
from ..roles import ADMIN, SUPERVISOR, role_required
from ..stats.drilldown import drill_of, drilled_attempts
from .stats import table_response


def _attempts(request):
    """The calls of the list: every closed call, or those behind a statistics figure (drill-down)."""
    attempts = (
        CallAttempt.objects.exclude(outcome="")
        .select_related("task__policy", "agent", "script_version__script", "ecallback")
        .prefetch_related("recordings")
        .order_by("-ended_at", "-pk")
    )
    outcome = request.GET.get("outcome", "")
    if outcome in Outcome.values:
        attempts = attempts.filter(outcome=outcome)
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        attempts = attempts.filter(channel=channel)
    drill = drill_of(request.GET)
    if drill:
        attempts = drilled_attempts(drill, attempts)
    return attempts, outcome, channel, drill


@role_required(SUPERVISOR, ADMIN)
def attempt_list(request):
    attempts, outcome, channel, drill = _attempts(request)
    page = LongListPaginator(attempts, 50).get_page(request.GET.get("page"))
    record_audit(
        user=request.user,
        action="view_attempts",
        detail={
            "outcome": outcome,
            "channel": channel,
            "page": page.number,
            **({"stats": drill.audit()} if drill else {}),
        },
        request=request,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "callback/attempt_list.html",
        {
            "page": page,
            "outcome": outcome,
            "outcomes": Outcome.choices,
            "drill": drill,
            "query": query.urlencode(),
            "channel": channel,
            "channels": Channel.choices,
            # The last 30 days of e-callbacks: offered, completed, share of verified callbacks.
            "ecallbacks": recent_figures(),
        },
    )


@role_required(SUPERVISOR, ADMIN)
def attempt_export(request):
    """The calls list under its filter (a statistics drill-down) as CSV or XLSX; audited."""
    attempts, outcome, channel, drill = _attempts(request)
    audit = {
        "action": "export_calls",
        "filter": {"outcome": outcome, "channel": channel, **(drill.audit() if drill else {})},
    }
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    rows = exports.attempt_export_rows(attempts)
    return table_response(
        request=request, columns=exports.ATTEMPT_COLUMNS, rows=rows, name="calls", fmt=fmt, audit=audit
    )


urlpatterns = [
    path("calls/", attempt_list, name="attempt_list"),
    path("calls/export/", attempt_export, name="attempt_export"),
]
