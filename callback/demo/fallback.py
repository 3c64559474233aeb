"""Demo step: fallback rules, tasks waiting for a number, letters to print and posted, a returned
receipt, a branch visit list (fallback issue). Idempotent: rules are get-or-create, the rules move each
task once, and the letters are posted and a receipt recorded only on the first run."""

from django.db import transaction
from django.utils import timezone

from .. import fallback
from ..fallback.letters import receipt_questions
from ..models import Channel, DeliveryStatus, FallbackDelivery, FallbackRule, FallbackTrigger

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
]


@transaction.atomic
def seed(users) -> None:
    for order, (name, trigger, channel, extra) in enumerate(RULES, start=1):
        FallbackRule.objects.get_or_create(
            name=name, defaults={"trigger": trigger, "channel": channel, "order": order * 10, **extra}
        )
    fallback.apply_rules()
    supervisor = users.get("supervisor")
    letters = FallbackDelivery.objects.filter(attempt__channel=Channel.LETTER).order_by("pk")
    if supervisor is None or letters.exclude(status=DeliveryStatus.TO_SEND).exists():
        return  # posted on an earlier run
    # Yesterday's letters went out; one receipt is already back. The rest wait to be printed today.
    posted = list(letters[: max(2, letters.count() // 2)])
    fallback.mark_sent(deliveries=posted, by=supervisor)
    _return_receipt(posted[0], supervisor)


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
