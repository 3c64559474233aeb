"""The published script as the applicant's form: the answers judged, then the signature (a second SMS
code) when every one passed, or a specialist's call when one did not."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import scripts
from verification.models import Question
from verification.vocab import Outcome

from .. import outcomes
from ..models import CallAttempt, CodePurpose, ECallbackLink, LinkStatus
from ..script_for_policy import script_context
from . import codes, sms
from .steps import ECallbackError, Proof, audit_step, close_online, lock_link, send_code, wrong_try


@dataclass
class FormQuestion:
    question: Question
    text: str
    choices: list[str] = field(default_factory=list)
    error: str = ""
    value: str = ""


def _context(link: ECallbackLink) -> dict[str, str]:
    context = script_context(policy=link.task.policy, task=link.task)
    context["caller_name"] = sms.insurer_name()
    return context


def form_questions(link: ECallbackLink) -> list[FormQuestion]:
    """The script's main questions the applicant answers (identity was proven by the SMS step;
    follow-ups are an agent's explanations and are not shown)."""
    version = link.attempt.script_version if link.attempt else None
    if version is None:
        return []
    context = _context(link)
    return [
        FormQuestion(
            question=q, text=scripts.render(q.text_zh, context), choices=[str(c) for c in q.choices or []]
        )
        for q in version.questions.order_by("order")
        if q.kind != "identity" and not q.is_follow_up
    ]


@transaction.atomic
def submit_answers(
    *, link: ECallbackLink, data, ip: str | None, now: dt.datetime | None = None
) -> tuple[str, list[FormQuestion]]:
    """Judge the applicant's answers. Returns ("errors", questions with messages), ("sign", …) when every
    answer passed (a signature code is sent) or ("review", …) when one did not: a specialist calls."""
    now = now or timezone.now()
    link = lock_link(link)
    if link.status != LinkStatus.IDENTIFIED or link.attempt is None or link.answered_at:
        raise ECallbackError(_("This step is already done."))
    questions = form_questions(link)
    entries, errors = [], False
    for item in questions:
        item.value = str(data.get(f"q_{item.question.key}", "") or "")[:1000]
        try:
            evaluation = scripts.evaluate(item.question, item.value)
        except scripts.ScriptError as exc:
            if item.question.required or item.value:
                item.error, errors = exc.messages[0], True
            continue
        entries.append(
            {
                "key": item.question.key,
                "text": item.text,
                "answer": evaluation.value,
                "passed": evaluation.passed,
                "reason": evaluation.reason,
                "at": now.isoformat(timespec="seconds"),
            }
        )
    if not data.get("disclosures_read"):
        errors = True
    if errors:
        return "errors", questions
    attempt = CallAttempt.objects.select_for_update().get(pk=link.attempt_id)
    version_questions = outcomes.questions_of(attempt.script_version)
    entries += _unexplained(version_questions, entries, now=now)
    identity = [a for a in attempt.answers if a.get("key") not in {e["key"] for e in entries}]
    order = {q.key: i for i, q in enumerate(version_questions)}
    attempt.answers = sorted(identity + entries, key=lambda a: order.get(a.get("key"), 999))
    attempt.save(update_fields=["answers"])
    state = scripts.walk(version_questions, attempt.answers)
    audit_step(
        link,
        "answered",
        ip=ip,
        passed=state.all_passed,
        issues=[e["key"] for e in entries if not e["passed"]],
    )
    if state.all_passed:
        ECallbackLink.objects.filter(pk=link.pk).update(answered_at=now)
        try:
            send_code(link=link, purpose=CodePurpose.SIGNATURE, ip=ip, now=now)
        except codes.CodeRateLimited:
            pass  # the signature page offers to send it again
        return "sign", questions
    # Any "no" is a case for a callback specialist; the script's own rule names the outcome (an answer
    # that ends the script ends it here too), else "verified with issues" sends it to review.
    close_online(
        link=link,
        attempt=attempt,
        outcome=state.ended_with or Outcome.VERIFIED_WITH_ISSUES,
        now=now,
        note=_("E-callback: the applicant's answers need a specialist's call."),
    )
    ECallbackLink.objects.filter(pk=link.pk).update(status=LinkStatus.REVIEW, completed_at=now)
    audit_step(link, "to_review", ip=ip)
    return "review", questions


def _unexplained(questions: list[Question], entries: list[dict], *, now: dt.datetime) -> list[dict]:
    """The follow-ups of failed answers, recorded as not cleared: on the phone the agent explains and
    asks again; online nobody can, so the failure stands and a specialist calls (said so in the text)."""
    by_key = {q.key: q for q in questions}
    added = []
    for entry in entries:
        question = by_key.get(entry["key"])
        if entry["passed"] or question is None or question.on_fail != "follow_up":
            continue
        follow_up = by_key.get(question.follow_up_key)
        if follow_up is None:
            continue
        added.append(
            {
                "key": follow_up.key,
                "text": _("(E-callback: nobody could explain online; a callback specialist will call.)"),
                "answer": "no",
                "passed": False,
                "reason": _("Not explained online."),
                "at": now.isoformat(timespec="seconds"),
            }
        )
    return added


@transaction.atomic
def sign(
    *, link: ECallbackLink, code: str, ip: str | None, user_agent: str, now: dt.datetime | None = None
) -> Proof:
    """The second SMS code is the applicant's signature: the e-callback closes as verified."""
    now = now or timezone.now()
    link = lock_link(link)
    if link.status != LinkStatus.IDENTIFIED or link.attempt is None or not link.answered_at:
        raise ECallbackError(_("This step is already done."))
    if not codes.consume(link=link, purpose=CodePurpose.SIGNATURE, code=code, now=now):
        return wrong_try(link, now=now, ip=ip, step="signature")
    attempt = CallAttempt.objects.select_for_update().get(pk=link.attempt_id)
    close_online(
        link=link,
        attempt=attempt,
        outcome=Outcome.VERIFIED,
        now=now,
        note=_("Signed with an SMS code from %(ip)s, %(device)s")
        % {"ip": ip or "?", "device": user_agent[:200]},
    )
    ECallbackLink.objects.filter(pk=link.pk).update(
        status=LinkStatus.COMPLETED, signed_at=now, completed_at=now
    )
    audit_step(link, "signed", ip=ip, user_agent=user_agent[:200])
    return Proof(ok=True)
