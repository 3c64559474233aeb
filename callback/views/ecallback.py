"""The applicant's e-callback pages: public (the link is the key), CSRF-protected, mobile-first.

Nothing about the policy is shown before the identity step; any link that is not live is a plain 404.
A browser that proved its identity on a link keeps that proof in its session (bound to the link).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ..audit import client_ip
from ..ecallback import answering, call_request, disclosure, identity, steps
from ..ecallback.codes import CodeRateLimited
from ..ecallback.links import find_link
from ..ecallback.receipt import receipt_pdf
from ..ecallback.sms import insurer_name
from ..models import CodePurpose, LinkStatus

SESSION_KEY = "ecallback_links"
FINISHED = (LinkStatus.COMPLETED, LinkStatus.REVIEW, LinkStatus.CALL_REQUESTED)


CALLED_KEY = "ecallback_called"


def _proven(request, link, key: str = SESSION_KEY) -> bool:
    return str(link.pk) in request.session.get(key, [])


def _remember(request, link, key: str = SESSION_KEY) -> None:
    request.session[key] = [*request.session.get(key, []), str(link.pk)]


def _live(token):
    link = find_link(token)
    if link is None:
        raise Http404
    return link


def _page(request, template, link, token, status=200, **context):
    context.update(link=link, token=token, insurer=insurer_name())
    return render(request, f"ecallback/{template}", context, status=status)


def _evidence(request) -> dict:
    return {"ip": client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")[:400]}


@never_cache
@require_http_methods(["GET", "POST"])
def start(request, token):
    """The identity step: SMS code + id tail or birth date. Only the insurer's name is shown."""
    link = _live(token)
    if _proven(request, link) and link.status == LinkStatus.IDENTIFIED:
        return redirect("ecallback_answers", token)
    message = ""
    if request.method == "POST":
        proof = identity.prove_identity(
            link=link,
            code=request.POST.get("code", ""),
            method=request.POST.get("method", ""),
            value=request.POST.get("value", "")[:40],
            **_evidence(request),
        )
        if proof.locked:
            return _page(request, "locked.html", link, token, status=403)
        if proof.ok:
            _remember(request, link)
            return redirect("ecallback_answers", token)
        message = proof.message
    notice = request.session.pop("ecallback_notice", "")
    return _page(request, "start.html", link, token, message=message, notice=notice)


@never_cache
@require_POST
def send_code(request, token):
    link = _live(token)
    signing = _proven(request, link) and link.status == LinkStatus.IDENTIFIED and link.answered_at
    purpose = CodePurpose.SIGNATURE if signing else CodePurpose.IDENTITY
    try:
        steps.send_code(link=link, purpose=purpose, ip=client_ip(request))
        request.session["ecallback_notice"] = _("A code was sent to the mobile number on your policy.")
    except CodeRateLimited as exc:
        request.session["ecallback_notice"] = str(exc)
    return redirect("ecallback_sign" if purpose == CodePurpose.SIGNATURE else "ecallback_start", token)


def _identified(request, token):
    link = _live(token)
    if not _proven(request, link):
        raise Http404
    return link


@never_cache
@require_http_methods(["GET", "POST"])
def answers(request, token):
    """The policy summary and the published script as a form."""
    link = _identified(request, token)
    if link.status != LinkStatus.IDENTIFIED:
        return redirect("ecallback_start", token)
    if link.answered_at:
        return redirect("ecallback_sign", token)
    questions = answering.form_questions(link)
    disclosures_missing = False
    if request.method == "POST":
        try:
            result, questions = answering.submit_answers(link=link, data=request.POST, ip=client_ip(request))
        except steps.ECallbackError as exc:
            return _page(request, "message.html", link, token, message=str(exc))
        if result == "sign":
            return redirect("ecallback_sign", token)
        if result == "review":
            return redirect("ecallback_done", token)
        disclosures_missing = not request.POST.get("disclosures_read")
    return _page(
        request,
        "answers.html",
        link,
        token,
        summary=disclosure.policy_summary(link),
        disclosures=disclosure.disclosures(link),
        questions=questions,
        disclosures_missing=disclosures_missing,
        submitted=request.method == "POST",
    )


@never_cache
@require_http_methods(["GET", "POST"])
def sign(request, token):
    """The second SMS code: the applicant's electronic signature."""
    link = _identified(request, token)
    if link.status != LinkStatus.IDENTIFIED or not link.answered_at:
        return redirect("ecallback_start", token)
    message = request.session.pop("ecallback_notice", "")
    if request.method == "POST":
        try:
            proof = answering.sign(link=link, code=request.POST.get("code", ""), **_evidence(request))
        except steps.ECallbackError as exc:
            return _page(request, "message.html", link, token, message=str(exc))
        if proof.locked:
            return _page(request, "locked.html", link, token, status=403)
        if proof.ok:
            return redirect("ecallback_done", token)
        message = proof.message
    return _page(request, "sign.html", link, token, message=message)


def _finished(request, token):
    link = find_link(token, statuses=FINISHED)
    if link is None or not (_proven(request, link) or _proven(request, link, CALLED_KEY)):
        raise Http404
    if link.status == LinkStatus.CALL_REQUESTED and not _proven(request, link, CALLED_KEY):
        raise Http404
    return link


@never_cache
def done(request, token):
    link = _finished(request, token)
    return _page(request, "done.html", link, token)


@never_cache
def receipt(request, token):
    link = _finished(request, token)
    if link.status != LinkStatus.COMPLETED or not _proven(request, link):
        raise Http404
    response = HttpResponse(receipt_pdf(link), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="huifang-{link.task.policy.policy_no}.pdf"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def call_me(request, token):
    """ "I'd rather be called": the applicant picks a time, which becomes an appointment."""
    link = _live(token)
    message = ""
    if request.method == "POST":
        at = parse_datetime(request.POST.get("at", "")[:40])
        if at is None:
            message = _("Choose a time.")
        else:
            try:
                call_request.request_call(link=link, at=at, **_evidence(request))
            except steps.ECallbackError as exc:
                message = str(exc)
            else:
                _remember(request, link, CALLED_KEY)
                return redirect("ecallback_done", token)
    slots = call_request.call_slots(link)
    return _page(request, "call.html", link, token, slots=slots, message=message, now=timezone.now())


urlpatterns = [
    path("e/<str:token>/", start, name="ecallback_start"),
    path("e/<str:token>/code/", send_code, name="ecallback_code"),
    path("e/<str:token>/answers/", answers, name="ecallback_answers"),
    path("e/<str:token>/sign/", sign, name="ecallback_sign"),
    path("e/<str:token>/done/", done, name="ecallback_done"),
    path("e/<str:token>/receipt.pdf", receipt, name="ecallback_receipt"),
    path("e/<str:token>/call/", call_me, name="ecallback_call"),
]
