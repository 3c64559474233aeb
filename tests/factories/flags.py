"""Factories for contact flags, made directly (not through screening)."""

import factory

from callback import models
from verification.vocab import FlagCode, PartyRole

from . import PartyFactory, PolicyFactory


class ContactFlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContactFlag

    policy = factory.SubFactory(PolicyFactory)
    party = PartyRole.APPLICANT
    field = "applicant_mobile"
    code = FlagCode.MOBILE_INVALID
    detail = "12345678901 is not a mainland mobile"
    status = models.FlagStatus.OPEN


def flagged_policy(*, code: str = FlagCode.MOBILE_INVALID, **policy_fields) -> models.ContactFlag:
    """A policy with its applicant and one flag on it."""
    policy = PolicyFactory(**policy_fields)
    PartyFactory(policy=policy)
    return ContactFlagFactory(policy=policy, code=code)
