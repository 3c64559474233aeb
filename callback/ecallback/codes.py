"""SMS codes: six digits, kept only as an HMAC (keyed by SECRET_KEY, salted with the link and the
purpose), short-lived, used once, rate-limited per link and per number."""

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils.translation import gettext as _

from ..models import ECallbackCode, ECallbackLink

# A new code at most once a minute per link, a handful a day per link and per number: enough for an
# applicant who mistyped, too few for anyone sending SMS to a stranger through our link.
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_PER_LINK_PER_DAY = 5
MAX_PER_NUMBER_PER_DAY = 10


class CodeRateLimited(Exception):
    """No code sent now; the message says when to try again."""


def _digest(link: ECallbackLink, purpose: str, code: str) -> str:
    message = f"{link.pk}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def check_rate(*, link: ECallbackLink, purpose: str, now: dt.datetime) -> None:
    day_ago = now - dt.timedelta(days=1)
    mine = ECallbackCode.objects.filter(link=link, created_at__gt=day_ago)
    if mine.filter(purpose=purpose, created_at__gt=now - RESEND_AFTER).exists():
        raise CodeRateLimited(_("A code was sent less than a minute ago: wait a moment before asking again."))
    if mine.count() >= MAX_PER_LINK_PER_DAY:
        raise CodeRateLimited(_("Too many codes today: try again tomorrow, or ask to be called."))
    if (
        ECallbackCode.objects.filter(mobile=link.mobile, created_at__gt=day_ago).count()
        >= MAX_PER_NUMBER_PER_DAY
    ):
        raise CodeRateLimited(_("Too many codes today: try again tomorrow, or ask to be called."))


def issue(*, link: ECallbackLink, purpose: str, minutes: int, now: dt.datetime) -> tuple[ECallbackCode, str]:
    """A fresh code for `purpose` (the earlier unused ones stop working); returns the row and the code."""
    check_rate(link=link, purpose=purpose, now=now)
    ECallbackCode.objects.filter(link=link, purpose=purpose, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(10**6):06d}"
    row = ECallbackCode.objects.create(
        link=link,
        purpose=purpose,
        code_hash=_digest(link, purpose, code),
        mobile=link.mobile,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
    )
    return row, code


def consume(*, link: ECallbackLink, purpose: str, code: str, now: dt.datetime) -> bool:
    """True (and the code is spent) when `code` is the live code of `purpose`."""
    code = "".join(ch for ch in str(code or "") if ch.isdigit())
    if len(code) != 6:
        return False
    live = (
        ECallbackCode.objects.filter(link=link, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if live is None or not hmac.compare_digest(live.code_hash, _digest(link, purpose, code)):
        return False
    spent = ECallbackCode.objects.filter(pk=live.pk, used_at__isnull=True).update(used_at=now)
    return spent == 1
