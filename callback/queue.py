"""The agents' queue: claim the most urgent due task, hold it under a lease (queue issue).

STUB with the final signatures; the queue issue replaces the bodies.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .models import CallbackTask, TaskStatus

LEASE = dt.timedelta(minutes=15)


@transaction.atomic
def claim_next_task(*, agent) -> CallbackTask | None:
    """The next task for `agent`, leased to them; None when nothing is due."""
    now = timezone.now()
    held = CallbackTask.objects.filter(holder=agent, lease_expires_at__gt=now).first()
    if held:
        return held
    task = (
        CallbackTask.objects.select_for_update(skip_locked=True)
        .filter(status=TaskStatus.OPEN, next_attempt_at__lte=now, holder__isnull=True)
        .order_by("deadline", "attempts", "created_at")
        .first()
    )
    if task is None:
        return None
    task.holder, task.lease_expires_at = agent, now + LEASE
    task.save(update_fields=["holder", "lease_expires_at", "updated_at"])
    return task


def renew_lease(*, task: CallbackTask, agent) -> bool:
    """Extend the lease while the agent works; False when the agent no longer holds the task."""
    now = timezone.now()
    return bool(
        CallbackTask.objects.filter(pk=task.pk, holder=agent, lease_expires_at__gt=now).update(
            lease_expires_at=now + LEASE
        )
    )


def release_task(*, task: CallbackTask, agent) -> bool:
    """Give the task back to the queue untouched."""
    return bool(
        CallbackTask.objects.filter(pk=task.pk, holder=agent).update(holder=None, lease_expires_at=None)
    )
