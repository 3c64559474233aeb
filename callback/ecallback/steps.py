"""What every step of the applicant's e-callback shares: its errors, the audit, the locked link, the
SMS codes (sent, and wrong ones counted until the link locks) and the closing through the one closing
service (callback/outcomes.py), like any call."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import outcomes
from ..audit import record_audit
from ..models import CallAttempt, Channel, ECallbackLink, LinkStatus
from ..queue import TaskNotHeld
from . import codes, rules, sms
from .offer import send_to_phone_queue


class ECallbackError(ValueError):
    """A step the applicant cannot take now; the message (translated) says why and what to do."""


@dataclass
class Proof:
    """What an identity attempt came to."""

    ok: bool
    locked: bool = False
    message: str = ""


def audit_step(link: ECallbackLink, action: str, *, ip: str | None = None, **detail: Any) -> None:
    record_audit(
        user=None, action=f"ecallback_{action}", obj=link, detail={"task": link.task_id, **detail}, ip=ip
    )


def lock_link(link: ECallbackLink) -> ECallbackLink:
    return (
        ECallbackLink.objects.select_for_update(of=("self",))
        .select_related("task__policy", "attempt")
        .get(pk=link.pk)
    )


@transaction.atomic
def send_code(
    *, link: ECallbackLink, purpose: str, ip: str | None = None, now: dt.datetime | None = None
) -> None:
    """Send a fresh SMS code to the mobile on file; codes.CodeRateLimited when it is too soon."""
    now = now or timezone.now()
    link = lock_link(link)
    settings_row = rules.current_settings()
    row, code = codes.issue(link=link, purpose=purpose, minutes=settings_row.code_minutes, now=now)
    sms.send(
        link=link,
        template=sms.CODE_TEMPLATE,
        context={"code": code, "minutes": settings_row.code_minutes},
        event=f"code:{row.pk}",
    )
    audit_step(link, "code_sent", ip=ip, purpose=purpose)


def wrong_try(link: ECallbackLink, *, now: dt.datetime, ip: str | None, step: str) -> Proof:
    link.failed_tries += 1
    ECallbackLink.objects.filter(pk=link.pk).update(failed_tries=link.failed_tries)
    limit = rules.current_settings().max_wrong_codes
    audit_step(link, "wrong_code", ip=ip, step=step, tries=link.failed_tries)
    if link.failed_tries >= limit:
        send_to_phone_queue(link=link, now=now, status=LinkStatus.LOCKED)
        audit_step(link, "locked", ip=ip, tries=link.failed_tries)
        return Proof(ok=False, locked=True)
    return Proof(
        ok=False,
        message=_("The code or the identity details do not match. %(left)s tries left.")
        % {"left": limit - link.failed_tries},
    )


def close_online(
    *,
    link: ECallbackLink,
    attempt: CallAttempt,
    outcome: str,
    now: dt.datetime,
    note: str = "",
    appointment_at: dt.datetime | None = None,
) -> CallAttempt:
    try:
        return outcomes.close_attempt(
            task=link.task,
            agent=None,
            outcome=outcome,
            channel=Channel.ECALLBACK,
            number_dialled=link.mobile,
            notes="\n".join(filter(None, [attempt.notes, note])),
            appointment_at=appointment_at,
            attempt=attempt,
            now=now,
        )
    except TaskNotHeld as exc:
        raise ECallbackError(_("A callback specialist is handling your policy right now.")) from exc
    except outcomes.AttemptError as exc:
        raise ECallbackError(str(exc)) from exc
