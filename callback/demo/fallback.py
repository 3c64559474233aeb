"""Demo step: fallback rules, tasks waiting for a number, letters to print and posted, a returned
receipt, a branch visit list, and an SMS e-callback link sent to an applicant the phone never reached
(fallback issue). Idempotent: rules are get-or-create, the rules move each task once, and the calls,
letters and receipt are made only on the first run."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from verification.vocab import Gender, Outcome

from .. import fallback
from ..fallback.letters import receipt_questions
from ..models import (
    CallAttempt,
    CallbackTask,
    Channel,
    DeliveryStatus,
    FallbackDelivery,
    FallbackRule,
    FallbackTrigger,
)
from .ecallback import demo_policy

RULES = [
    # name, trigger, channel, extra
    (
        "无可拨打号码：犹豫期结束前10天仍未补充 → 信函",
        FallbackTrigger.NO_NUMBER,
        Channel.LETTER,
        {"days_before_end": 10},
    ),
    ("所有号码均无效 → 信函", FallbackTrigger.ALL_DEAD, Channel.LETTER, {}),
    # 6 calls over 4 days: fewer pulls applicants the phone would reach off it too early (bench/RESULTS.md).
    (
        "6次跨4天未联系上 → 信函",
        FallbackTrigger.NO_CONTACT,
        Channel.LETTER,
        {"min_attempts": 6, "over_days": 4},
    ),
    ("犹豫期结束前3天 → 分支机构上门", FallbackTrigger.WINDOW_ENDING, Channel.VISIT, {"days_before_end": 3}),
    # Before the letter: the SMS e-callback link where the applicant can have one; the others (no mobile,
    # opted out, a phone-only rule: in the demo every channel but telemarketing) fall to the letter.
    (
        "6次跨4天未联系上 → 短信电子化回访链接",
        FallbackTrigger.NO_CONTACT,
        Channel.ECALLBACK,
        {"min_attempts": 6, "over_days": 4, "order": 25},
    ),
]
# A telemarketing applicant the phone never reached: six unanswered calls over four days.
UNANSWERED = ("EC2026000004", "何静", Gender.FEMALE, dt.date(1990, 5, 6), "320102199005063121", "13798765432")


@transaction.atomic
def seed(users) -> None:
    for order, (name, trigger, channel, extra) in enumerate(RULES, start=1):
        FallbackRule.objects.get_or_create(
            name=name, defaults={"trigger": trigger, "channel": channel, "order": order * 10, **extra}
        )
    _unanswered_calls(users.get("agent"))
    fallback.apply_rules()
    supervisor = users.get("supervisor")
    letters = FallbackDelivery.objects.filter(attempt__channel=Channel.LETTER).order_by("pk")
    if supervisor is None or letters.exclude(status=DeliveryStatus.TO_SEND).exists():
        return  # posted on an earlier run
    # Yesterday's letters went out; one receipt is already back. The rest wait to be printed today.
    posted = list(letters[: max(2, letters.count() // 2)])
    fallback.mark_sent(deliveries=posted, by=supervisor)
    _return_receipt(posted[0], supervisor)


def _unanswered_calls(agent) -> None:
    task = getattr(demo_policy(*UNANSWERED, receipt_days_ago=6), "task", None)
    if agent is None or task is None or task.attempts or task.status != "open":
        return
    now = timezone.now()
    for days_ago, hour in ((5, 10), (5, 16), (4, 11), (3, 15), (2, 10), (2, 17)):
        at = timezone.localtime(now - dt.timedelta(days=days_ago)).replace(hour=hour, minute=5)
        attempt = CallAttempt.objects.create(
            task=task, agent=agent, outcome=Outcome.NO_ANSWER, number_dialled=UNANSWERED[5]
        )
        CallAttempt.objects.filter(pk=attempt.pk).update(
            started_at=at, ended_at=at + dt.timedelta(seconds=40)
        )
    CallbackTask.objects.filter(pk=task.pk).update(attempts=F("attempts") + 6, outcome=Outcome.NO_ANSWER)


def _return_receipt(delivery: FallbackDelivery, supervisor) -> None:
    applicant = delivery.attempt.task.policy.applicant
    answers = {}
    for question in receipt_questions(delivery):
        if question.kind == "identity":
            if applicant and applicant.birth_date and len(applicant.id_no) >= 6:
                answers[question.key] = {
                    "birth_date": applicant.birth_date.isoformat(),
                    "id_last6": applicant.id_no[-6:],
                }
        elif question.kind == "yes_no":
            answers[question.key] = "yes"
        elif question.kind == "choice":
            answers[question.key] = question.choices[0]
        elif question.kind == "text":
            answers[question.key] = "无"
    try:
        fallback.record_receipt(
            delivery=delivery,
            by=supervisor,
            returned_on=timezone.localdate(),
            scan_reference=f"SCAN-{timezone.localdate():%Y%m%d}-0001",
            answers=answers,
            outcome="verified",
        )
    except fallback.ReceiptError:
        pass  # e.g. no script covers the policy: the letter stays outstanding
