"""The counts that the branch inspection and the regulator's tables share, so they agree.

Callback figures (verified in time, failed, unreachable) are not computed here: `callback_period`
turns the period into the statistics' one and the reports read `callback.stats` (one definition).

The cohort is the policies Huifang took in (imported) in the period, by Beijing calendar day: those
are the policies it checked. Each is new business or the back book (通知 二(三): in scope for a callback
but without a free-look task). Their flags are counted as found, corrected (resolved), waived
(accepted after checking) and outstanding (open or correction requested), now: found = corrected +
waived + outstanding.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When

from verification.vocab import FlagCode

from ..models import ContactFlag, FlagStatus, Policy
from ..stats.periods import CALL
from ..stats.periods import Period as StatsPeriod
from .back_book import back_book_q
from .common import Period

NEW, HISTORICAL = "new_business", "historical"
SEGMENTS = (NEW, HISTORICAL)


def cohort(*, period: Period, branch: str = "") -> QuerySet[Policy]:
    start, end = period.instants()
    qs = Policy.objects.filter(created_at__gte=start, created_at__lt=end)
    return qs.filter(branch_code=branch) if branch else qs


def _segment() -> Case:
    return Case(When(back_book_q(), then=Value(HISTORICAL)), default=Value(NEW), output_field=CharField())


@dataclass
class Counts:
    found: int = 0
    corrected: int = 0
    waived: int = 0
    outstanding: int = 0


@dataclass
class DefectFigures:
    policies: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEGMENTS, 0))
    defective_policies: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEGMENTS, 0))
    # (segment, code) -> counts
    by_code: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))

    def total(self, segment: str | None = None) -> Counts:
        out = Counts()
        for (seg, _code), c in self.by_code.items():
            if segment is None or seg == segment:
                out.found += c.found
                out.corrected += c.corrected
                out.waived += c.waived
                out.outstanding += c.outstanding
        return out

    def codes(self) -> list[str]:
        present = {code for _seg, code in self.by_code}
        return [c for c in FlagCode.values if c in present] + sorted(present - set(FlagCode.values))


def defect_figures(*, period: Period, branch: str = "") -> DefectFigures:
    figures = DefectFigures()
    policies = cohort(period=period, branch=branch).annotate(segment=_segment())
    for row in (
        policies.order_by()
        .values("segment")
        .annotate(
            n=Count("id", distinct=True), defective=Count("id", filter=Q(flags__isnull=False), distinct=True)
        )
    ):
        figures.policies[row["segment"]] = row["n"]
        figures.defective_policies[row["segment"]] = row["defective"]
    flags = (
        ContactFlag.objects.filter(policy__in=cohort(period=period, branch=branch))
        .annotate(segment=_segment_of_flag())
        .order_by()
        .values("segment", "code")
        .annotate(
            found=Count("id"),
            corrected=Count("id", filter=Q(status=FlagStatus.RESOLVED)),
            waived=Count("id", filter=Q(status=FlagStatus.WAIVED)),
            outstanding=Count("id", filter=Q(status__in=[FlagStatus.OPEN, FlagStatus.CORRECTION_REQUESTED])),
        )
    )
    for row in flags:
        figures.by_code[(row["segment"], row["code"])] = Counts(
            row["found"], row["corrected"], row["waived"], row["outstanding"]
        )
    return figures


def _segment_of_flag() -> Case:
    return Case(
        When(back_book_q("policy__"), then=Value(HISTORICAL)), default=Value(NEW), output_field=CharField()
    )


def callback_period(period: Period) -> StatsPeriod:
    """The statistics' period of the same Beijing days by call date: the free-look windows whose last
    day is in the period — "of the windows that closed, how many were verified in time". The callback
    figures of the inspection and the regulator's tables are the statistics' own (`callback.stats`
    `compliance` and `breakdown`), so they agree with the statistics page by construction."""
    return StatsPeriod(period.start, period.end, CALL)


def branch_filters(branch: str = "") -> dict[str, str]:
    return {"branch": branch} if branch else {}
