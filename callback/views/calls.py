"""Recent call attempts with their outcome and the exact script text read (supervisors, admins)."""

from django.shortcuts import render
from django.urls import path

from verification.vocab import Outcome

from ..audit import record_audit
from ..ecallback.stats import recent_figures
from ..models import CallAttempt, Channel
from ..paging import LongListPaginator
from ..roles import ADMIN, SUPERVISOR, role_required


@role_required(SUPERVISOR, ADMIN)
def attempt_list(request):
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
    page = LongListPaginator(attempts, 50).get_page(request.GET.get("page"))
    record_audit(
        user=request.user,
        action="view_attempts",
        detail={"outcome": outcome, "channel": channel, "page": page.number},
        request=request,
    )
    return render(
        request,
        "callback/attempt_list.html",
        {
            "page": page,
            "outcome": outcome,
            "outcomes": Outcome.choices,
            "channel": channel,
            "channels": Channel.choices,
            # The last 30 days of e-callbacks: offered, completed, share of verified callbacks.
            "ecallbacks": recent_figures(),
        },
    )


urlpatterns = [path("calls/", attempt_list, name="attempt_list")]
