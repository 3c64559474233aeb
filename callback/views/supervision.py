"""Supervisor pages of the queue: the live dashboard and the task list with review actions."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import exports, supervision
from ..audit import record_audit
from ..fallback.board import live_counts as fallback_live_counts
from ..models import CallbackTask, Queue, TaskStatus
from ..outcomes import AttemptError, review_task
from ..paging import LongListPaginator
from ..roles import ADMIN, SUPERVISOR, role_required
from ..stats.drilldown import drill_of, drilled_tasks
from ..telephony.recordings import recordings_of_tasks
from .stats import table_response


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("All"))] + TaskStatus.choices
    )
    when = forms.ChoiceField(
        label=gettext_lazy("Due"),
        required=False,
        choices=[
            ("", gettext_lazy("Any time")),
            ("due", gettext_lazy("Due now")),
            ("today", gettext_lazy("Due today")),
            ("overdue", gettext_lazy("Overdue (due over 24 h)")),
            ("closing", gettext_lazy("Window closes within 2 days")),
            ("held", gettext_lazy("Held by agents")),
            ("appointments", gettext_lazy("With an appointment")),
        ],
    )
    queue = forms.ChoiceField(label=gettext_lazy("Queue"), required=False)
    branch = forms.CharField(label=gettext_lazy("Branch code"), required=False, max_length=20)
    policy_no = forms.CharField(label=gettext_lazy("Policy number"), required=False, max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = [("", _("All"))] + list(Queue.objects.values_list("code", "name"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("verified", gettext_lazy("Mark verified")), ("failed", gettext_lazy("Mark failed"))]
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


@role_required(SUPERVISOR, ADMIN)
def dashboard(request):
    template = (
        "callback/_dashboard_panel.html" if request.headers.get("HX-Request") else "callback/dashboard.html"
    )
    board = supervision.live_dashboard()
    return render(request, template, {"board": board, "fallback_counts": fallback_live_counts(board)})


def _filtered_tasks(request):
    """The task list's form, its filters in use, the tasks they select and a statistics drill-down."""
    form = TaskFilterForm(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    tasks = supervision.task_list(**filters)
    drill = drill_of(request.GET)
    return form, filters, drilled_tasks(drill, tasks) if drill else tasks, drill


@role_required(SUPERVISOR, ADMIN)
def task_list(request):
    form, filters, tasks, drill = _filtered_tasks(request)
    page = LongListPaginator(tasks, 50).get_page(request.GET.get("page"))
    supervision.with_masked_applicants(page)
    # Reviews are judged by ear: each task under review carries its calls' recordings.
    recordings = recordings_of_tasks([t.pk for t in page if t.status == TaskStatus.REVIEW])
    for task in page:
        task.recordings = recordings.get(task.pk, [])
    record_audit(
        user=request.user,
        action="view_task_list",
        detail={
            **{k: str(v) for k, v in filters.items()},
            **({"stats": drill.audit()} if drill else {}),
        },
        request=request,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "callback/task_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "review_form": ReviewForm(), "drill": drill},
    )


@role_required(SUPERVISOR, ADMIN)
def task_export(request):
    """The task list under its filters (and a statistics drill-down) as CSV or XLSX; audited."""
    _, filters, tasks, drill = _filtered_tasks(request)
    rows = exports.task_export_rows(tasks=tasks)
    audit = {
        "action": "export_tasks",
        "filter": {**{k: str(v) for k, v in filters.items()}, **(drill.audit() if drill else {})},
    }
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return table_response(
        request=request, columns=exports.TASK_COLUMNS, rows=rows, name="tasks", fmt=fmt, audit=audit
    )


@require_POST
@role_required(SUPERVISOR, ADMIN)
def task_review(request, pk: int):
    task = get_object_or_404(CallbackTask, pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision."))
    else:
        try:
            review_task(
                task=task,
                supervisor=request.user,
                verified=form.cleaned_data["decision"] == "verified",
                note=form.cleaned_data["note"],
            )
            record_audit(
                user=request.user, action="task_reviewed", obj=task, detail=form.cleaned_data, request=request
            )
            messages.success(
                request, _("Task %(policy_no)s reviewed.") % {"policy_no": task.policy.policy_no}
            )
        except AttemptError as exc:
            messages.error(request, str(exc))
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and safe else "task_list")


urlpatterns = [
    path("queue/", dashboard, name="dashboard"),
    path("tasks/", task_list, name="task_list"),
    path("tasks/export/", task_export, name="task_export"),
    path("tasks/<int:pk>/review/", task_review, name="task_review"),
]
