"""What time alone changes for e-callbacks, run by the periodic sweep (callback/sweep.py): new offers,
reminders, the fall back to the phone queue, and links that died with their window or task.

Idempotent like the rest of the sweep: each step moves only rows whose state is out of date, and a
reminder is claimed by a conditional UPDATE before its SMS is sent, so two sweeps never send it twice.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..models import CallbackTask, ECallbackLink, LinkStatus, TaskStatus
from ..models.ecallback import LIVE_LINK_STATUSES
from ..script_for_policy import covered_by_a_script_q
from . import rules, sms
from .offer import offer_ecallback, send_to_phone_queue

OFFERS_PER_SWEEP = 500
REDACT_LINK = re.compile(r"/e/[\w-]{20,}/")
REDACT_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
# An e-callback is offered to new business only: a task opened (receipt signed) in the last days.
OFFER_WITHIN_DAYS = 2


@dataclass
class ECallbackSweep:
    offered: int = 0
    reminded: int = 0
    fallen_back: int = 0
    expired: int = 0
    redacted: int = 0


def offer_candidates(*, now: dt.datetime):
    """Open, untouched tasks of fresh policies that no admin's rule keeps on the phone, with a mobile,
    a script, and no link yet."""
    today = timezone.localdate(now)
    return (
        CallbackTask.objects.filter(
            status=TaskStatus.OPEN,
            attempts=0,
            holder__isnull=True,
            appointment_at__isnull=True,
            deadline__gt=now,
            window_start__gte=today - dt.timedelta(days=OFFER_WITHIN_DAYS),
        )
        .filter(rules.has_mobile_q(), covered_by_a_script_q())
        .exclude(rules.phone_only_q(rules.active_rules(), today))
        .exclude(Exists(ECallbackLink.objects.filter(task=OuterRef("pk"))))
        .order_by("deadline", "pk")
    )


def sweep_ecallbacks(*, now: dt.datetime | None = None) -> ECallbackSweep:
    now = now or timezone.now()
    report = ECallbackSweep()
    settings_row = rules.current_settings()
    if settings_row.enabled:
        for task in offer_candidates(now=now)[:OFFERS_PER_SWEEP]:
            if offer_ecallback(task=task, now=now) is not None:
                report.offered += 1
    report.reminded = send_reminders(now=now, settings_row=settings_row)
    for link in ECallbackLink.objects.filter(
        status__in=(LinkStatus.SENT, LinkStatus.IDENTIFIED),
        fallback_at__lte=now,
        task__status=TaskStatus.OPEN,
    ).select_related("task"):
        with transaction.atomic():
            send_to_phone_queue(link=link, now=now, status=LinkStatus.FALLEN_BACK)
        report.fallen_back += 1
    report.redacted = redact_sent_messages(now=now)
    report.expired = (
        ECallbackLink.objects.filter(status__in=LIVE_LINK_STATUSES)
        .exclude(task__status=TaskStatus.OPEN, expires_at__gt=now)
        .update(status=LinkStatus.EXPIRED)
    )
    return report


def send_reminders(*, now: dt.datetime, settings_row) -> int:
    days = sorted(int(d) for d in settings_row.reminder_days or [] if str(d).isdigit())
    sent = 0
    for link in ECallbackLink.objects.filter(
        status=LinkStatus.SENT,
        reminders_sent__lt=len(days),
        fallback_at__gt=now,
        task__status=TaskStatus.OPEN,
    ).select_related("task"):
        number = link.reminders_sent
        if link.sent_at + dt.timedelta(days=days[number]) > now:
            continue
        # Claim reminder `number` first: whoever updates the row sends it, nobody else.
        if not ECallbackLink.objects.filter(pk=link.pk, reminders_sent=number).update(
            reminders_sent=number + 1
        ):
            continue
        local = timezone.localtime(link.sent_at)
        sms.send(
            link=link,
            template=sms.REMINDER_TEMPLATE,
            context={"date": f"{local.month}月{local.day}日"},
            event=f"reminder:{number + 1}",
        )
        sent += 1
    return sent


def redact_sent_messages(*, now: dt.datetime) -> int:
    """Blank the link and the code out of the stored copies of e-callback SMS once they left: the
    token and the codes are kept only hashed, so the message log must not keep them readable."""
    from ..models import SmsMessage  # the telephony issue's stored messages

    redacted = 0
    sent = (
        SmsMessage.objects.filter(
            event_key__startswith="ecallback:",
            template__in=(sms.LINK_TEMPLATE, sms.CODE_TEMPLATE),
            created_at__gte=now - dt.timedelta(days=2),
        )
        .exclude(status__in=("queued", "sending"))
        .exclude(body__contains="/e/…/")
        .exclude(body__contains="******")
    )
    for message in sent.only("pk", "body", "template"):
        body = REDACT_LINK.sub("/e/…/", message.body)
        if message.template == sms.CODE_TEMPLATE:
            body = REDACT_CODE.sub("******", body)
        if body != message.body:
            redacted += SmsMessage.objects.filter(pk=message.pk).update(body=body)
    return redacted
