"""Demo step: call attempts with scripts, answers and outcomes.

A few callbacks already worked with the default script: one verified after an earlier no-answer, one
verified with issues (the customer did not understand the payment years), one no-answer. Demo
attempts carry `call_sid` "demo-…", which is how a second run recognises them.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from verification.vocab import Outcome

from .. import outcomes
from ..models import CallAttempt, CallbackTask, Policy, Queue, TaskStatus
from ..queue import lease_length
from ..script_for_policy import version_for_policy

DEMO_TASKS = 3


def _demo_tasks() -> list[CallbackTask]:
    """Tasks to work, made for a few demo policies when the queue step has not made any."""
    tasks = list(
        CallbackTask.objects.filter(policy__receipt_date__isnull=False)
        .select_related("policy")
        .order_by("policy__policy_no")[:20]
    )
    if tasks:
        return tasks
    queue = Queue.objects.filter(is_default=True).first()
    for policy in Policy.objects.filter(in_scope=True, receipt_date__isnull=False).order_by("policy_no")[:12]:
        start = policy.receipt_date + dt.timedelta(days=1)
        CallbackTask.objects.get_or_create(
            policy=policy,
            defaults=dict(
                queue=queue,
                status=TaskStatus.OPEN,
                window_start=start,
                window_end=start + dt.timedelta(days=14),
                next_attempt_at=timezone.now() - dt.timedelta(hours=1),
            ),
        )
    return list(
        CallbackTask.objects.filter(policy__receipt_date__isnull=False)
        .select_related("policy")
        .order_by("policy__policy_no")[:20]
    )


def _record(*, task, agent, outcome, answers, version, notes, sid, ago: dt.timedelta) -> None:
    number = task.policy.applicant.mobile if task.policy.applicant else ""
    # The agent took this callback from the queue: hold it as a claim would.
    CallbackTask.objects.filter(pk=task.pk).update(
        holder=agent, lease_expires_at=timezone.now() + lease_length()
    )
    task.refresh_from_db()
    attempt = CallAttempt(
        task=task,
        agent=agent,
        script_version=version,
        telephony_backend="manual",
        call_status="dialled",
        call_sid=sid,
        answers=answers,
    )
    outcomes.close_attempt(
        task=task,
        agent=agent,
        outcome=outcome,
        number_dialled=number,
        notes=notes,
        attempt=attempt,
    )
    at = timezone.now() - ago
    CallAttempt.objects.filter(pk=attempt.pk).update(started_at=at - dt.timedelta(minutes=6), ended_at=at)


@transaction.atomic
def seed(users) -> None:
    if CallAttempt.objects.filter(call_sid__startswith="demo-").exists():
        return
    agent, agent2 = users["agent"], users["agent2"]
    worked = []
    # Calls made up to a day ago: only on policies whose receipt was signed before that (a call before
    # the receipt would show as a negative time "receipt → first call" in the statistics).
    signed_by = timezone.localdate() - dt.timedelta(days=2)
    for task in _demo_tasks():
        version = version_for_policy(task.policy)
        receipt = task.policy.receipt_date
        fresh = task.status == TaskStatus.OPEN and not task.call_attempts.exists()
        if version and fresh and receipt and receipt <= signed_by:
            worked.append((task, version))
        if len(worked) == DEMO_TASKS:
            break
    plans = [
        # (agent, outcome, overrides, notes)
        (agent, Outcome.VERIFIED, {}, "客户确认本人投保，已了解犹豫期权利。"),
        (
            agent2,
            Outcome.VERIFIED_WITH_ISSUES,
            {"premium_understood": "no", "premium_understood_explained": "no"},
            "客户对交费年期不清楚，解释后仍有疑问，请主管复核。",
        ),
        (agent, Outcome.NO_ANSWER, None, "响铃无人接听。"),
    ]
    for (task, version), (who, outcome, overrides, notes) in zip(worked, plans, strict=False):
        policy_no = task.policy.policy_no
        if outcome == Outcome.VERIFIED:
            _record(
                task=task,
                agent=who,
                outcome=Outcome.NO_ANSWER,
                answers=[],
                version=version,
                notes="无人接听，稍后再拨。",
                sid=f"demo-{policy_no}-1",
                ago=dt.timedelta(days=1, hours=2),
            )
            task.refresh_from_db()
        answers = (
            []
            if overrides is None
            else outcomes.confirming_answers(
                task=task, version=version, caller=who, overrides=overrides
            ).judged
        )
        _record(
            task=task,
            agent=who,
            outcome=outcome,
            answers=answers,
            version=version,
            notes=notes,
            sid=f"demo-{policy_no}-2",
            ago=dt.timedelta(hours=3),
        )
