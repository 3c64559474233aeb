"""Who is offered an e-callback: the admins' settings and phone-only rules (one definition, used
for a single task and as a filter over many)."""

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from verification import scripts
from verification.vocab import PartyRole

from ..models import ECallbackSettings, Party, PhoneOnlyRule, Policy


def current_settings() -> ECallbackSettings:
    """The saved settings, or the defaults when an admin never saved any."""
    return ECallbackSettings.objects.order_by("pk").first() or ECallbackSettings()


def active_rules() -> list[PhoneOnlyRule]:
    return list(PhoneOnlyRule.objects.filter(active=True))


def rule_matches(rule: PhoneOnlyRule, *, channel: str, product_type: str, age: int | None, premium) -> bool:
    if rule.channels and channel not in rule.channels:
        return False
    if rule.product_types and product_type not in rule.product_types:
        return False
    # An unknown age cannot prove the applicant is under the limit: called by phone.
    if rule.min_age is not None and age is not None and age < rule.min_age:
        return False
    if rule.min_premium is not None and (premium is None or Decimal(premium) < rule.min_premium):
        return False
    return True


def phone_only(
    policy: Policy, *, rules: list[PhoneOnlyRule] | None = None, today: dt.date | None = None
) -> bool:
    """Whether an admin's rule keeps this policy on the phone."""
    applicant = policy.applicant
    age = scripts.age_on(applicant.birth_date if applicant else None, today or timezone.localdate())
    return any(
        rule_matches(
            rule, channel=policy.channel, product_type=policy.product_type, age=age, premium=policy.premium
        )
        for rule in (active_rules() if rules is None else rules)
    )


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def rule_q(rule: PhoneOnlyRule, today: dt.date) -> Q:
    """`rule_matches` as a filter on CallbackTask (the sweep's offer pass over many tasks)."""
    q = Q(pk__isnull=False)
    if rule.channels:
        q &= Q(policy__channel__in=rule.channels)
    if rule.product_types:
        q &= Q(policy__product_type__in=rule.product_types)
    if rule.min_age is not None:
        younger = Party.objects.filter(
            policy=OuterRef("policy"),
            role=PartyRole.APPLICANT,
            birth_date__gt=_years_ago(today, rule.min_age),
        )
        q &= ~Exists(younger)
    if rule.min_premium is not None:
        q &= Q(policy__premium__gte=rule.min_premium)
    return q


def phone_only_q(rules: list[PhoneOnlyRule], today: dt.date) -> Q:
    q = Q(pk__in=[])
    for rule in rules:
        q |= rule_q(rule, today)
    return q


def has_mobile_q() -> Q:
    return Exists(
        Party.objects.applicants().filter(policy=OuterRef("policy")).exclude(mobile_e164="", mobile="")
    )


def fallback_time(
    *, sent_at: dt.datetime, deadline: dt.datetime | None, settings_row: ECallbackSettings
) -> dt.datetime:
    """When an unfinished e-callback goes to the phone queue: N days after the SMS or M days before the
    window ends, whichever comes first."""
    after = sent_at + dt.timedelta(days=settings_row.fallback_after_days)
    if deadline is None:
        return after
    return min(after, deadline - dt.timedelta(days=settings_row.fallback_before_end_days))
