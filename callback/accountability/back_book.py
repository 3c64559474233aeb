"""The back book (通知 二(三)): policies issued before Huifang went live, or imported after their
free-look window closed. They are screened and their flags worked like any other, but they get no
free-look callback (callback/schedule.py creates none) and so never `callback_unreachable`.

Instead an admin starts a contact-verification campaign over a selection of them: one callback task of
the second kind per policy, reading the campaign's own script, due by the campaign's deadline, worked
through the same queue and workspace as free-look callbacks.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.models import Script, ScriptVersion
from verification.vocab import PartyRole

from ..audit import record_audit
from ..models import CallbackTask, Campaign, ContactFlag, FlagStatus, Party, Policy, TaskKind, TaskStatus
from ..schedule import age_on, deadline_for, load_routes, route_queue, start_of_day
from .common import customer_data_q, live_q

MAX_CAMPAIGN = 50_000


class CampaignError(ValueError):
    """A campaign that cannot start as asked; the message says why."""


def back_book_q(prefix: str = "") -> Q:
    """In scope for a callback but without a free-look task: the window had closed before import."""
    free_look = CallbackTask.objects.filter(policy=OuterRef("pk"), kind=TaskKind.FREE_LOOK)
    if prefix:
        free_look = CallbackTask.objects.filter(policy=OuterRef(f"{prefix}pk"), kind=TaskKind.FREE_LOOK)
    return Q(**{f"{prefix}in_scope": True}) & ~Exists(free_look)


def back_book(*, branch: str = "") -> QuerySet[Policy]:
    qs = Policy.objects.filter(back_book_q())
    return qs.filter(branch_code=branch) if branch else qs


def campaign_candidates(*, branch: str = "", code: str = "") -> QuerySet[Policy]:
    """Back-book policies with a live customer-data flag (of `code` if given) and no task at all yet."""
    flags = ContactFlag.objects.filter(live_q() & customer_data_q(), policy=OuterRef("pk"))
    if code:
        flags = flags.filter(code=code)
    return back_book(branch=branch).filter(Exists(flags), task__isnull=True).order_by("policy_no")


def contact_scripts() -> QuerySet[ScriptVersion]:
    return ScriptVersion.objects.filter(
        status=ScriptVersion.Status.PUBLISHED, script__purpose=Script.Purpose.CONTACT_VERIFICATION
    ).select_related("script")


@transaction.atomic
def start_campaign(
    *,
    name: str,
    deadline: dt.date,
    script_version: ScriptVersion,
    user,
    branch: str = "",
    code: str = "",
    now: dt.datetime | None = None,
    request=None,
) -> Campaign:
    now = now or timezone.now()
    today = timezone.localdate(now)
    name = (name or "").strip()
    if not name:
        raise CampaignError(_("Give the campaign a name."))
    if deadline <= today:
        raise CampaignError(_("The deadline must be after today."))
    if (
        script_version.status != ScriptVersion.Status.PUBLISHED
        or script_version.script.purpose != Script.Purpose.CONTACT_VERIFICATION
    ):
        raise CampaignError(_("Choose a published contact-verification script."))
    policies = list(
        campaign_candidates(branch=branch, code=code).values_list(
            "pk", "channel", "branch_code", "product_type"
        )
    )
    if not policies:
        raise CampaignError(_("No back-book policy matches this selection."))
    if len(policies) > MAX_CAMPAIGN:
        raise CampaignError(_("At most %(n)d policies in one campaign.") % {"n": MAX_CAMPAIGN})
    campaign = Campaign.objects.create(
        name=name[:100],
        selection={"branch": branch, "code": code},
        starts_on=today,
        deadline=deadline,
        script_version=script_version,
        created_by=user,
    )
    births = dict(
        Party.objects.filter(
            policy_id__in=[p[0] for p in policies], role=PartyRole.APPLICANT, seq=0
        ).values_list("policy_id", "birth_date")
    )
    routes, default_queue = load_routes()
    CallbackTask.objects.bulk_create(
        [
            CallbackTask(
                policy_id=pk,
                kind=TaskKind.CONTACT_VERIFICATION,
                campaign=campaign,
                queue_id=route_queue(
                    routes,
                    default_queue,
                    channel=channel,
                    branch_code=branch_code,
                    product_type=product_type,
                    age=age_on(births.get(pk), today),
                ),
                status=TaskStatus.OPEN,
                window_start=today,
                window_end=deadline,
                deadline=deadline_for(deadline),
                next_attempt_at=max(now, start_of_day(today)),
            )
            for pk, channel, branch_code, product_type in policies
        ]
    )
    record_audit(
        user=user,
        action="campaign_start",
        obj=campaign,
        detail={"selection": campaign.selection, "tasks": len(policies), "deadline": deadline.isoformat()},
        request=request,
    )
    return campaign


@dataclass
class CampaignProgress:
    tasks: int
    verified: int
    failed: int
    expired: int
    open: int

    @property
    def done(self) -> int:
        return self.verified + self.failed + self.expired


def campaign_progress(campaign: Campaign) -> CampaignProgress:
    counts = dict(campaign.tasks.order_by().values_list("status").annotate(n=Count("id")))
    return CampaignProgress(
        tasks=sum(counts.values()),
        verified=counts.get(TaskStatus.COMPLETED, 0),
        failed=counts.get(TaskStatus.FAILED, 0) + counts.get(TaskStatus.REVIEW, 0),
        expired=counts.get(TaskStatus.EXPIRED, 0),
        open=counts.get(TaskStatus.OPEN, 0) + counts.get(TaskStatus.AWAITING_RECEIPT, 0),
    )


@dataclass
class BackBookRow:
    branch_code: str
    screened: int
    defective: int
    corrected: int
    still_open: int


def back_book_progress(*, branch: str = "") -> list[BackBookRow]:
    """Per branch: back-book policies screened, with defective customer data (ever, not waived),
    corrected (every such flag resolved) and still open (a live flag)."""

    def has(condition: Q) -> Exists:
        return Exists(ContactFlag.objects.filter(condition & customer_data_q(), policy=OuterRef("pk")))

    rows = (
        back_book(branch=branch)
        .annotate(
            is_defective=has(~Q(status=FlagStatus.WAIVED)),
            is_open=has(live_q()),
        )
        .order_by()
        .values("branch_code")
        .annotate(
            screened=Count("id"),
            defective=Count("id", filter=Q(is_defective=True)),
            still_open=Count("id", filter=Q(is_open=True)),
        )
        .order_by("branch_code")
    )
    return [
        BackBookRow(
            r["branch_code"], r["screened"], r["defective"], r["defective"] - r["still_open"], r["still_open"]
        )
        for r in rows
    ]
