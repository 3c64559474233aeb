"""SMS: one stored message per event, sent by an RQ job, never to a number that opted out."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from verification.validators import normalize_phone

from .. import jobs
from ..models import CallbackTask, SmsMessage, SmsOptOut, SmsTemplate
from ..models.telephony import SmsStatus
from .backends import TelephonyError, get_backend
from .webhooks import public_url

log = logging.getLogger("callback.telephony")

# Replies that opt a number out (compared after trimming, case-insensitively). 退订 and TD are what
# Chinese operators and the MIIT's rules on commercial SMS expect; STOP is Twilio's own keyword.
OPT_OUT_WORDS = frozenset({"退订", "td", "t", "stop", "unsubscribe", "n"})
# Twilio's statuses after sending; anything else we do not move to.
DELIVERY_STATUSES = {
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.UNDELIVERED,
    "failed": SmsStatus.FAILED,
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render(body: str, context: dict) -> str:
    """Fill `{name}` placeholders; unknown ones stay as written (an admin's typo shows, never crashes)."""
    values = {"company": settings.SMS_COMPANY_NAME, **{k: str(v) for k, v in context.items()}}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


# The texts Huifang starts with (migration 0010 stores them; admins edit them in the admin).
DEFAULT_TEMPLATES = {
    "callback_confirmation": (
        "预约回访确认",
        "【{company}】尊敬的{name}，您好！您的保单{policy_no}回访已预约在{time}，届时我们将致电您，"
        "请保持电话畅通。回复TD退订",
    ),
    "precall_notice": (
        "回访来电提醒",
        "【{company}】尊敬的{name}，您好！我们将于近期致电您，对保单{policy_no}进行犹豫期回访，"
        "来电号码{caller}，请放心接听。回复TD退订",
    ),
}


def template_for(code: str) -> SmsTemplate | None:
    """The active template `code`; a default one missing from the table is stored again first."""
    row = SmsTemplate.objects.filter(code=code).first()
    if row is None and code in DEFAULT_TEMPLATES:
        name, body = DEFAULT_TEMPLATES[code]
        row, _created = SmsTemplate.objects.get_or_create(code=code, defaults={"name": name, "body": body})
    return row if row is not None and row.active else None


def is_opted_out(number: str) -> bool:
    return SmsOptOut.objects.filter(number=normalize_phone(number) or number).exists()


def send_sms(
    *, to: str, template: str, context: dict, event_key: str, task: CallbackTask | None = None
) -> SmsMessage:
    """Store and queue one SMS for `event_key`; a second call for the same key returns the first message.

    The message is stored as `opted_out` (not sent) when the number opted out, as `error` when the
    template is missing or inactive or the number cannot take an SMS. Sending happens in an RQ job
    after the caller's transaction commits.
    """
    number = normalize_phone(to) or (to or "").strip()
    existing = SmsMessage.objects.filter(event_key=event_key).first()
    if existing is not None:
        return existing
    row = template_for(template)
    message = SmsMessage(
        to=number, template=template, event_key=event_key[:200], task=task, backend=settings.TELEPHONY_BACKEND
    )
    message.body = render(row.body, context) if row else ""
    if row is None:
        message.status, message.error = SmsStatus.ERROR, "no active template"
    elif not number.startswith("+"):
        message.status, message.error = SmsStatus.ERROR, "not a number that takes SMS"
    elif is_opted_out(number):
        message.status = SmsStatus.OPTED_OUT
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # the same event, stored a moment ago by another process
        return SmsMessage.objects.get(event_key=event_key[:200])
    if message.status == SmsStatus.QUEUED:
        transaction.on_commit(lambda: jobs.enqueue(deliver_sms, message.pk))
    return message


def deliver_sms(message_id: int) -> None:
    """The job: send a queued message once. A job run twice finds it no longer queued and stops."""
    # Claim by a conditional UPDATE: only one run moves it from queued to sending.
    if not SmsMessage.objects.filter(pk=message_id, status=SmsStatus.QUEUED).update(status=SmsStatus.SENDING):
        return
    message = SmsMessage.objects.get(pk=message_id)
    if is_opted_out(message.to):  # opted out between queueing and sending
        SmsMessage.objects.filter(pk=message_id).update(status=SmsStatus.OPTED_OUT)
        return
    try:
        sid = get_backend(message.backend or None).send_sms(
            to=message.to, body=message.body, status_url=public_url(reverse("twilio_sms_status"))
        )
    except TelephonyError as exc:
        SmsMessage.objects.filter(pk=message_id).update(status=SmsStatus.ERROR, error=str(exc)[:300])
        return
    SmsMessage.objects.filter(pk=message_id).update(status=SmsStatus.SENT, sid=sid, sent_at=timezone.now())


def record_sms_status(*, sid: str, status: str) -> bool:
    """Twilio's delivery report; a late `sent` never overwrites `delivered` or a failure."""
    new = DELIVERY_STATUSES.get(status)
    if not sid or new is None:
        return False
    rows = SmsMessage.objects.filter(sid=sid)
    if new == SmsStatus.SENT:
        rows = rows.filter(status=SmsStatus.SENDING)
    else:
        rows = rows.filter(status__in=[SmsStatus.SENDING, SmsStatus.SENT])
    return bool(rows.update(status=new))


def opt_out(*, number: str, keyword: str = "") -> SmsOptOut:
    number = normalize_phone(number) or number.strip()
    row, _created = SmsOptOut.objects.get_or_create(number=number, defaults={"keyword": keyword[:40]})
    return row


def handle_inbound_sms(*, from_number: str, body: str) -> bool:
    """An SMS the customer sent us: 退订 / TD / STOP opt the number out. True when it did."""
    word = (body or "").strip().strip("。.!！").lower()
    if word in OPT_OUT_WORDS:
        opt_out(number=from_number, keyword=word)
        log.info("SMS opt-out from %s (%s)", from_number, word)
        return True
    return False
