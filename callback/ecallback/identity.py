"""The applicant proves who they are: an SMS code with the id number's last six or the birth date,
checked together (the page never says which failed); the proof opens the e-callback's attempt."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import scripts
from verification.models import Question

from ..models import CallAttempt, Channel, CodePurpose, ECallbackLink, LinkStatus
from ..script_for_policy import identity_reference, version_for_policy
from . import codes
from .steps import Proof, audit_step, lock_link, wrong_try

IDENTITY_METHODS = ("id_last6", "birth_date")


def _identity_entry(
    question: Question, *, method: str, evaluation: scripts.Evaluation, now: dt.datetime
) -> dict:
    value = dict(evaluation.value)
    value["method"] = f"sms_code+{method}"
    return {
        "key": question.key,
        "text": scripts.render(question.text_zh, {}),
        "answer": value,
        "passed": evaluation.passed,
        "reason": "",
        "at": now.isoformat(timespec="seconds"),
    }


@transaction.atomic
def prove_identity(
    *,
    link: ECallbackLink,
    code: str,
    method: str,
    value: str,
    ip: str | None,
    user_agent: str,
    now: dt.datetime | None = None,
) -> Proof:
    """Check the SMS code and the id tail or birth date together (the page never says which failed)."""
    now = now or timezone.now()
    link = lock_link(link)
    if link.status == LinkStatus.IDENTIFIED:
        return Proof(ok=True)
    if method not in IDENTITY_METHODS:
        return Proof(ok=False, message=_("Choose how to prove who you are."))
    reference = identity_reference(link.task.policy)
    try:
        evaluation = scripts.check_identity(
            stated={method: value},
            birth_date=reference["birth_date"],
            id_no=reference["id_no"],
            parts=[method],
        )
    except scripts.ScriptError as exc:
        return Proof(ok=False, message=exc.messages[0])
    code_ok = codes.consume(link=link, purpose=CodePurpose.IDENTITY, code=code, now=now)
    if not (code_ok and evaluation.passed):
        return wrong_try(link, now=now, ip=ip, step="identity")
    version = version_for_policy(link.task.policy)
    answers = [
        _identity_entry(q, method=method, evaluation=evaluation, now=now)
        for q in (version.questions.filter(kind="identity") if version else [])
    ]
    notes = _("E-callback from %(ip)s, %(device)s") % {"ip": ip or "?", "device": user_agent[:200]}
    attempt = link.attempt
    if attempt is not None and not attempt.outcome:  # back after a fallback: the same open attempt
        attempt.answers, attempt.notes, attempt.script_version = answers, notes, version
        attempt.save(update_fields=["answers", "notes", "script_version"])
    else:
        attempt = CallAttempt.objects.create(
            task=link.task,
            channel=Channel.ECALLBACK,
            agent=None,
            number_dialled=link.mobile,
            script_version=version,
            answers=answers,
            notes=notes,
        )
    link.status, link.attempt, link.answered_at = LinkStatus.IDENTIFIED, attempt, None
    link.identity_method, link.identified_at = f"sms_code+{method}", now
    link.ip, link.user_agent = ip, user_agent[:400]
    link.save(
        update_fields=[
            "status",
            "attempt",
            "answered_at",
            "identity_method",
            "identified_at",
            "ip",
            "user_agent",
        ]
    )
    audit_step(link, "identified", ip=ip, method=link.identity_method, user_agent=user_agent[:200])
    return Proof(ok=True)
