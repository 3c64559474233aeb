"""Letters and visits after the move: sent, receipt returned and recorded, or lapsed (fallback issue).

A returned receipt carries the applicant's answers to the policy's script (ticked on the letter or
filled in at the visit). They are judged and the attempt is closed through the closing service of
`callback/outcomes.py`, under the same rules as a call: every required question answered, identity
confirmed before "verified".
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import outcomes
from ..audit import record_audit
from ..models import CallAttempt, DeliveryStatus, FallbackDelivery, TaskStatus


class ReceiptError(ValueError):
    """A receipt that cannot be recorded; the message says why."""


@transaction.atomic
def mark_sent(*, deliveries: Iterable[FallbackDelivery], by, now: dt.datetime | None = None) -> int:
    """Letters printed and posted (or visits made): their receipts are now outstanding."""
    now = now or timezone.now()
    ids = [d.pk for d in deliveries]
    return FallbackDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.TO_SEND).update(
        status=DeliveryStatus.SENT, sent_at=now, sent_by=by
    )


@transaction.atomic
def record_receipt(
    *,
    delivery: FallbackDelivery,
    by,
    returned_on: dt.date,
    scan_reference: str,
    answers: Mapping[str, Any],
    outcome: str,
    notes: str = "",
    request=None,
) -> CallAttempt:
    """Record a returned receipt and close its attempt through the closing service."""
    delivery = (
        FallbackDelivery.objects.select_for_update()
        .select_related("attempt__task__policy")
        .get(pk=delivery.pk)
    )
    attempt = delivery.attempt
    if delivery.status not in (DeliveryStatus.TO_SEND, DeliveryStatus.SENT, DeliveryStatus.LAPSED):
        raise ReceiptError(_("This receipt is already recorded or the letter was cancelled."))
    if attempt.task.status != TaskStatus.FALLBACK:
        raise ReceiptError(_("This task is no longer on a fallback channel."))
    if returned_on > timezone.localdate():
        raise ReceiptError(_("The return date cannot be in the future."))
    if not scan_reference.strip():
        raise ReceiptError(_("Give the scan reference of the returned receipt."))
    if attempt.script_version is None:
        raise ReceiptError(_("No published script covers this policy."))
    attempt.agent = by  # who recorded the receipt stands for the staff member of the attempt
    try:
        outcomes.close_attempt(
            task=attempt.task,
            agent=by,
            outcome=outcome,
            channel=attempt.channel,
            answers=answers,
            notes=notes,
            attempt=attempt,
        )
    except (outcomes.AttemptError, outcomes.TaskNotHeld) as exc:
        raise ReceiptError(str(exc)) from exc
    delivery.status, delivery.returned_on = DeliveryStatus.RETURNED, returned_on
    delivery.scan_reference = scan_reference.strip()[:100]
    delivery.recorded_by, delivery.recorded_at = by, timezone.now()
    delivery.save()
    record_audit(
        user=by,
        action="fallback_receipt",
        obj=attempt.task,
        detail={"policy_no": attempt.task.policy.policy_no, "channel": attempt.channel, "outcome": outcome},
        request=request,
    )
    return attempt


def lapse_overdue(*, now: dt.datetime | None = None) -> int:
    """Receipts not back by their return deadline: lapsed (the attempt ends without an outcome)."""
    now = now or timezone.now()
    overdue = FallbackDelivery.objects.filter(
        status=DeliveryStatus.SENT, reply_by__lt=timezone.localdate(now)
    )
    ids = list(overdue.values_list("pk", flat=True))
    CallAttempt.objects.filter(delivery__pk__in=ids, ended_at__isnull=True).update(ended_at=now)
    return FallbackDelivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.LAPSED)
