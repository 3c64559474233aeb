"""Twilio's webhooks: the public address they are signed for, and the signature check."""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.http import HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

log = logging.getLogger("callback.telephony")


def public_url(path: str) -> str:
    """The address Twilio calls for `path`: PUBLIC_BASE_URL + path (behind a TLS proxy Django sees
    http://internal-host, but Twilio signs the https address it was given)."""
    return settings.PUBLIC_BASE_URL + path


def request_url(request) -> str:
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def signature_valid(request) -> bool:
    from twilio.request_validator import RequestValidator

    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    params = {key: request.POST.getlist(key) for key in request.POST}
    # RequestValidator takes a plain dict; Twilio never repeats a key in these callbacks.
    flat = {key: values[0] if len(values) == 1 else values for key, values in params.items()}
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(request_url(request), flat, signature)


def twilio_webhook(view):
    """POST only, no CSRF token (Twilio has none), and a valid X-Twilio-Signature, else 403 (logged).

    The console backend never calls webhooks, so they answer only what Twilio signed.
    """

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not signature_valid(request):
            log.warning(
                "twilio webhook %s refused: %s signature from %s",
                request.path,
                "bad" if request.headers.get("X-Twilio-Signature") else "no",
                request.META.get("REMOTE_ADDR"),
            )
            return HttpResponseForbidden("invalid signature")
        return view(request, *args, **kwargs)

    return wrapper
