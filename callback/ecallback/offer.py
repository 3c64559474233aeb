"""The offer of an e-callback: the link SMS, the phone queue waiting until the fallback time, and the
way back to the phone queue when the link stops being the way."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import record_audit
from ..models import CallbackTask, ECallbackLink, LinkStatus, TaskStatus
from ..script_for_policy import version_for_policy
from . import links, rules, sms


def _live_link(task: CallbackTask) -> ECallbackLink | None:
    return task.ecallback_links.filter(status__in=(LinkStatus.SENT, LinkStatus.IDENTIFIED)).first()


def _mobile(task: CallbackTask) -> str:
    applicant = task.policy.applicant
    return (applicant.mobile_e164 or applicant.mobile) if applicant else ""


def cannot_offer(*, task: CallbackTask, now: dt.datetime | None = None, settings_row=None) -> str:
    """Why the applicant of `task` cannot be offered an e-callback, in words ("" when they can): no
    mobile, an opted-out mobile (the link SMS would never leave), e-callbacks switched off, an admin's
    phone-only rule, no published script, too close to the window's end. The task's own state (open,
    not on a call) is the caller's to check."""
    from .. import telephony

    now = now or timezone.now()
    settings_row = settings_row or rules.current_settings()
    mobile = _mobile(task)
    if not mobile:
        return _("the applicant has no mobile number")
    if telephony.is_opted_out(mobile):
        return _("the applicant's mobile opted out of SMS")
    if not settings_row.enabled:
        return _("e-callbacks are switched off")
    if rules.phone_only(task.policy):
        return _("a phone-only rule keeps the policy on the phone")
    if version_for_policy(task.policy) is None:
        return _("no published script covers the policy")
    if rules.fallback_time(sent_at=now, deadline=task.deadline, settings_row=settings_row) <= now:
        return _("too close to the end of the free-look window")
    return ""


@transaction.atomic
def offer_ecallback(*, task: CallbackTask, now: dt.datetime | None = None, by=None) -> ECallbackLink | None:
    """Offer the applicant an e-callback for `task`: a new link by SMS, the phone queue waiting until
    the fallback time. None when the task may not be offered one (closed, on a call, or a reason of
    `cannot_offer`). A task with a live link keeps it and no second SMS is sent."""
    now = now or timezone.now()
    task = CallbackTask.objects.select_for_update(of=("self",)).select_related("policy").get(pk=task.pk)
    settings_row = rules.current_settings()
    if not settings_row.enabled or task.status != TaskStatus.OPEN or task.holder_id:
        return None
    if (existing := _live_link(task)) is not None:
        return existing
    if cannot_offer(task=task, now=now, settings_row=settings_row):
        return None
    mobile = _mobile(task)
    fallback_at = rules.fallback_time(sent_at=now, deadline=task.deadline, settings_row=settings_row)
    token = links.new_token()
    link = ECallbackLink.objects.create(
        task=task,
        token_hash=links.hash_token(token),
        mobile=mobile,
        sent_at=now,
        expires_at=task.deadline or fallback_at,
        fallback_at=fallback_at,
    )
    # The phone queue leaves the task alone until the fallback time (an appointment keeps its time).
    if task.appointment_at is None and (task.next_attempt_at is None or task.next_attempt_at < fallback_at):
        CallbackTask.objects.filter(pk=task.pk).update(next_attempt_at=fallback_at, updated_at=now)
    url = links.link_url(token)
    sms.send(link=link, template=sms.LINK_TEMPLATE, context={"link": url}, event="link")
    record_audit(
        user=by,
        action="ecallback_offered",
        obj=link,
        detail={"task": task.pk, "fallback_at": fallback_at.isoformat()},
    )
    return link


def send_to_phone_queue(*, link: ECallbackLink, now: dt.datetime, status: str) -> None:
    """The link stops being the way (locked, fallen back): the task is due for a call now."""
    ECallbackLink.objects.filter(pk=link.pk).update(status=status)
    CallbackTask.objects.filter(
        pk=link.task_id, status=TaskStatus.OPEN, appointment_at__isnull=True, next_attempt_at__gt=now
    ).update(next_attempt_at=now, updated_at=now)
    link.status = status
