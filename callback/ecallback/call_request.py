""" "I'd rather be called": the applicant picks a half hour in the queue's calling hours, which becomes
an appointment in the phone queue."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.vocab import Outcome

from ..models import CallAttempt, Channel, ECallbackLink, LinkStatus
from ..schedule import CallingHours, load_holidays
from .steps import audit_step, close_online, lock_link


@transaction.atomic
def request_call(
    *, link: ECallbackLink, at: dt.datetime, ip: str | None, user_agent: str, now: dt.datetime | None = None
) -> CallAttempt:
    """The applicant picks a time: an appointment in the phone queue (the closing service checks it is
    in calling hours and inside the window)."""
    now = now or timezone.now()
    link = lock_link(link)
    attempt = link.attempt
    if attempt is None or attempt.outcome:
        attempt = CallAttempt.objects.create(
            task=link.task,
            channel=Channel.ECALLBACK,
            agent=None,
            number_dialled=link.mobile,
            notes=_("E-callback from %(ip)s, %(device)s") % {"ip": ip or "?", "device": user_agent[:200]},
        )
    closed = close_online(
        link=link,
        attempt=attempt,
        outcome=Outcome.CALLBACK_REQUESTED,
        now=now,
        appointment_at=at,
        note=_("The applicant asked to be called instead of the e-callback."),
    )
    ECallbackLink.objects.filter(pk=link.pk).update(status=LinkStatus.CALL_REQUESTED, attempt=closed)
    audit_step(link, "call_requested", ip=ip, at=at.isoformat())
    return closed


def call_slots(
    link: ECallbackLink, *, now: dt.datetime | None = None, days: int = 14
) -> list[tuple[dt.date, list[dt.datetime]]]:
    """The half hours the applicant may pick, by day: in the queue's calling hours, inside the window."""
    now = now or timezone.now()
    hours = CallingHours.of(link.task.queue)
    tz = ZoneInfo(hours.tz_name)
    today = now.astimezone(tz).date()
    holidays = load_holidays(around=today)
    found = []
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        slots = []
        for half in range(48):
            at = dt.datetime.combine(day, dt.time(half // 2, 30 * (half % 2)), tzinfo=tz)
            if at <= now + dt.timedelta(minutes=30):
                continue
            if link.task.deadline and at >= link.task.deadline:
                break
            if hours.is_open(at, holidays):
                slots.append(at)
        if slots:
            found.append((day, slots))
    return found
