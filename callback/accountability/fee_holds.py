"""Fee holds for intermediaries and bank outlets (第八条).

When an outlet supplied defective customer data, the insurer sets a correction deadline, withholds the
outlet's commission until the data is corrected, and deducts commission already paid when the deadline
passes uncorrected. Finance pays commission by this list. A policy is held while any of its
customer-data flags is live (open or correction requested); its deadline is the earliest
`correction_due` of those flags (a request made before the field existed counts CORRECTION_DAYS from
the request).
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..flags import correction_due_for
from ..models import ContactFlag, FlagStatus, Outlet
from .common import customer_data_q, live_q


@dataclass
class HeldPolicy:
    policy_no: str
    outlet_code: str
    branch_code: str
    premium: Decimal
    codes: list[str]
    unrequested: int  # live flags nobody asked the branch to correct yet
    correction_due: dt.date | None
    passed: bool

    @property
    def action(self) -> str:
        """What finance does with the commission of this policy."""
        return "deduct" if self.passed else "withhold"


@dataclass
class OutletHold:
    outlet_code: str
    name: str = ""
    institution: str = ""
    branch_code: str = ""
    policies: list[HeldPolicy] = field(default_factory=list)

    @property
    def premium(self) -> Decimal:
        return sum((p.premium for p in self.policies), Decimal(0))

    @property
    def passed(self) -> int:
        return sum(1 for p in self.policies if p.passed)

    @property
    def unrequested(self) -> int:
        return sum(1 for p in self.policies if p.unrequested)

    @property
    def earliest_due(self) -> dt.date | None:
        return min((p.correction_due for p in self.policies if p.correction_due), default=None)


def held_policies(*, outlet: str = "", branch: str = "", today: dt.date | None = None) -> list[HeldPolicy]:
    """Policies sold through an outlet whose customer data is still defective, by outlet and policy."""
    today = today or timezone.localdate()
    flags = ContactFlag.objects.filter(live_q() & customer_data_q()).exclude(policy__outlet_code="")
    if outlet:
        flags = flags.filter(policy__outlet_code=outlet)
    if branch:
        flags = flags.filter(policy__branch_code=branch)
    per_policy = (
        flags.order_by()
        .values(
            "policy_id", "policy__policy_no", "policy__outlet_code", "policy__branch_code", "policy__premium"
        )
        .annotate(
            due=Min("correction_due"),
            requested=Min("correction_requested_at"),
            unrequested=Count("id", filter=Q(status=FlagStatus.OPEN)),
        )
        .order_by("policy__outlet_code", "policy__policy_no")
    )
    codes: dict[int, set[str]] = {}
    for policy_id, code in flags.order_by().values_list("policy_id", "code").distinct():
        codes.setdefault(policy_id, set()).add(code)
    rows = []
    for row in per_policy:
        due = row["due"] or (correction_due_for(row["requested"]) if row["requested"] else None)
        rows.append(
            HeldPolicy(
                policy_no=row["policy__policy_no"],
                outlet_code=row["policy__outlet_code"],
                branch_code=row["policy__branch_code"],
                premium=row["policy__premium"] or Decimal(0),
                codes=sorted(codes.get(row["policy_id"], ())),
                unrequested=row["unrequested"],
                correction_due=due,
                passed=due is not None and due < today,
            )
        )
    return rows


def outlet_holds(*, outlet: str = "", branch: str = "", today: dt.date | None = None) -> list[OutletHold]:
    """One entry per outlet with held policies, worst first (most deadlines passed, then premium)."""
    by_outlet: dict[str, OutletHold] = {}
    for policy in held_policies(outlet=outlet, branch=branch, today=today):
        by_outlet.setdefault(policy.outlet_code, OutletHold(policy.outlet_code)).policies.append(policy)
    for registered in Outlet.objects.filter(outlet_code__in=by_outlet):
        hold = by_outlet[registered.outlet_code]
        hold.name, hold.institution, hold.branch_code = (
            registered.name,
            registered.institution,
            registered.branch_code,
        )
    for hold in by_outlet.values():
        hold.branch_code = hold.branch_code or hold.policies[0].branch_code
    return sorted(by_outlet.values(), key=lambda h: (-h.passed, -h.premium, h.outlet_code))


FINANCE_COLUMNS = [
    "outlet_code",
    "outlet_name",
    "institution",
    "branch_code",
    "policy_no",
    "premium",
    "flag_codes",
    "correction_due",
    "deadline_passed",
    "commission",
]


def finance_rows(holds: list[OutletHold]) -> Iterator[list[str]]:
    """One row per held policy for the finance department (commission withheld or deducted)."""
    for hold in holds:
        for policy in hold.policies:
            yield [
                hold.outlet_code,
                hold.name,
                hold.institution,
                hold.branch_code,
                policy.policy_no,
                str(policy.premium),
                ";".join(policy.codes),
                policy.correction_due.isoformat() if policy.correction_due else "",
                "yes" if policy.passed else "no",
                policy.action,
            ]


def action_label(action: str) -> str:
    return {"deduct": _("Deduct commission paid"), "withhold": _("Withhold commission")}[action]
