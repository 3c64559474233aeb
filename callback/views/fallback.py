"""Supervisor pages of the fallback channels: the fallback queues, the day's letters as a PDF, visit
lists per branch, recording a returned receipt, moving a task between phone and fallback."""

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import fallback
from ..audit import record_audit
from ..fallback import board
from ..fallback.letters import letters_pdf, receipt_items, receipt_questions
from ..flags import request_correction
from ..models import CallbackTask, Channel, DeliveryStatus, FallbackDelivery
from ..roles import ADMIN, SUPERVISOR, role_required

RECEIPT_OUTCOMES = ("verified", "verified_with_issues", "failed_identity", "refused")


@role_required(SUPERVISOR, ADMIN)
def fallback_queues(request):
    return render(
        request,
        "callback/fallback.html",
        {
            "counts": board.counts(),
            "needs_contact": board.needs_contact(),
            "letters": board.deliveries(channel=Channel.LETTER, status=DeliveryStatus.TO_SEND)[:200],
            "outstanding": FallbackDelivery.objects.filter(status=DeliveryStatus.SENT)
            .select_related("attempt__task__policy")
            .order_by("reply_by", "pk")[:200],
            "branches": board.visits_by_branch(),
        },
    )


@role_required(SUPERVISOR, ADMIN)
def letters_to_print(request):
    """Today's letters to print, one PDF (names and addresses: audited as an export)."""
    letters = list(board.deliveries(channel=Channel.LETTER, status=DeliveryStatus.TO_SEND))
    record_audit(user=request.user, action="export_letters", detail={"count": len(letters)}, request=request)
    response = HttpResponse(letters_pdf(letters), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="letters-{timezone.localdate():%Y%m%d}.pdf"'
    return response


@require_POST
@role_required(SUPERVISOR, ADMIN)
def letters_sent(request):
    channel = request.POST.get("channel", Channel.LETTER)
    branch = request.POST.get("branch", "")
    if channel not in (Channel.LETTER, Channel.VISIT):
        channel = Channel.LETTER
    ids = [int(i) for i in request.POST.getlist("delivery") if i.isdigit()]
    todo = board.deliveries(channel=channel, status=DeliveryStatus.TO_SEND, branch=branch).filter(pk__in=ids)
    count = fallback.mark_sent(deliveries=todo, by=request.user)
    record_audit(
        user=request.user,
        action="fallback_sent",
        detail={"channel": channel, "count": count},
        request=request,
    )
    messages.success(
        request, _("%(count)s marked as sent: their receipts are now outstanding.") % {"count": count}
    )
    return redirect("fallback_queues")


@role_required(SUPERVISOR, ADMIN)
def visit_list(request, branch: str):
    """A branch's visits: whom to visit, where, what to confirm, and the receipt form (audited)."""
    branch = "" if branch == "-" else branch  # policies without a branch code
    visits = list(board.deliveries(channel=Channel.VISIT, status=DeliveryStatus.TO_SEND, branch=branch))
    visits += list(board.deliveries(channel=Channel.VISIT, status=DeliveryStatus.SENT, branch=branch))
    for visit in visits:
        visit.items = receipt_items(visit)
    record_audit(
        user=request.user,
        action="view_visit_list",
        detail={"branch": branch, "count": len(visits)},
        request=request,
    )
    return render(request, "callback/visit_list.html", {"branch": branch, "visits": visits})


def _answers_from(post, questions) -> dict:
    answers = {}
    for question in questions:
        if question.kind == "identity":
            stated = {
                part: post.get(f"q_{question.key}_{part}", "").strip() for part in ("birth_date", "id_last6")
            }
            if any(stated.values()):
                answers[question.key] = stated
        else:
            value = post.get(f"q_{question.key}", "").strip()
            if value:
                answers[question.key] = value
    return answers


@role_required(SUPERVISOR, ADMIN)
def record_receipt(request, pk: int):
    delivery = get_object_or_404(FallbackDelivery.objects.select_related("attempt__task__policy"), pk=pk)
    questions = receipt_questions(delivery)
    error = ""
    if request.method == "POST":
        try:
            returned_on = dt.date.fromisoformat(request.POST.get("returned_on", ""))
        except ValueError:
            error = _("Enter the date the receipt came back as YYYY-MM-DD.")
        outcome = request.POST.get("outcome", "")
        if not error and outcome not in RECEIPT_OUTCOMES:
            error = _("Choose an outcome.")
        if not error:
            try:
                fallback.record_receipt(
                    delivery=delivery,
                    by=request.user,
                    returned_on=returned_on,
                    scan_reference=request.POST.get("scan_reference", "")[:100],
                    answers=_answers_from(request.POST, questions),
                    outcome=outcome,
                    notes=request.POST.get("notes", "")[:4000],
                    request=request,
                )
            except fallback.ReceiptError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    _("Receipt of %(policy_no)s recorded.")
                    % {"policy_no": delivery.attempt.task.policy.policy_no},
                )
                return redirect("fallback_queues")
    from verification.vocab import Outcome

    return render(
        request,
        "callback/fallback_receipt.html",
        {
            "delivery": delivery,
            "items": receipt_items(delivery),
            "error": error,
            "outcomes": [(o, Outcome(o).label) for o in RECEIPT_OUTCOMES],
            "post": request.POST,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


@require_POST
@role_required(SUPERVISOR, ADMIN)
def move_task(request, pk: int):
    task = get_object_or_404(CallbackTask.objects.select_related("policy"), pk=pk)
    try:
        fallback.move_by_hand(
            task=task,
            to=request.POST.get("to", ""),
            reason=request.POST.get("reason", "")[:300],
            by=request.user,
            request=request,
        )
        messages.success(request, _("Task %(policy_no)s moved.") % {"policy_no": task.policy.policy_no})
    except fallback.MoveError as exc:
        messages.error(request, str(exc))
    return redirect("policy_detail", task.policy.policy_no)


@require_POST
@role_required(SUPERVISOR, ADMIN)
def request_number_corrections(request):
    """Ask the branches for the numbers of every task waiting for contact data."""
    result = request_correction(flags=board.missing_number_flags(), user=request.user, request=request)
    messages.success(request, _("Correction requested for %(count)s flags.") % {"count": len(result.changed)})
    return redirect("fallback_queues")


urlpatterns = [
    path("fallback/", fallback_queues, name="fallback_queues"),
    path("fallback/letters.pdf", letters_to_print, name="fallback_letters_pdf"),
    path("fallback/sent/", letters_sent, name="fallback_sent"),
    path("fallback/visits/<str:branch>/", visit_list, name="fallback_visits"),
    path("fallback/receipts/<int:pk>/", record_receipt, name="fallback_receipt"),
    path("fallback/corrections/", request_number_corrections, name="fallback_corrections"),
    path("tasks/<int:pk>/move/", move_task, name="task_move"),
]
