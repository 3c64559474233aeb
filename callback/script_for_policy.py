"""Which script a policy's callback reads, and the policy's values for its placeholders.

The rules (applicability, rendering, evaluation) are in `verification.scripts`; this module feeds
them from the database. `tasks_without_script` is the admins' report of open callbacks that no
published script covers (they cannot be worked until one does).
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from verification import scripts
from verification.models import Script, ScriptVersion
from verification.vocab import LABELS_ZH, PartyRole, PaymentFrequency, ProductType

from .models import CallbackTask, Party, Policy, TaskKind, TaskStatus

# Script text is read to the customer in Chinese, whatever the agent's interface language.
PRODUCT_TYPE_ZH = {code: label for label, code in LABELS_ZH[ProductType].items()}
FREQUENCY_ZH = {code: label for label, code in LABELS_ZH[PaymentFrequency].items()}


def published_versions() -> list[ScriptVersion]:
    """The published free-look scripts (contact-verification scripts are chosen by their campaign)."""
    return list(
        ScriptVersion.objects.filter(
            status=ScriptVersion.Status.PUBLISHED, script__purpose=Script.Purpose.FREE_LOOK
        ).select_related("script")
    )


def applicant_age(policy: Policy, *, today: dt.date | None = None) -> int | None:
    """The applicant's age on the day of the call (age bands such as 60+ are judged then)."""
    applicant = policy.applicant
    return scripts.age_on(applicant.birth_date if applicant else None, today or timezone.localdate())


def version_for_policy(
    policy: Policy, *, versions: list[ScriptVersion] | None = None
) -> ScriptVersion | None:
    """The published version of the most specific script that applies to `policy`, or None."""
    return scripts.select_script(
        published_versions() if versions is None else versions,
        product_type=policy.product_type,
        channel=policy.channel,
        age=applicant_age(policy),
        get_script=lambda version: version.script,
    )


def version_for_task(task: CallbackTask) -> ScriptVersion | None:
    """The script a task's call reads: its campaign's for a contact verification, else the policy's."""
    if task.kind == TaskKind.CONTACT_VERIFICATION:
        campaign = task.campaign
        version = campaign.script_version if campaign else None
        return version if version and version.status == ScriptVersion.Status.PUBLISHED else None
    return version_for_policy(task.policy)


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _applies_q(script, today: dt.date) -> Q:
    """`verification.scripts.applies` as a filter on CallbackTask, for reports over many tasks."""
    q = Q(pk__isnull=False)  # not Q(): an empty Q vanishes when OR-ed, and a blank rule matches every task
    if script.product_types:
        q &= Q(policy__product_type__in=script.product_types)
    if script.channels:
        q &= Q(policy__channel__in=script.channels)
    if script.min_age is not None or script.max_age is not None:
        born = Q(role=PartyRole.APPLICANT, policy=OuterRef("policy"), birth_date__isnull=False)
        if script.min_age is not None:
            born &= Q(birth_date__lte=_years_ago(today, script.min_age))
        if script.max_age is not None:
            born &= Q(birth_date__gt=_years_ago(today, script.max_age + 1))
        q &= Exists(Party.objects.filter(born))
    return q


def covered_by_a_script_q(*, versions: list[ScriptVersion] | None = None) -> Q:
    """Tasks whose policy some published script covers (the queue may filter claims with this)."""
    today = timezone.localdate()
    versions = published_versions() if versions is None else versions
    q = Q(pk__in=[])
    for version in versions:
        q |= _applies_q(version.script, today)
    return q


def tasks_without_script() -> QuerySet[CallbackTask]:
    """Open callbacks that no published script covers: reported to admins, not workable."""
    return (
        CallbackTask.objects.filter(status=TaskStatus.OPEN, kind=TaskKind.FREE_LOOK)
        .exclude(covered_by_a_script_q())
        .select_related("policy")
        .order_by("deadline", "policy__policy_no")
    )


def _amount(value: Decimal | None) -> str:
    return f"{value:,.2f}" if value is not None else ""


def _term(policy: Policy) -> str:
    if policy.whole_life:
        return "终身"
    if policy.term_years is None:
        return ""
    return f"{policy.term_years.normalize():f}年"


def _zh_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def script_context(*, policy: Policy, task: CallbackTask | None = None, caller=None) -> dict[str, str]:
    """The values of every placeholder in `verification.scripts.PLACEHOLDERS` for this call."""
    applicant = policy.applicant
    name = applicant.name if applicant else ""
    salutation = name
    if applicant and name and applicant.gender in ("M", "F"):
        salutation = name[0] + ("先生" if applicant.gender == "M" else "女士")
    window_start, window_end = (task.window_start, task.window_end) if task else (None, None)
    return {
        "applicant_name": name,
        "applicant_salutation": salutation,
        "policy_no": policy.policy_no,
        "product_name": policy.product_name,
        "product_type": PRODUCT_TYPE_ZH.get(policy.product_type, policy.product_type),
        "premium": _amount(policy.premium),
        "payment_frequency": FREQUENCY_ZH.get(policy.payment_frequency, policy.payment_frequency),
        "payment_years": str(policy.payment_years or ""),
        "term": _term(policy),
        "agent_name": policy.agent_name,
        "agent_code": policy.agent_code,
        "branch_name": policy.branch_name,
        "receipt_date": _zh_date(policy.receipt_date),
        "free_look_days": str((window_end - window_start).days + 1) if window_start and window_end else "",
        "free_look_end": _zh_date(window_end),
        "insurer_hotline": settings.INSURER_HOTLINE,
        "caller_name": (caller.get_full_name() or caller.username) if caller else "",
    }


def identity_reference(policy: Policy) -> dict:
    """What an identity answer is compared with. Never sent to the agent's browser."""
    applicant = policy.applicant
    return {
        "birth_date": applicant.birth_date if applicant else None,
        "id_no": applicant.id_no if applicant else "",
    }
