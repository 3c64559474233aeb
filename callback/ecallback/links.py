"""Links: an unguessable token per task, stored as its sha256, live until the window closes or the
task is closed. An unknown, expired, used or closed link is simply not found: the page says nothing
about why, so a guesser learns nothing."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ..models import ECallbackLink, TaskStatus
from ..models.ecallback import LIVE_LINK_STATUSES

TOKEN_BYTES = 32  # 256 bits: not guessable, not enumerable


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(token: str) -> str:
    """The absolute address sent by SMS (PUBLIC_BASE_URL in production, the demo server otherwise)."""
    base = settings.PUBLIC_BASE_URL or settings.ECALLBACK_DEV_BASE_URL
    return base + reverse("ecallback_start", args=[token])


def is_open(link: ECallbackLink, *, now: dt.datetime) -> bool:
    task = link.task
    return link.status in LIVE_LINK_STATUSES and link.expires_at > now and task.status == TaskStatus.OPEN


def find_link(token: str, *, now: dt.datetime | None = None, statuses=None) -> ECallbackLink | None:
    """The live link of `token`, or None for anything else (forged, expired, used, task closed)."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        return None
    link = (
        ECallbackLink.objects.select_related("task__policy", "attempt")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if link is None:
        return None
    if statuses is not None:
        return link if link.status in statuses else None
    return link if is_open(link, now=now) else None
