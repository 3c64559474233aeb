"""What each statistic means, written once (docs/statistics.md explains them with an example).

- **In scope**: a policy that has a callback task (callback/schedule makes one per in-scope policy).
- **Verified in time**: the task was verified (status ``completed``: the outcome ``verified`` or
  ``verified_with_issues``, by an agent or on review) before its deadline, the midnight after the
  free-look window's last day (Beijing time, callback/schedule.deadline_for).
- **Decided**: verified, failed or unreachable. Tasks still open (awaiting receipt, open) and tasks
  waiting for a supervisor's review are not decided yet and are left out of the rates.
- **Verified-in-time rate** = verified in time ÷ decided.
- **Failure** (for the breakdowns) = decided but not verified in time: failed, unreachable or verified late.

AAPOR-style case rates (American Association for Public Opinion Research, Standard Definitions,
simplified to a callback: every decided task is one eligible case, its calls are its contact attempts):

- **Contact rate** = decided cases in which at least one call reached a person ÷ decided cases.
- **Cooperation rate** = verified cases ÷ contacted cases.
- **Refusal rate** = cases with at least one refusal or hang-up ÷ decided cases.
- **Response rate** = verified cases ÷ decided cases.
"""

from django.db.models import Count, F, Q

from verification.vocab import Outcome

from ..models import TaskStatus

VERIFIED_OUTCOMES = (Outcome.VERIFIED, Outcome.VERIFIED_WITH_ISSUES)
FAILED_OUTCOMES = (Outcome.FAILED_IDENTITY, Outcome.REFUSED, Outcome.AGENT_ANSWERED, Outcome.WRONG_NUMBER)
# A call "reached a person": someone answered and spoke (AAPOR contact). No answer, busy and a wrong
# or dead number are non-contacts.
CONTACT_OUTCOMES = (
    *VERIFIED_OUTCOMES,
    Outcome.FAILED_IDENTITY,
    Outcome.REFUSED,
    Outcome.AGENT_ANSWERED,
    Outcome.CALLBACK_REQUESTED,
    Outcome.HUNG_UP,
)
REFUSAL_OUTCOMES = (Outcome.REFUSED, Outcome.HUNG_UP)
PENDING_STATUSES = (TaskStatus.AWAITING_RECEIPT, TaskStatus.OPEN)
DECIDED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.EXPIRED)

VERIFIED = Q(status=TaskStatus.COMPLETED)
IN_TIME = VERIFIED & Q(closed_at__lt=F("deadline"))
LATE = VERIFIED & ~Q(closed_at__lt=F("deadline"))
DECIDED = Q(status__in=DECIDED_STATUSES)
FAILED = Q(status=TaskStatus.FAILED)
UNREACHABLE = Q(status=TaskStatus.EXPIRED)
REVIEW = Q(status=TaskStatus.REVIEW)
PENDING = Q(status__in=PENDING_STATUSES)
NOT_IN_TIME = DECIDED & ~IN_TIME

# The result categories a drill-down can ask for (task list `result=`), each a filter on tasks.
RESULTS = {
    "verified": VERIFIED,
    "in_time": IN_TIME,
    "late": LATE,
    "with_issues": VERIFIED & Q(outcome=Outcome.VERIFIED_WITH_ISSUES),
    "decided": DECIDED,
    "not_in_time": NOT_IN_TIME,
    "failed": FAILED,
    "unreachable": UNREACHABLE,
    "review": REVIEW,
    "pending": PENDING,
    **{f"failed_{kind}": FAILED & Q(outcome=kind) for kind in FAILED_OUTCOMES},
}


def rate(part: int | None, whole: int | None) -> float | None:
    """part ÷ whole, or None when there is nothing to divide by (shown as "—", never 0 % or an error)."""
    if not whole:
        return None
    return (part or 0) / whole


# The call categories a drill-down to the calls list can ask for (calls list `calls=`).
ATTEMPT_RESULTS = {
    "contacts": Q(outcome__in=CONTACT_OUTCOMES),
    "verified_calls": Q(outcome__in=VERIFIED_OUTCOMES),
    "failed_calls": Q(outcome__in=FAILED_OUTCOMES),
    "refusals": Q(outcome__in=REFUSAL_OUTCOMES),
}


def task_aggregates() -> dict[str, Count]:
    """The task figures as conditional counts, for `QuerySet.aggregate` / `annotate` (one pass)."""
    counts = {
        "in_scope": Count("pk"),
        "decided": Count("pk", filter=DECIDED),
        "verified": Count("pk", filter=VERIFIED),
        "in_time": Count("pk", filter=IN_TIME),
        "late": Count("pk", filter=LATE),
        "with_issues": Count("pk", filter=RESULTS["with_issues"]),
        "failed": Count("pk", filter=FAILED),
        "unreachable": Count("pk", filter=UNREACHABLE),
        "review": Count("pk", filter=REVIEW),
        "pending": Count("pk", filter=PENDING),
        "not_in_time": Count("pk", filter=NOT_IN_TIME),
    }
    for kind in FAILED_OUTCOMES:
        counts[f"failed_{kind}"] = Count("pk", filter=RESULTS[f"failed_{kind}"])
    return counts


TASK_FIGURES = tuple(task_aggregates())


def call_aggregates(within: Q | None = None) -> dict[str, Count]:
    """The call figures as conditional counts: calls, contacts, verified, failed and refusals, of the
    calls `within` (all of them when None)."""
    within = within or Q()
    return {
        "calls": Count("pk", filter=within) if within else Count("pk"),
        "contacts": Count("pk", filter=within & Q(outcome__in=CONTACT_OUTCOMES)),
        "verified_calls": Count("pk", filter=within & Q(outcome__in=VERIFIED_OUTCOMES)),
        "failed_calls": Count("pk", filter=within & Q(outcome__in=FAILED_OUTCOMES)),
        "refusals": Count("pk", filter=within & Q(outcome__in=REFUSAL_OUTCOMES)),
    }
