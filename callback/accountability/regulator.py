"""The regulator's tables (通知 二(四), 附件1–3): what an insurer reports on its customer-information work.

The notice asks for a summary report with tables of what was checked, what was found by kind, what
was corrected and what is outstanding, for new business and for historical policies. The columns are
designed from that text (the attachments' exact layout is the regulator's; a reviewer maps these
columns onto it):

- 附件1 汇总表 — per segment (new business, historical, total): policies checked, with defective data,
  defects found, corrected, waived after checking, outstanding, correction rate.
- 附件2 问题分类统计表 — per flag code: found / corrected / outstanding for each segment.
- 附件3 回访情况表 — per branch: free-look windows closed in the period with a result (decided),
  verified in time, rate, failed, unreachable.

The defect figures come from `figures.py`, the same selectors as the branch inspection; the callback
figures are the statistics page's (`callback.stats.breakdown` by branch and `compliance` for the total,
by call date), so the totals agree with it.
"""

from django.utils.translation import gettext as _

from verification.vocab import FlagCode

from ..stats import breakdown, compliance
from .common import Period
from .figures import HISTORICAL, NEW, SEGMENTS, branch_filters, callback_period, defect_figures


def _segment_label(segment: str) -> str:
    return {NEW: _("New business"), HISTORICAL: _("Historical policies"), "total": _("Total")}[segment]


SUMMARY_COLUMNS = [
    "segment",
    "policies_checked",
    "policies_defective",
    "defects_found",
    "corrected",
    "waived_after_check",
    "outstanding",
    "correction_rate",
]


def summary_table(period: Period, branch: str = "") -> list[list]:
    figures = defect_figures(period=period, branch=branch)
    rows = []
    for segment in (*SEGMENTS, "total"):
        seg = None if segment == "total" else segment
        c = figures.total(seg)
        policies = sum(figures.policies.values()) if seg is None else figures.policies[seg]
        defective = (
            sum(figures.defective_policies.values()) if seg is None else figures.defective_policies[seg]
        )
        rate = f"{c.corrected / c.found:.1%}" if c.found else ""
        rows.append(
            [
                _segment_label(segment),
                policies,
                defective,
                c.found,
                c.corrected,
                c.waived,
                c.outstanding,
                rate,
            ]
        )
    return rows


KIND_COLUMNS = [
    "code",
    "kind",
    "new_found",
    "new_corrected",
    "new_outstanding",
    "historical_found",
    "historical_corrected",
    "historical_outstanding",
    "total_found",
    "total_corrected",
    "total_outstanding",
]


def kind_table(period: Period, branch: str = "") -> list[list]:
    figures = defect_figures(period=period, branch=branch)
    labels = dict(FlagCode.choices)
    rows = []
    for code in figures.codes():
        new = figures.by_code.get((NEW, code))
        old = figures.by_code.get((HISTORICAL, code))
        cells = []
        for c in (new, old):
            cells += [c.found, c.corrected, c.outstanding] if c else [0, 0, 0]
        rows.append(
            [
                code,
                str(labels.get(code, code)),
                *cells,
                cells[0] + cells[3],
                cells[1] + cells[4],
                cells[2] + cells[5],
            ]
        )
    return rows


CALLBACK_COLUMNS = [
    "branch_code",
    "windows_closed",
    "verified_in_time",
    "verified_rate",
    "failed",
    "unreachable",
]


def callback_table(period: Period, branch: str = "") -> list[list]:
    """One row per branch (by code), then the total: the statistics page's figures by call date.
    `windows_closed` counts the windows closed with a result (the statistics' "decided": verified,
    failed or unreachable), the rate's denominator; cases still in review are not counted yet."""
    stats_period, filters = callback_period(period), branch_filters(branch)

    def row(label: str, counts: dict) -> list:
        rate = counts["in_time"] / counts["decided"] if counts["decided"] else None
        return [
            label,
            counts["decided"],
            counts["in_time"],
            "" if rate is None else f"{rate:.1%}",
            counts["failed"],
            counts["unreachable"],
        ]

    by_branch = sorted(breakdown(stats_period, "branch", filters), key=lambda r: r["key"])
    rows = [row(r["key"] or "—", r) for r in by_branch if r["decided"]]
    rows.append(row(_("Total"), compliance(stats_period, filters).counts))
    return rows


def workbook_sheets(period: Period, branch: str = "") -> list[tuple[str, list[str], list[list]]]:
    return [
        ("附件1 汇总表", SUMMARY_COLUMNS, summary_table(period, branch)),
        ("附件2 问题分类统计表", KIND_COLUMNS, kind_table(period, branch)),
        ("附件3 回访情况表", CALLBACK_COLUMNS, callback_table(period, branch)),
    ]
