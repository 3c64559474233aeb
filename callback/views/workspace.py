"""The agent's workspace: next callback, masked summary, the script, answers, dialling, closing."""

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from verification.vocab import Outcome

from .. import queue, stats, telephony, workspace
from ..audit import record_audit
from ..roles import AGENT, role_required
from .calling import call_panel


@role_required(AGENT)
def workspace_page(request):
    task = workspace.held_tasks(request.user).first()
    # The agent's own figures only: agent_figures filters on the requesting user.
    context = {"task": task, "outcomes": Outcome.choices, "my_figures": stats.agent_figures(request.user)}
    if task is not None:
        page = workspace.call_page(task=task, agent=request.user)
        context.update(page=page, summary=workspace.masked_summary(task.policy), today=timezone.localdate())
        context.update(
            calling_by_backend=telephony.calling_by_backend(), call_panel=call_panel(task.pk, request.user)
        )
        record_audit(
            user=request.user,
            action="view_policy",
            obj=task.policy,
            detail={"via": "workspace"},
            request=request,
        )
    return render(request, "callback/workspace.html", context)


def _no_callback_reason(agent) -> str:
    """Why "Next callback" found nothing: no queue, queues closed, or simply nothing due."""
    if not queue.agent_queues(agent).exists():
        return _("You are not in any queue yet: ask a supervisor to add your team to a queue.")
    if not queue.open_queue_ids(agent, now=timezone.now()):
        return _("Your queues are outside calling hours now: callbacks resume when they open.")
    return _("No callback is due for your queues right now.")


@require_POST
@role_required(AGENT)
def take_next(request):
    result = workspace.take_next(agent=request.user)
    if result.without_script:
        messages.error(
            request,
            _(
                "Policy %(policy)s has no applicable published script, so it cannot be called. "
                "It was put back and is reported to the admins."
            )
            % {"policy": result.without_script},
        )
    elif result.task is None:
        messages.info(request, _no_callback_reason(request.user))
    return redirect("workspace")


def _script_partial(request, task_id: int, error: str = ""):
    task = workspace.held_tasks(request.user).filter(pk=task_id).first()
    if task is None:
        # htmx swaps only 2xx answers: say it where the script was, with the way back.
        return HttpResponse(
            format_html(
                '<div id="call"><p class="errors" role="alert">{} <a href="{}">{}</a></p></div>',
                _("This callback is no longer yours."),
                reverse("workspace"),
                _("Back to the workspace"),
            )
        )
    page = workspace.call_page(task=task, agent=request.user)
    return render(
        request,
        "callback/workspace_script.html",
        {"task": task, "page": page, "error": error, "outcomes": Outcome.choices},
    )


@require_POST
@role_required(AGENT)
def answer(request, task_id: int, key: str):
    value = request.POST.get("answer", "")
    if request.POST.get("kind") == "identity":
        value = {
            "birth_date": request.POST.get("birth_date", ""),
            "id_last6": request.POST.get("id_last6", ""),
        }
    error = ""
    try:
        workspace.save_answer(task_id=task_id, agent=request.user, key=key, answer=value)
    except workspace.CallError as exc:
        error = " ".join(exc.messages)
    if not request.headers.get("HX-Request"):  # a plain form post (no JavaScript): back to the page
        if error:
            messages.error(request, error)
        return redirect("workspace")
    return _script_partial(request, task_id, error=error)


@require_POST
@role_required(AGENT)
def notes(request, task_id: int):
    try:
        workspace.save_notes(task_id=task_id, agent=request.user, notes=request.POST.get("notes", ""))
    except workspace.CallError as exc:
        return HttpResponse(format_html('<strong class="bad">{}</strong>', " ".join(exc.messages)))
    return HttpResponse(_("Notes saved at %(time)s") % {"time": timezone.localtime().strftime("%H:%M:%S")})


@require_POST
@role_required(AGENT)
def dialled(request, task_id: int):
    try:
        workspace.mark_dialled(task_id=task_id, agent=request.user, which=request.POST.get("which", ""))
    except workspace.CallError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workspace")


def _agreed_time(raw: str) -> dt.datetime | None:
    try:
        value = parse_datetime((raw or "").strip())
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@require_POST
@role_required(AGENT)
def close(request, task_id: int):
    try:
        attempt = workspace.close_call(
            task_id=task_id,
            agent=request.user,
            outcome=request.POST.get("outcome", ""),
            notes=request.POST.get("notes", ""),
            appointment_at=_agreed_time(request.POST.get("appointment_at", "")),
        )
    except workspace.CallError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Callback %(policy)s closed: %(outcome)s.")
            % {"policy": attempt.task.policy.policy_no, "outcome": attempt.get_outcome_display()},
        )
    return redirect("workspace")


@require_POST
@role_required(AGENT)
def release(request, task_id: int):
    try:
        workspace.release(task_id=task_id, agent=request.user)
    except workspace.CallError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.info(request, _("The callback went back to the queue."))
    return redirect("workspace")


@require_POST
@role_required(AGENT)
def heartbeat(request, task_id: int):
    if workspace.heartbeat(task_id=task_id, agent=request.user):
        return HttpResponse(
            _("Held by you · renewed %(time)s") % {"time": timezone.localtime().strftime("%H:%M")}
        )
    return HttpResponse(
        format_html('<strong class="bad">{}</strong>', _("Lease lost: another agent may take this callback."))
    )


urlpatterns = [
    path("workspace/", workspace_page, name="workspace"),
    path("workspace/next/", take_next, name="workspace_next"),
    path("workspace/<int:task_id>/answer/<slug:key>/", answer, name="workspace_answer"),
    path("workspace/<int:task_id>/notes/", notes, name="workspace_notes"),
    path("workspace/<int:task_id>/dialled/", dialled, name="workspace_dialled"),
    path("workspace/<int:task_id>/close/", close, name="workspace_close"),
    path("workspace/<int:task_id>/release/", release, name="workspace_release"),
    path("workspace/<int:task_id>/heartbeat/", heartbeat, name="workspace_heartbeat"),
]
