"""Click-to-call from the workspace (place, watch, hang up) and supervisors' recording player."""

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import telephony
from ..audit import record_audit
from ..models import CallAttempt, Recording
from ..models.tasks import LIVE_CALL_STATUSES
from ..roles import ADMIN, AGENT, SUPERVISOR, role_required
from ..telephony import calls
from ..telephony.backends import TelephonyError


def _latest_call(task_id: int, agent) -> CallAttempt | None:
    return (
        CallAttempt.objects.filter(task_id=task_id, agent=agent)
        .exclude(telephony_backend__in=["", "manual"])
        .order_by("-call_placed_at", "-pk")
        .first()
    )


def call_panel(task_id: int, agent) -> dict:
    """The call panel's context: the agent's current call on the task, and whether it is live."""
    attempt = _latest_call(task_id, agent)
    if attempt is not None and attempt.telephony_backend == "console":
        attempt = calls.advance_console_call(attempt)
    return {
        "attempt": attempt,
        "call": attempt if attempt is not None and not attempt.outcome else None,
        "live": attempt is not None and attempt.call_status in LIVE_CALL_STATUSES,
    }


def _panel(request, task_id: int, error: str = ""):
    panel = call_panel(task_id, request.user)
    attempt = panel["attempt"]
    if attempt is not None and attempt.outcome and attempt.call_status in calls.AUTO_OUTCOMES:
        # The call ended busy / unanswered / failed and closed the attempt by itself: the callback went
        # back to the queue with its retry time, so the workspace moves on.
        messages.info(
            request,
            _("The call ended: %(outcome)s. The attempt was recorded and the callback will be retried.")
            % {"outcome": attempt.get_outcome_display()},
        )
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("workspace")
            return response
        return redirect("workspace")
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        return redirect("workspace")
    return render(
        request,
        "callback/workspace_call.html",
        {**panel, "task_id": task_id, "error": error},
    )


@require_POST
@role_required(AGENT)
def place(request, task_id: int):
    error = ""
    try:
        telephony.place_call(task_id=task_id, agent=request.user, which=request.POST.get("which", "mobile"))
    except telephony.CallRefused as exc:
        error = str(exc)
    return _panel(request, task_id, error)


@require_GET
@role_required(AGENT)
def state(request, task_id: int):
    return _panel(request, task_id)


@require_POST
@role_required(AGENT)
def hang_up(request, task_id: int):
    error = ""
    attempt = _latest_call(task_id, request.user)
    if attempt is not None:
        try:
            telephony.hang_up(attempt=attempt)
        except telephony.CallRefused as exc:
            error = str(exc)
    return _panel(request, task_id, error)


@require_GET
@role_required(SUPERVISOR, ADMIN)
def play_recording(request, pk: int):
    """Stream a recording through Huifang (its media needs the account credentials); each play is audited."""
    recording = get_object_or_404(Recording.objects.select_related("attempt__task__policy"), pk=pk)
    if not recording.playable:
        raise Http404(_("This recording is not available."))
    if request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):  # a play, not a seek's next chunk
        record_audit(
            user=request.user,
            action="play_recording",
            obj=recording,
            detail={"sid": recording.sid, "policy": recording.attempt.task.policy.policy_no},
            request=request,
        )
    try:
        media = telephony.get_backend(
            recording.source if recording.source != "cti" else None
        ).recording_media(recording)
    except TelephonyError:
        return HttpResponse(_("The recording could not be fetched now: try again later."), status=502)
    response = StreamingHttpResponse(media.chunks, content_type=media.content_type)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="{recording.sid}.wav"'
    return response


urlpatterns = [
    path("workspace/<int:task_id>/call/", place, name="workspace_call"),
    path("workspace/<int:task_id>/call/state/", state, name="workspace_call_state"),
    path("workspace/<int:task_id>/call/hang-up/", hang_up, name="workspace_hang_up"),
    path("recordings/<int:pk>/play/", play_recording, name="recording_play"),
]
