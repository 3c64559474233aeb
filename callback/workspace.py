"""An agent's call, from "Next callback" to its outcome: the open attempt, answers, dialling, closing.

Answers are written to the open CallAttempt as they are given (a crashed browser loses nothing);
closing hands the attempt to `outcomes.close_attempt`, which checks the script and moves the task on.
The script's rules (what passes, branching, what may be closed as verified) come from
`verification.scripts`.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import scripts
from verification.models import Question, ScriptVersion
from verification.vocab import Outcome

from . import outcomes, queue, telephony
from .models import CallAttempt, CallbackTask, Party
from .privacy import mask_address, mask_phone
from .script_for_policy import script_context, version_for_task


class CallError(ValidationError):
    """Something the agent asked for that cannot be done; the message says why."""


@dataclass
class TakeResult:
    task: CallbackTask | None
    without_script: str = ""  # the policy number of a claimed task no script covers (released again)


def held_tasks(agent):
    """The agent's task under a live lease, with what the workspace shows of it."""
    return (
        CallbackTask.objects.filter(holder=agent, lease_expires_at__gt=timezone.now())
        .select_related("policy")
        .prefetch_related(Prefetch("policy__parties", queryset=Party.objects.applicants()))
    )


def open_attempt_for(*, task: CallbackTask, agent) -> CallAttempt | None:
    return CallAttempt.objects.open_for(task=task, agent=agent).first()


def take_next(*, agent) -> TakeResult:
    """Claim the next callback and open an attempt on the script that covers it."""
    task, version, skipped = queue.claim_scripted_task(agent=agent)
    if task is None:
        return TakeResult(None, without_script=skipped)
    with transaction.atomic():
        if open_attempt_for(task=task, agent=agent) is None:
            CallAttempt.objects.create(task=task, agent=agent, script_version=version)
    return TakeResult(task)


def _lock_held(*, task_id: int, agent) -> CallbackTask:
    task = CallbackTask.objects.select_for_update().select_related("policy").filter(pk=task_id).first()
    if task is None or task.holder_id != agent.pk:
        raise CallError(_("This callback is no longer yours: press “Next callback”."))
    return task


def _attempt(task: CallbackTask, agent) -> CallAttempt:
    attempt = CallAttempt.objects.select_for_update().open_for(task=task, agent=agent).first()
    if attempt is None:  # e.g. the task was claimed before the workspace existed
        attempt = CallAttempt.objects.create(task=task, agent=agent, script_version=version_for_task(task))
    if attempt.script_version_id is None:
        raise CallError(_("No published script covers this policy."))
    return attempt


questions_of = outcomes.questions_of


@transaction.atomic
def save_answer(*, task_id: int, agent, key: str, answer) -> CallAttempt:
    """Judge and store one answer on the open attempt, with the exact text that was read."""
    task = _lock_held(task_id=task_id, agent=agent)
    attempt = _attempt(task, agent)
    questions = questions_of(attempt.script_version)
    question = next((q for q in questions if q.key == key), None)
    if question is None:
        raise CallError(_("This script has no such question."))
    try:
        entry = outcomes.judge_answer(task=task, question=question, answer=answer, caller=agent)
    except scripts.ScriptError as exc:
        raise CallError(exc.messages) from exc
    attempt.answers = outcomes.merge_answers(questions, attempt.answers, entry)
    attempt.save(update_fields=["answers"])
    return attempt


@transaction.atomic
def save_notes(*, task_id: int, agent, notes: str) -> CallAttempt:
    attempt = _attempt(_lock_held(task_id=task_id, agent=agent), agent)
    attempt.notes = (notes or "")[:4000]
    attempt.save(update_fields=["notes"])
    return attempt


@transaction.atomic
def mark_dialled(*, task_id: int, agent, which: str) -> str:
    """Record that the agent dialled the applicant's `which` number ("mobile" or "phone") by hand."""
    task = _lock_held(task_id=task_id, agent=agent)
    applicant = task.policy.applicant
    number = getattr(applicant, which, "") if applicant and which in ("mobile", "phone") else ""
    if not number:
        raise CallError(_("The policy has no such number."))
    attempt = _attempt(task, agent)
    attempt.number_dialled, attempt.telephony_backend, attempt.call_status = number, "manual", "dialled"
    attempt.save(update_fields=["number_dialled", "telephony_backend", "call_status"])
    return number


@transaction.atomic
def close_call(
    *, task_id: int, agent, outcome: str, notes: str = "", appointment_at: dt.datetime | None = None
) -> CallAttempt:
    """Close the open attempt with `outcome` through `outcomes.close_attempt` (the script's rules)."""
    if outcome not in Outcome.values:
        raise CallError(_("Choose an outcome."))
    task = _lock_held(task_id=task_id, agent=agent)
    attempt = _attempt(task, agent)
    if outcome == Outcome.CALLBACK_REQUESTED:
        if appointment_at is None:
            raise CallError(_("Enter the time agreed with the customer for the next call."))
        if appointment_at <= timezone.now():
            raise CallError(_("The agreed time must be in the future."))
    else:
        appointment_at = None
    try:
        closed = outcomes.close_attempt(
            task=task,
            agent=agent,
            outcome=outcome,
            notes=notes,
            appointment_at=appointment_at,
            attempt=attempt,
        )
    except (outcomes.AttemptError, queue.TaskNotHeld) as exc:  # the script's rules, calling hours…
        raise CallError(str(exc)) from exc
    telephony.end_call_of_closed(attempt=closed)  # closing while still connected ends the call
    return closed


@transaction.atomic
def release(*, task_id: int, agent) -> None:
    """Give the callback back to the queue; the unfinished attempt is discarded."""
    task = _lock_held(task_id=task_id, agent=agent)
    unfinished = CallAttempt.objects.filter(task=task, agent=agent, outcome="", ended_at__isnull=True)
    for attempt in unfinished.exclude(call_sid=""):
        try:
            telephony.hang_up(attempt=attempt)
        except telephony.CallRefused:
            pass
    # An attempt whose call was placed is evidence (events, maybe a recording): ended, never deleted.
    unfinished.exclude(call_sid="").update(ended_at=timezone.now())
    unfinished.filter(call_sid="").delete()
    queue.release_task(task=task, agent=agent)


def heartbeat(*, task_id: int, agent) -> bool:
    """Renew the lease while the agent works; False when it was lost."""
    task = CallbackTask.objects.filter(pk=task_id).first()
    return bool(task) and queue.renew_lease(task=task, agent=agent)


# ---------------------------------------------------------------- what the workspace shows


@dataclass
class ScriptLine:
    """A question as the agent sees it: rendered text, choices with their shortcut keys, the answer."""

    question: Question
    text: str
    text_en: str
    state: str  # "answered", "current", "later"
    answer: Any = None
    passed: bool | None = None
    reason: str = ""
    choices: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class CallPage:
    task: CallbackTask
    attempt: CallAttempt | None
    version: ScriptVersion | None
    lines: list[ScriptLine]
    state: scripts.ScriptState
    earlier: list[CallAttempt]
    days_left: int | None = None
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (which, number) to dial by hand

    @property
    def dialled_masked(self) -> str:
        return mask_phone(self.attempt.number_dialled) if self.attempt else ""

    @property
    def ended_label(self) -> str:
        return Outcome(self.state.ended_with).label if self.state.ended_with in Outcome.values else ""


def script_lines(
    *, questions: list[Question], answers: list[dict], context: dict
) -> tuple[list, scripts.ScriptState]:
    """The script as read so far (answered + current question), then the main questions still ahead."""
    state = scripts.walk(questions, answers)
    on_path = {step.question.key for step in state.steps}
    lines = []
    for step in state.steps:
        entry = step.answer or {}
        lines.append(
            ScriptLine(
                question=step.question,
                text=entry.get("text") or scripts.render(step.question.text_zh, context),
                text_en=scripts.render(step.question.text_en, context),
                state="answered" if step.answer is not None else "current",
                answer=entry.get("answer"),
                passed=step.passed,
                reason=entry.get("reason", ""),
                choices=list(enumerate(step.question.choices or [], start=1)),
            )
        )
    if not state.ended_with:
        for question in questions:
            if question.key not in on_path and not question.is_follow_up:
                lines.append(
                    ScriptLine(
                        question=question,
                        text=scripts.render(question.text_zh, context),
                        text_en=scripts.render(question.text_en, context),
                        state="later",
                    )
                )
    return lines, state


def call_page(*, task: CallbackTask, agent) -> CallPage:
    """Everything the workspace shows for the agent's current callback, in a handful of queries."""
    attempts = list(
        task.call_attempts.select_related("agent", "script_version__script").order_by("-started_at")
    )
    attempt = next(
        (a for a in attempts if a.agent_id == agent.pk and not a.outcome and a.ended_at is None), None
    )
    version = attempt.script_version if attempt else version_for_task(task)
    questions = questions_of(version)
    context = script_context(policy=task.policy, task=task, caller=agent)
    lines, state = script_lines(
        questions=questions, answers=attempt.answers if attempt else [], context=context
    )
    earlier = [a for a in attempts if a is not attempt and (a.outcome or a.ended_at)]
    applicant = task.policy.applicant
    # With a telephony backend Huifang places the call and the agent sees the numbers masked; in
    # manual mode (TELEPHONY_BACKEND=manual) the agent dials by hand, so they are shown in full.
    shown = mask_phone if telephony.calling_by_backend() else str
    numbers = [
        (which, shown(getattr(applicant, which)))
        for which in ("mobile", "phone")
        if applicant and getattr(applicant, which)
    ]
    days_left = (task.window_end - timezone.localdate()).days if task.window_end else None
    return CallPage(
        task=task,
        attempt=attempt,
        version=version,
        lines=lines,
        state=state,
        earlier=earlier,
        days_left=days_left,
        numbers=numbers,
    )


def masked_summary(policy) -> list[tuple[str, str]]:
    """The short policy summary an agent sees: no id number, no birth date (the customer must state
    those in the identity check), phones masked."""
    applicant = policy.applicant
    rows = [
        (_("Product"), f"{policy.product_name}（{policy.get_product_type_display()}）"),
        (_("Channel"), policy.get_channel_display()),
        (
            _("Premium"),
            _("CNY %(premium)s, %(frequency)s, %(years)s years")
            % {
                "premium": f"{policy.premium:,.2f}" if policy.premium is not None else "—",
                "frequency": policy.get_payment_frequency_display(),
                "years": policy.payment_years or "—",
            },
        ),
        (
            _("Term"),
            _("whole life")
            if policy.whole_life
            else _("%(years)s years")
            % {"years": f"{policy.term_years.normalize():f}" if policy.term_years is not None else "—"},
        ),
        (_("Salesperson"), f"{policy.agent_name} {policy.agent_code}".strip()),
        (_("Branch"), policy.branch_name),
        (_("Receipt signed"), policy.receipt_date.isoformat() if policy.receipt_date else "—"),
    ]
    if applicant:
        age = scripts.age_on(applicant.birth_date, timezone.localdate())
        rows += [
            (
                _("Applicant"),
                f"{applicant.name} {applicant.get_gender_display()}"
                + (" " + _("%(age)s years old") % {"age": age} if age is not None else ""),
            ),
            (
                _("Id"),
                _("%(type)s (hidden: the customer states it)") % {"type": applicant.get_id_type_display()},
            ),
            (_("Mobile"), mask_phone(applicant.mobile) or "—"),
        ]
        if applicant.phone:
            rows.append((_("Landline"), mask_phone(applicant.phone)))
        rows.append((_("Address"), mask_address(applicant.address) or "—"))
    return rows
