"""Salesperson accountability (第十条, 第十三条): what each salesperson's sales produced, for the
performance review (commission, demotion). Sales are recorded under a real name and employee number;
the code on the policy is the key, the registry gives the name, branch and outlet."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q

from verification.vocab import FlagCode, Outcome

from ..models import Agent, CallAttempt, ContactFlag, FlagStatus, Policy
from .common import Period, customer_data_q

OWN_NUMBER_SUFFIX = " (this policy's own)"  # screening's detail for the policy's own agent's phone
AGENT_LEFT = "agent_left"  # raised by screening (issue #11); shown here, not raised here


@dataclass
class SalespersonRow:
    agent_code: str
    name: str
    branch_code: str
    outlet_code: str
    sold: int
    defective: int
    own_contact: int
    agent_answered: int
    failed_identity: int
    agent_left: int

    @property
    def defect_rate(self) -> float:
        return self.defective / self.sold if self.sold else 0.0


def _has_flag(condition: Q) -> Exists:
    return Exists(
        ContactFlag.objects.filter(condition, policy=OuterRef("pk")).exclude(status=FlagStatus.WAIVED)
    )


def salesperson_rows(*, period: Period, branch: str = "", agent: str = "") -> list[SalespersonRow]:
    """Per salesperson code, the policies issued in `period` and what went wrong with them, worst first.

    Each figure counts policies (a policy with three defects is one defective policy). Waived flags do
    not count: a supervisor accepted the data.
    """
    policies = Policy.objects.filter(issue_date__gte=period.start, issue_date__lte=period.end)
    if branch:
        policies = policies.filter(branch_code=branch)
    if agent:
        policies = policies.filter(agent_code=agent)
    policies = policies.annotate(
        is_defective=_has_flag(customer_data_q()),
        is_own_contact=_has_flag(Q(code=FlagCode.PHONE_IS_AGENT, detail__endswith=OWN_NUMBER_SUFFIX)),
        is_agent_answered=_has_flag(Q(code=FlagCode.CALLBACK_AGENT_ANSWERED))
        | Exists(CallAttempt.objects.filter(task__policy=OuterRef("pk"), outcome=Outcome.AGENT_ANSWERED)),
        is_failed_identity=Exists(
            CallAttempt.objects.filter(task__policy=OuterRef("pk"), outcome=Outcome.FAILED_IDENTITY)
        ),
        is_agent_left=_has_flag(Q(code=AGENT_LEFT)),
    )
    grouped = (
        policies.order_by()
        .values("agent_code")
        .annotate(
            sold=Count("id"),
            defective=Count("id", filter=Q(is_defective=True)),
            own_contact=Count("id", filter=Q(is_own_contact=True)),
            agent_answered=Count("id", filter=Q(is_agent_answered=True)),
            failed_identity=Count("id", filter=Q(is_failed_identity=True)),
            agent_left=Count("id", filter=Q(is_agent_left=True)),
        )
    )
    rows = list(grouped)
    registry = {a.agent_code: a for a in Agent.objects.filter(agent_code__in=[r["agent_code"] for r in rows])}
    # Unregistered codes: the name and branch written on their newest policy.
    unregistered = [r["agent_code"] for r in rows if r["agent_code"] not in registry]
    on_policy = {
        code: (name, branch_code)
        for code, name, branch_code in policies.filter(agent_code__in=unregistered)
        .order_by("agent_code", "issue_date", "pk")
        .values_list("agent_code", "agent_name", "branch_code")
    }
    out = []
    for row in rows:
        known = registry.get(row["agent_code"])
        out.append(
            SalespersonRow(
                agent_code=row["agent_code"],
                name=known.name if known else on_policy[row["agent_code"]][0],
                branch_code=known.branch_code if known else on_policy[row["agent_code"]][1],
                outlet_code=known.outlet_code if known else "",
                sold=row["sold"],
                defective=row["defective"],
                own_contact=row["own_contact"],
                agent_answered=row["agent_answered"],
                failed_identity=row["failed_identity"],
                agent_left=row["agent_left"],
            )
        )
    return sorted(
        out,
        key=lambda r: (
            -(r.own_contact + r.agent_answered + r.failed_identity + r.agent_left),
            -r.defective,
            r.agent_code,
        ),
    )


SALESPERSON_COLUMNS = [
    "agent_code",
    "agent_name",
    "branch_code",
    "outlet_code",
    "policies_sold",
    "defective_customer_data",
    "contact_is_own",
    "callback_answered_by_sales",
    "identity_check_failed",
    "agent_left",
]


def salesperson_export_rows(rows: list[SalespersonRow]):
    for r in rows:
        yield [
            r.agent_code,
            r.name,
            r.branch_code,
            r.outlet_code,
            r.sold,
            r.defective,
            r.own_contact,
            r.agent_answered,
            r.failed_identity,
            r.agent_left,
        ]
