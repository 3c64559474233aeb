"""Branch inspection (第十六条): the insurer inspects its branches' customer-information work at least
yearly. One page and one workbook per branch and period, and the inspector's conclusions kept."""

import datetime as dt
from dataclasses import asdict, dataclass
from statistics import median

from django.db import transaction
from django.utils.translation import gettext as _

from verification.vocab import FlagCode

from ..audit import record_audit
from ..models import ContactFlag, FlagStatus, Inspection
from ..stats import compliance
from . import fee_holds, sampling
from .common import Period
from .figures import SEGMENTS, branch_filters, callback_period, cohort, defect_figures

MAX_CONCLUSIONS = 5000


class InspectionError(ValueError):
    pass


@dataclass
class BranchInspection:
    branch: str
    period: Period
    policies: int
    in_scope: int
    defective_policies: int
    found: int
    corrected: int
    waived: int
    outstanding: int
    median_days_to_correct: float | None
    callbacks_closed: int  # windows closed in the period with a result: the statistics' "decided"
    callbacks_verified_in_time: int
    callbacks_failed: int
    callbacks_unreachable: int
    sampled: int
    sample_checked: int
    sample_discrepancies: int
    outlets_held: int
    policies_held: int
    premium_held: str
    deadlines_passed: int
    by_code: list[dict]

    @property
    def verified_rate(self) -> float:
        return self.callbacks_verified_in_time / self.callbacks_closed if self.callbacks_closed else 0.0

    def as_json(self) -> dict:
        data = asdict(self)
        data["period"] = self.period.as_dict()
        return data


def _median_days_to_correct(*, period: Period, branch: str) -> float | None:
    pairs = ContactFlag.objects.filter(
        policy__in=cohort(period=period, branch=branch), status=FlagStatus.RESOLVED, closed_at__isnull=False
    ).values_list("raised_at", "closed_at")
    days = [(closed - raised).total_seconds() / 86400 for raised, closed in pairs]
    return round(median(days), 1) if days else None


def branch_inspection(*, branch: str, period: Period, today: dt.date | None = None) -> BranchInspection:
    defects = defect_figures(period=period, branch=branch)
    total = defects.total()
    # The statistics page's figures for the branch, by call date (windows closed in the period).
    callbacks = compliance(callback_period(period), branch_filters(branch)).counts
    samples = sampling.sample_report(period_start=period.start, period_end=period.end)
    sample = next((r for r in samples if r.branch_code == branch), None)
    holds = fee_holds.outlet_holds(branch=branch, today=today)
    labels = dict(FlagCode.choices)
    by_code = []
    for code in defects.codes():
        row = {"code": code, "label": str(labels.get(code, code))}
        for seg in SEGMENTS:
            c = defects.by_code.get((seg, code))
            row[seg] = asdict(c) if c else {"found": 0, "corrected": 0, "waived": 0, "outstanding": 0}
        by_code.append(row)
    return BranchInspection(
        branch=branch,
        period=period,
        policies=sum(defects.policies.values()),
        in_scope=cohort(period=period, branch=branch).filter(in_scope=True).count(),
        defective_policies=sum(defects.defective_policies.values()),
        found=total.found,
        corrected=total.corrected,
        waived=total.waived,
        outstanding=total.outstanding,
        median_days_to_correct=_median_days_to_correct(period=period, branch=branch),
        callbacks_closed=callbacks["decided"],
        callbacks_verified_in_time=callbacks["in_time"],
        callbacks_failed=callbacks["failed"],
        callbacks_unreachable=callbacks["unreachable"],
        sampled=sample.size if sample else 0,
        sample_checked=sample.checked if sample else 0,
        sample_discrepancies=sample.discrepancies if sample else 0,
        outlets_held=len(holds),
        policies_held=sum(len(h.policies) for h in holds),
        premium_held=str(sum((h.premium for h in holds), 0)),
        deadlines_passed=sum(h.passed for h in holds),
        by_code=by_code,
    )


def summary_rows(report: BranchInspection) -> list[list]:
    """(label, value) rows: the first sheet of the workbook and the page's table."""
    days = report.median_days_to_correct
    return [
        [_("Branch"), report.branch],
        [_("Period"), f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"],
        [_("Policies taken in"), report.policies],
        [_("In scope for a callback"), report.in_scope],
        [_("Policies with defective data"), report.defective_policies],
        [_("Defects found"), report.found],
        [_("Corrected"), report.corrected],
        [_("Waived after checking"), report.waived],
        [_("Still open"), report.outstanding],
        [_("Median days to correct"), "" if days is None else str(days)],
        [_("Decided (verified, failed or unreachable)"), report.callbacks_closed],
        [_("Verified in time"), report.callbacks_verified_in_time],
        [_("Verified-in-time rate"), f"{report.verified_rate:.1%}"],
        [_("Callbacks failed"), report.callbacks_failed],
        [_("Unreachable in the free-look period"), report.callbacks_unreachable],
        [_("Policies sampled"), report.sampled],
        [_("Sampled policies checked"), report.sample_checked],
        [_("With a discrepancy"), report.sample_discrepancies],
        [_("Outlets with fees held"), report.outlets_held],
        [_("Policies held"), report.policies_held],
        [_("Premium affected (CNY)"), report.premium_held],
        [_("Correction deadlines passed"), report.deadlines_passed],
    ]


CODE_COLUMNS = [
    "code",
    "label",
    "new_found",
    "new_corrected",
    "new_waived",
    "new_outstanding",
    "historical_found",
    "historical_corrected",
    "historical_waived",
    "historical_outstanding",
]


def code_rows(report: BranchInspection) -> list[list]:
    rows = []
    for r in report.by_code:
        new, old = r["new_business"], r["historical"]
        rows.append(
            [r["code"], r["label"], *(new[k] for k in ("found", "corrected", "waived", "outstanding"))]
            + [old[k] for k in ("found", "corrected", "waived", "outstanding")]
        )
    return rows


@transaction.atomic
def record_inspection(*, report: BranchInspection, conclusions: str, user, request=None) -> Inspection:
    """Keep the inspector's conclusions with the figures as they were shown (evidence, not recomputed)."""
    conclusions = (conclusions or "").replace("\x00", "").strip()
    if not conclusions:
        raise InspectionError(_("Write the inspector's conclusions."))
    if len(conclusions) > MAX_CONCLUSIONS:
        raise InspectionError(
            _("The conclusions are too long (at most %(n)d characters).") % {"n": MAX_CONCLUSIONS}
        )
    if not report.branch:
        raise InspectionError(_("Choose a branch to inspect."))
    inspection = Inspection.objects.create(
        branch_code=report.branch,
        period_start=report.period.start,
        period_end=report.period.end,
        figures=report.as_json(),
        conclusions=conclusions,
        inspector=user,
    )
    record_audit(
        user=user,
        action="inspection_record",
        obj=inspection,
        detail={"branch": report.branch},
        request=request,
    )
    return inspection


def inspections(*, branch: str = ""):
    qs = Inspection.objects.select_related("inspector")
    return qs.filter(branch_code=branch) if branch else qs
