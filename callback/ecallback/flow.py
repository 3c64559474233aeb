"""The applicant's e-callback, step by step: offer (link SMS), identity (SMS code + id or birth date),
answers to the published script, signature (second SMS code), or "I'd rather be called".

Every step is audited; the attempt is a CallAttempt of channel `ecallback` without an agent, closed
by the one closing service (callback/outcomes.py) like any call.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import scripts
from verification.models import Question, ScriptVersion
from verification.vocab import Outcome

from .. import outcomes
from ..audit import record_audit
from ..models import CallAttempt, CallbackTask, Channel, CodePurpose, ECallbackLink, LinkStatus, TaskStatus
from ..queue import TaskNotHeld
from ..schedule import CallingHours, load_holidays
from ..script_for_policy import identity_reference, script_context, version_for_policy
from . import codes, links, rules, sms

IDENTITY_METHODS = ("id_last6", "birth_date")


class ECallbackError(ValueError):
    """A step the applicant cannot take now; the message (translated) says why and what to do."""


@dataclass
class Proof:
    """What an identity attempt came to."""

    ok: bool
    locked: bool = False
    message: str = ""


def _audit(link: ECallbackLink, action: str, *, ip: str | None = None, **detail: Any) -> None:
    record_audit(
        user=None, action=f"ecallback_{action}", obj=link, detail={"task": link.task_id, **detail}, ip=ip
    )


def _lock_link(link: ECallbackLink) -> ECallbackLink:
    return (
        ECallbackLink.objects.select_for_update(of=("self",))
        .select_related("task__policy", "attempt")
        .get(pk=link.pk)
    )


# ---------------------------------------------------------------- offer


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


# ---------------------------------------------------------------- identity


@transaction.atomic
def send_code(
    *, link: ECallbackLink, purpose: str, ip: str | None = None, now: dt.datetime | None = None
) -> None:
    """Send a fresh SMS code to the mobile on file; codes.CodeRateLimited when it is too soon."""
    now = now or timezone.now()
    link = _lock_link(link)
    settings_row = rules.current_settings()
    row, code = codes.issue(link=link, purpose=purpose, minutes=settings_row.code_minutes, now=now)
    sms.send(
        link=link,
        template=sms.CODE_TEMPLATE,
        context={"code": code, "minutes": settings_row.code_minutes},
        event=f"code:{row.pk}",
    )
    _audit(link, "code_sent", ip=ip, purpose=purpose)


def _wrong_try(link: ECallbackLink, *, now: dt.datetime, ip: str | None, step: str) -> Proof:
    link.failed_tries += 1
    ECallbackLink.objects.filter(pk=link.pk).update(failed_tries=link.failed_tries)
    limit = rules.current_settings().max_wrong_codes
    _audit(link, "wrong_code", ip=ip, step=step, tries=link.failed_tries)
    if link.failed_tries >= limit:
        send_to_phone_queue(link=link, now=now, status=LinkStatus.LOCKED)
        _audit(link, "locked", ip=ip, tries=link.failed_tries)
        return Proof(ok=False, locked=True)
    return Proof(
        ok=False,
        message=_("The code or the identity details do not match. %(left)s tries left.")
        % {"left": limit - link.failed_tries},
    )


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
    link = _lock_link(link)
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
        return _wrong_try(link, now=now, ip=ip, step="identity")
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
    _audit(link, "identified", ip=ip, method=link.identity_method, user_agent=user_agent[:200])
    return Proof(ok=True)


# ---------------------------------------------------------------- the script as a form


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


def _version_questions(version: ScriptVersion | None) -> list[Question]:
    return list(version.questions.order_by("order")) if version else []


@transaction.atomic
def submit_answers(
    *, link: ECallbackLink, data, ip: str | None, now: dt.datetime | None = None
) -> tuple[str, list[FormQuestion]]:
    """Judge the applicant's answers. Returns ("errors", questions with messages), ("sign", …) when every
    answer passed (a signature code is sent) or ("review", …) when one did not: a specialist calls."""
    now = now or timezone.now()
    link = _lock_link(link)
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
    version_questions = _version_questions(attempt.script_version)
    entries += _unexplained(version_questions, entries, now=now)
    identity = [a for a in attempt.answers if a.get("key") not in {e["key"] for e in entries}]
    order = {q.key: i for i, q in enumerate(version_questions)}
    attempt.answers = sorted(identity + entries, key=lambda a: order.get(a.get("key"), 999))
    attempt.save(update_fields=["answers"])
    state = scripts.walk(version_questions, attempt.answers)
    _audit(
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
    _close(
        link=link,
        attempt=attempt,
        outcome=state.ended_with or Outcome.VERIFIED_WITH_ISSUES,
        now=now,
        note=_("E-callback: the applicant's answers need a specialist's call."),
    )
    ECallbackLink.objects.filter(pk=link.pk).update(status=LinkStatus.REVIEW, completed_at=now)
    _audit(link, "to_review", ip=ip)
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


def _close(
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


# ---------------------------------------------------------------- signature


@transaction.atomic
def sign(
    *, link: ECallbackLink, code: str, ip: str | None, user_agent: str, now: dt.datetime | None = None
) -> Proof:
    """The second SMS code is the applicant's signature: the e-callback closes as verified."""
    now = now or timezone.now()
    link = _lock_link(link)
    if link.status != LinkStatus.IDENTIFIED or link.attempt is None or not link.answered_at:
        raise ECallbackError(_("This step is already done."))
    if not codes.consume(link=link, purpose=CodePurpose.SIGNATURE, code=code, now=now):
        return _wrong_try(link, now=now, ip=ip, step="signature")
    attempt = CallAttempt.objects.select_for_update().get(pk=link.attempt_id)
    _close(
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
    _audit(link, "signed", ip=ip, user_agent=user_agent[:200])
    return Proof(ok=True)


# ---------------------------------------------------------------- "I'd rather be called"


@transaction.atomic
def request_call(
    *, link: ECallbackLink, at: dt.datetime, ip: str | None, user_agent: str, now: dt.datetime | None = None
) -> CallAttempt:
    """The applicant picks a time: an appointment in the phone queue (the closing service checks it is
    in calling hours and inside the window)."""
    now = now or timezone.now()
    link = _lock_link(link)
    attempt = link.attempt
    if attempt is None or attempt.outcome:
        attempt = CallAttempt.objects.create(
            task=link.task,
            channel=Channel.ECALLBACK,
            agent=None,
            number_dialled=link.mobile,
            notes=_("E-callback from %(ip)s, %(device)s") % {"ip": ip or "?", "device": user_agent[:200]},
        )
    closed = _close(
        link=link,
        attempt=attempt,
        outcome=Outcome.CALLBACK_REQUESTED,
        now=now,
        appointment_at=at,
        note=_("The applicant asked to be called instead of the e-callback."),
    )
    ECallbackLink.objects.filter(pk=link.pk).update(status=LinkStatus.CALL_REQUESTED, attempt=closed)
    _audit(link, "call_requested", ip=ip, at=at.isoformat())
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


def policy_summary(link: ECallbackLink) -> list[tuple[str, str]]:
    """What the applicant sees of their policy once identity is proven (their own data, phones masked)."""
    policy, task = link.task.policy, link.task
    context = script_context(policy=policy, task=task)
    return [
        (_("Policy number"), policy.policy_no),
        (_("Product"), f"{policy.product_name}（{context['product_type']}）"),
        (
            _("Premium"),
            _("CNY %(premium)s, %(frequency)s, %(years)s years")
            % {
                "premium": context["premium"] or "—",
                "frequency": context["payment_frequency"] or "—",
                "years": context["payment_years"] or "—",
            },
        ),
        (_("Term"), context["term"] or "—"),
        (_("Salesperson"), f"{policy.agent_name} {policy.agent_code}".strip() or "—"),
        (_("Receipt signed"), context["receipt_date"] or "—"),
        (_("Free-look period ends"), context["free_look_end"] or "—"),
    ]


def disclosures(link: ECallbackLink) -> list[str]:
    """The free-look and risk disclosures the applicant must scroll through before answering."""
    context = script_context(policy=link.task.policy, task=link.task)
    paragraphs = [
        _(
            "Free-look period: you have %(days)s days from the day after you signed the policy receipt, "
            "until %(end)s. If you cancel the policy within this period, the premium you paid is refunded, "
            "less at most a small cost of the policy."
        )
        % {"days": context["free_look_days"] or "——", "end": context["free_look_end"] or "——"},
        _(
            "After the free-look period, cancelling the policy (surrender) refunds only its cash value, "
            "which in the first years can be much less than the premiums paid: you may lose money."
        ),
        _(
            "This is an insurance policy, not a bank deposit, a bank wealth-management product or a fund. "
            "Its premium is paid for %(years)s years as agreed; missing payments can end the cover."
        )
        % {"years": context["payment_years"] or "——"},
    ]
    if link.task.policy.product_type in ("participating", "universal", "investment_linked"):
        paragraphs.append(
            _(
                "Dividends, credited interest and investment returns are not guaranteed: the amounts shown "
                "by the salesperson are illustrations, and the return can be lower, or a loss."
            )
        )
    paragraphs.append(
        _(
            "If anything was explained to you differently, answer “no” below: "
            "a callback specialist will call you."
        )
    )
    return paragraphs
