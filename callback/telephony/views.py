"""Twilio's webhooks: TwiML for the bridged call, call and recording status, SMS status and replies.

Every view is signed by Twilio (webhooks.twilio_webhook: 403 otherwise) and CSRF-exempt; no other
view is.
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ..models import CallAttempt
from ..models.tasks import LIVE_CALL_STATUSES
from ..models.telephony import CallLeg
from . import calls, sms
from .webhooks import public_url, twilio_webhook


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


@twilio_webhook
def voice(request, attempt_id: int):
    """The agent answered: bridge to the customer, recording both channels from the answer."""
    attempt = get_object_or_404(CallAttempt, pk=attempt_id)
    response = VoiceResponse()
    if attempt.outcome or attempt.call_status not in LIVE_CALL_STATUSES or not attempt.number_dialled:
        response.hangup()
        return _twiml(response)
    response.say("正在为您接通客户。", language="cmn-CN")
    dial = response.dial(
        caller_id=settings.TELEPHONY_CALLER_ID,
        record="record-from-answer-dual",
        recording_status_callback=public_url(reverse("twilio_recording", args=[attempt.pk])),
        recording_status_callback_event="in-progress completed absent",
        timeout=settings.TELEPHONY_RING_SECONDS,
    )
    dial.number(
        attempt.number_dialled,
        status_callback=public_url(reverse("twilio_call_status", args=[attempt.pk, CallLeg.CUSTOMER])),
        status_callback_event="initiated ringing answered completed",
        status_callback_method="POST",
    )
    return _twiml(response)


@twilio_webhook
def call_status(request, attempt_id: int, leg: str):
    attempt = get_object_or_404(CallAttempt, pk=attempt_id)
    if leg not in CallLeg.values:
        return HttpResponse(status=404)
    calls.record_call_event(attempt=attempt, leg=leg, params=request.POST.dict())
    return HttpResponse(status=204)


@twilio_webhook
def recording_status(request, attempt_id: int):
    attempt = get_object_or_404(CallAttempt, pk=attempt_id)
    calls.record_call_event(
        attempt=attempt, leg=CallLeg.CUSTOMER, params=request.POST.dict(), kind="recording"
    )
    return HttpResponse(status=204)


@twilio_webhook
def sms_status(request):
    sms.record_sms_status(
        sid=request.POST.get("MessageSid", ""), status=request.POST.get("MessageStatus", "")
    )
    return HttpResponse(status=204)


@twilio_webhook
def sms_inbound(request):
    sms.handle_inbound_sms(from_number=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    return _twiml(MessagingResponse())  # no automatic reply: the operator's STOP handling answers


urlpatterns = [
    path("telephony/twilio/voice/<int:attempt_id>/", voice, name="twilio_voice"),
    path("telephony/twilio/status/<int:attempt_id>/<str:leg>/", call_status, name="twilio_call_status"),
    path("telephony/twilio/recording/<int:attempt_id>/", recording_status, name="twilio_recording"),
    path("telephony/twilio/sms/status/", sms_status, name="twilio_sms_status"),
    path("telephony/twilio/sms/inbound/", sms_inbound, name="twilio_sms_inbound"),
]
