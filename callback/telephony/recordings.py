"""Recordings kept as the callback's evidence: a CTI's reference, and deletion after the retention period."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import CallAttempt, Recording
from ..models.telephony import RecordingStatus
from .backends import TelephonyError, get_backend

log = logging.getLogger("callback.telephony")


class RecordingTaken(ValueError):
    """The recording id is already kept with another attempt."""


@transaction.atomic
def attach_cti_recording(
    *, attempt: CallAttempt, sid: str, url: str = "", duration_seconds: int | None = None
) -> Recording:
    """Keep the reference of a recording a CTI made on its own (the API's attempt endpoint)."""
    existing = Recording.objects.filter(sid=sid).first()
    if existing is not None:
        if existing.attempt_id != attempt.pk:
            raise RecordingTaken(sid)
        return existing
    return Recording.objects.create(
        attempt=attempt,
        sid=sid,
        source="cti",
        url=url,
        duration_seconds=duration_seconds,
        status=RecordingStatus.COMPLETED,
    )


def delete_expired_recordings(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Delete recordings older than RECORDING_RETENTION_DAYS at Twilio and mark them deleted here.

    A job (callback/cron.py, daily); idempotent: a recording Twilio no longer has counts as deleted,
    one Twilio fails on stays as it is for the next run. CTI recordings live in the CTI: only marked.
    """
    days = settings.RECORDING_RETENTION_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    expired = Recording.objects.filter(created_at__lt=now - dt.timedelta(days=days)).exclude(
        status=RecordingStatus.DELETED
    )
    deleted = 0
    for recording in expired.order_by("created_at")[:limit]:
        if recording.source != "cti":
            try:
                get_backend(recording.source).delete_recording(recording.sid)
            except TelephonyError as exc:
                log.warning("recording %s not deleted at %s: %s", recording.sid, recording.source, exc)
                continue
        Recording.objects.filter(pk=recording.pk).update(
            status=RecordingStatus.DELETED, deleted_at=now, url=""
        )
        deleted += 1
    return deleted


def recordings_of_tasks(task_ids: list[int]) -> dict[int, list[Recording]]:
    """{task id: its recordings, newest first}: what a supervisor plays beside a review."""
    found: dict[int, list[Recording]] = {}
    for recording in Recording.objects.filter(attempt__task_id__in=task_ids).select_related("attempt"):
        found.setdefault(recording.attempt.task_id, []).append(recording)
    return found


def calls_with_recordings(task, user) -> list[CallAttempt]:
    """The task's attempts with their recordings, for supervisors and admins only (policy page)."""
    from ..roles import ADMIN, SUPERVISOR, has_role

    if task is None or not has_role(user, SUPERVISOR, ADMIN):
        return []
    return list(
        task.call_attempts.select_related("agent").prefetch_related("recordings").order_by("-started_at")
    )
