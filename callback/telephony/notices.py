"""The SMS Huifang sends on its own: the booked callback time, and the optional pre-call notice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from ..models import CallbackTask, SmsMessage
from .sms import send_sms


def _applicant_number(task: CallbackTask) -> tuple[str, str]:
    applicant = task.policy.applicant
    if applicant is None:
        return "", ""
    return applicant.name, applicant.mobile_e164 or applicant.mobile


def confirm_appointment(*, task: CallbackTask, appointment_at: dt.datetime) -> SmsMessage | None:
    """Confirm the callback time the customer booked; one SMS per booked time (a rebooking sends again)."""
    name, number = _applicant_number(task)
    if not number:
        return None
    local = timezone.localtime(appointment_at)
    return send_sms(
        to=number,
        template="callback_confirmation",
        context={"name": name, "policy_no": task.policy.policy_no, "time": local.strftime("%m月%d日 %H:%M")},
        event_key=f"appointment:{task.pk}:{local:%Y%m%d%H%M}",
        task=task,
    )


def precall_notice(*, task: CallbackTask) -> SmsMessage | None:
    """Tell the customer the callback is coming (SMS_PRECALL_NOTICE=1), once per task."""
    if not settings.SMS_PRECALL_NOTICE:
        return None
    name, number = _applicant_number(task)
    if not number:
        return None
    return send_sms(
        to=number,
        template="precall_notice",
        context={
            "name": name,
            "policy_no": task.policy.policy_no,
            "caller": settings.TELEPHONY_CALLER_ID or settings.INSURER_HOTLINE,
        },
        event_key=f"precall:{task.pk}",
        task=task,
    )
