"""Demo step (seed_demo): the management duties with something to show. Runs after the flag work.

Idempotent: the flags, samples and records it makes are found again by fixed keys the second time.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from verification.vocab import PartyRole

from ..flags import request_correction
from ..models import ContactFlag, FlagStatus, Sample, SampleKind, SampleResult
from . import sampling
from .common import Period, customer_data_q

DEMO_SEED = 20261201


@transaction.atomic
def seed(users) -> None:
    supervisor = users["supervisor"]
    _fee_holds(supervisor)
    _sample(supervisor)
    _campaign(users["admin"])
    _inspection(supervisor)


def _fee_holds(supervisor) -> None:
    """Corrections asked of the outlets' branches: half of them 40 days ago, so their deadline passed."""
    asked = ContactFlag.objects.filter(status=FlagStatus.CORRECTION_REQUESTED).exclude(policy__outlet_code="")
    if asked.count() < 4:  # the second run finds them asked already
        flags = list(
            ContactFlag.objects.filter(customer_data_q(), status=FlagStatus.OPEN)
            .exclude(policy__outlet_code="")
            .order_by("policy__policy_no", "id")[:8]
        )
        if flags:
            request_correction(flags=flags, user=supervisor)
    late = list(asked.order_by("policy__policy_no", "id").values_list("pk", flat=True)[::2])
    long_ago = timezone.now() - dt.timedelta(days=40)
    ContactFlag.objects.filter(pk__in=late).update(
        correction_requested_at=long_ago, correction_due=timezone.localdate(long_ago) + dt.timedelta(days=30)
    )


def _sample(supervisor) -> None:
    """A sample of this month's new business, partly checked."""
    period = Period.this_month()
    sample = Sample.objects.filter(seed=DEMO_SEED, kind=SampleKind.NEW_BUSINESS).first()
    if sample is None:
        sample = sampling.draw_sample(
            kind=SampleKind.NEW_BUSINESS,
            branch="",
            start=period.start - dt.timedelta(days=60),
            end=period.end,
            count=12,
            seed=DEMO_SEED,
            user=supervisor,
        )
    pending = list(sample.items.filter(result=SampleResult.PENDING).order_by("pk"))
    if len(pending) < sample.items.count():
        return
    for n, item in enumerate(pending[:5]):
        differences = {f"{PartyRole.APPLICANT}.mobile": "phone_is_agent"} if n == 2 else {}
        sampling.record_check(item=item, user=supervisor, differences=differences, note="与投保单核对")


def _campaign(admin) -> None:
    """A back-book policy imported years after its delivery, and a campaign over the back book."""
    from verification.vocab import FlagCode

    from ..models import Campaign, Party, Policy
    from . import back_book

    old = Policy.objects.filter(policy_no__startswith="PH").first()
    if old is None:
        source = Policy.objects.filter(in_scope=True).order_by("policy_no").first()
        applicant = source.applicant if source else None
        if source is None or applicant is None:
            return
        for n in range(3):
            policy = Policy.objects.create(
                policy_no=f"PH{2013000001 + n}",
                product_code=source.product_code,
                product_name=source.product_name,
                product_type=source.product_type,
                whole_life=True,
                premium=source.premium,
                payment_frequency=source.payment_frequency,
                payment_years=source.payment_years,
                channel=source.channel,
                branch_code=source.branch_code,
                branch_name=source.branch_name,
                agent_code=source.agent_code,
                agent_name=source.agent_name,
                issue_date=dt.date(2013, 3, 1 + n),
                receipt_date=dt.date(2013, 3, 5 + n),
                in_scope=True,
            )
            fields = {f.name: getattr(applicant, f.name) for f in Party._meta.concrete_fields}
            fields.update(id=None, policy=policy, mobile="1380013800", mobile_e164="")  # one digit short
            Party.objects.create(**fields)
            ContactFlag.objects.create(
                policy=policy,
                party=PartyRole.APPLICANT,
                field="mobile",
                code=FlagCode.MOBILE_INVALID,
                detail="length",
            )
    if not Campaign.objects.exists():
        script = back_book.contact_scripts().first()
        if script is not None and back_book.campaign_candidates().exists():
            back_book.start_campaign(
                name="存量保单客户信息核实（第一批）",
                deadline=timezone.localdate() + dt.timedelta(days=60),
                script_version=script,
                user=admin,
            )


def _inspection(supervisor) -> None:
    """Last year's inspection of the branch with most policies, with its conclusions."""
    from django.db.models import Count

    from ..models import Inspection, Policy
    from . import inspection

    if Inspection.objects.exists():
        return
    top = Policy.objects.values("branch_code").annotate(n=Count("id")).order_by("-n", "branch_code").first()
    if top is None:
        return
    report = inspection.branch_inspection(branch=top["branch_code"], period=Period.this_year())
    inspection.record_inspection(
        report=report,
        conclusions="客户信息真实性管理基本到位；银保渠道电话为销售人员本人号码的问题仍较多，"
        "要求分公司三十日内完成整改并对相关网点暂停支付手续费。",
        user=supervisor,
    )
