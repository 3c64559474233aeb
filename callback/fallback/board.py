"""What supervisors read about fallbacks: the counts on the live queue and the fallback queues (selectors)."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from verification.vocab import FlagCode

from ..models import CallbackTask, Channel, ContactFlag, DeliveryStatus, FallbackDelivery, TaskStatus
from ..models.flags import ACTIVE_FLAG_STATUSES


@dataclass
class FallbackCounts:
    needs_contact: int
    letters_to_print: int
    receipts_outstanding: int
    visits_to_make: int


def counts(*, needs_contact: int | None = None) -> FallbackCounts:
    """The four fallback queues' sizes, in two aggregate queries (one when the live queue's pass over
    the tasks already counted those waiting for contact data)."""
    letters = Q(attempt__channel=Channel.LETTER)
    deliveries = FallbackDelivery.objects.filter(
        status__in=(DeliveryStatus.TO_SEND, DeliveryStatus.SENT)
    ).aggregate(
        letters_to_print=Count("pk", filter=letters & Q(status=DeliveryStatus.TO_SEND)),
        receipts_outstanding=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
        visits_to_make=Count("pk", filter=Q(attempt__channel=Channel.VISIT, status=DeliveryStatus.TO_SEND)),
    )
    if needs_contact is None:
        needs_contact = CallbackTask.objects.filter(status=TaskStatus.NEEDS_CONTACT).count()
    return FallbackCounts(needs_contact=needs_contact, **deliveries)


def live_counts(board) -> FallbackCounts:
    """`counts` as the live queue shows it, beside its (cached) `board`: the tasks waiting for contact
    data come from the board's one pass over the tasks; the rest is shared for the same period."""
    from ..supervision import DASHBOARD_CACHE_SECONDS

    deliveries = cache.get_or_set(
        "fallback-delivery-counts", lambda: counts(needs_contact=0), DASHBOARD_CACHE_SECONDS
    )
    return FallbackCounts(**{**deliveries.__dict__, "needs_contact": board.needs_contact})


def needs_contact(limit: int = 200) -> list[CallbackTask]:
    """Tasks waiting for a number, each with its live `missing_field` flag on the phone (or None)."""
    tasks = list(
        CallbackTask.objects.filter(status=TaskStatus.NEEDS_CONTACT)
        .select_related("policy")
        .order_by("deadline", "pk")[:limit]
    )
    flags = {}
    for flag in ContactFlag.objects.filter(
        policy_id__in=[t.policy_id for t in tasks],
        code=FlagCode.MISSING_FIELD,
        field__in=("mobile", "phone"),
        status__in=ACTIVE_FLAG_STATUSES,
    ).order_by("pk"):
        flags.setdefault(flag.policy_id, flag)
    for task in tasks:
        task.missing_flag = flags.get(task.policy_id)
    return tasks


def missing_number_flags() -> QuerySet[ContactFlag]:
    """The open `missing_field` flags on the phone of tasks waiting for contact data."""
    return ContactFlag.objects.filter(
        code=FlagCode.MISSING_FIELD,
        field__in=("mobile", "phone"),
        status="open",
        policy__task__status=TaskStatus.NEEDS_CONTACT,
    )


def deliveries(*, channel: str, status: str, branch: str = "") -> QuerySet[FallbackDelivery]:
    qs = (
        FallbackDelivery.objects.filter(attempt__channel=channel, status=status)
        .select_related("attempt__task__policy", "attempt__script_version")
        .order_by("reply_by", "pk")
    )
    return qs.filter(branch_code=branch) if branch else qs


def visits_by_branch() -> list[dict]:
    """Per branch: visits to make and visit receipts outstanding."""
    return list(
        FallbackDelivery.objects.filter(
            attempt__channel=Channel.VISIT, status__in=(DeliveryStatus.TO_SEND, DeliveryStatus.SENT)
        )
        .values("branch_code")
        .annotate(
            to_visit=Count("pk", filter=Q(status=DeliveryStatus.TO_SEND)),
            outstanding=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
        )
        .order_by("branch_code")
    )
