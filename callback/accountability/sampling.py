"""Sampling checks (第十一条(二)(四), 操作要求七).

A supervisor draws a random sample of new policies (to check the application form against the recorded
data) or of in-force policies (to check that the contact data is still true and the salesperson's name
and number are right), per branch and period, as a percentage or a count. The draw is reproducible: the
population is ordered by policy number and sampled with `random.Random(seed)`, and the seed is recorded.
Reviewers mark each policy as matching or list the fields that differ; each difference becomes a flag of
the code the reviewer chose for it. The sample, who checked what and the results stay as evidence.
"""

import datetime as dt
import math
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from verification.vocab import FlagCode, PartyRole

from ..audit import record_audit
from ..models import ContactFlag, Policy, Sample, SampleItem, SampleKind, SampleResult
from ..models.flags import ACTIVE_FLAG_STATUSES, FLAG_DETAIL_LENGTH

MAX_SAMPLE = 5000


class SamplingError(ValueError):
    """A draw or a check that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class CheckField:
    party: str
    field: str
    label: str
    codes: tuple[str, ...]  # the flag codes a difference in this field may be; the first is the default


_C = FlagCode
# What a reviewer compares, and which flag a difference becomes. New business: the application form
# against every recorded field. In force: the contact data and the salesperson (操作要求七).
_APPLICANT = PartyRole.APPLICANT
CHECK_FIELDS: dict[str, list[CheckField]] = {
    SampleKind.NEW_BUSINESS: [
        CheckField(_APPLICANT, "name", gettext_lazy("Applicant's name"), (_C.MISSING_FIELD,)),
        CheckField(_APPLICANT, "id_no", gettext_lazy("Applicant's id number"), (_C.ID_INVALID,)),
        CheckField(_APPLICANT, "birth_date", gettext_lazy("Applicant's birth date"), (_C.ID_BIRTH_MISMATCH,)),
        CheckField(_APPLICANT, "gender", gettext_lazy("Applicant's gender"), (_C.ID_GENDER_MISMATCH,)),
        CheckField(
            _APPLICANT,
            "mobile",
            gettext_lazy("Applicant's mobile"),
            (_C.MOBILE_INVALID, _C.PHONE_IS_AGENT, _C.PHONE_IS_OUTLET),
        ),
        CheckField(_APPLICANT, "address", gettext_lazy("Applicant's address"), (_C.ADDRESS_INCOMPLETE,)),
        CheckField(
            PartyRole.INSURED, "relation", gettext_lazy("Insured's relation"), (_C.RELATION_INCONSISTENT,)
        ),
        CheckField(
            PartyRole.SALES, "agent_name", gettext_lazy("Salesperson's name"), (_C.AGENT_NAME_MISMATCH,)
        ),
    ],
    SampleKind.IN_FORCE: [
        CheckField(
            _APPLICANT,
            "mobile",
            gettext_lazy("Applicant's mobile"),
            (_C.CALLBACK_WRONG_NUMBER, _C.PHONE_IS_AGENT, _C.PHONE_IS_OUTLET, _C.PHONE_IS_COMPANY),
        ),
        CheckField(
            _APPLICANT,
            "phone",
            gettext_lazy("Applicant's landline"),
            (_C.CALLBACK_WRONG_NUMBER, _C.PHONE_IS_AGENT, _C.PHONE_IS_OUTLET, _C.PHONE_IS_COMPANY),
        ),
        CheckField(
            _APPLICANT,
            "address",
            gettext_lazy("Applicant's address"),
            (_C.ADDRESS_INCOMPLETE, _C.ADDRESS_IS_OUTLET),
        ),
        CheckField(PartyRole.SALES, "agent_code", gettext_lazy("Salesperson's number"), (_C.AGENT_UNKNOWN,)),
        CheckField(
            PartyRole.SALES, "agent_name", gettext_lazy("Salesperson's name"), (_C.AGENT_NAME_MISMATCH,)
        ),
    ],
}


def check_fields(kind: str) -> list[CheckField]:
    return CHECK_FIELDS[kind]


def population(*, kind: str, branch: str, start: dt.date, end: dt.date):
    """The policies a sample is drawn from, in the fixed order the seed is applied to.

    New business: issued in the period. In force: issued on or before the period's end (Huifang keeps
    no lapse date; a policy surrendered in the free-look period is the core system's to remove).
    """
    qs = Policy.objects.filter(issue_date__lte=end)
    if kind == SampleKind.NEW_BUSINESS:
        qs = qs.filter(issue_date__gte=start)
    if branch:
        qs = qs.filter(branch_code=branch)
    return qs.order_by("policy_no")


def sample_size(*, population_size: int, percent: Decimal | None, count: int | None) -> int:
    if count is not None:
        return min(count, population_size)
    return min(population_size, math.ceil(population_size * Decimal(percent) / 100))


def draw_ids(ids: list[int], *, size: int, seed: int) -> list[int]:
    """The same ids, seed and size always give the same sample."""
    return sorted(random.Random(seed).sample(ids, size))


@transaction.atomic
def draw_sample(
    *,
    kind: str,
    branch: str,
    start: dt.date,
    end: dt.date,
    user,
    percent: Decimal | None = None,
    count: int | None = None,
    seed: int | None = None,
    request=None,
) -> Sample:
    if kind not in SampleKind.values:
        raise SamplingError(_("Unknown kind of sample."))
    if start > end:
        raise SamplingError(_("The end date is before the start date."))
    if (percent is None) == (count is None):
        raise SamplingError(_("Give either a percentage or a count."))
    if percent is not None and not (Decimal(0) < percent <= 100):
        raise SamplingError(_("The percentage must be more than 0 and at most 100."))
    if count is not None and not (0 < count <= MAX_SAMPLE):
        raise SamplingError(_("The count must be between 1 and %(n)d.") % {"n": MAX_SAMPLE})
    seed = secrets.randbelow(2**62) if seed is None else seed
    ids = list(population(kind=kind, branch=branch, start=start, end=end).values_list("pk", flat=True))
    size = sample_size(population_size=len(ids), percent=percent, count=count)
    if size > MAX_SAMPLE:
        raise SamplingError(
            _("The sample would be %(size)d policies; at most %(n)d.") % {"size": size, "n": MAX_SAMPLE}
        )
    sample = Sample.objects.create(
        kind=kind,
        branch_code=branch,
        period_start=start,
        period_end=end,
        percent=percent,
        requested=count,
        seed=seed,
        population=len(ids),
        drawn_by=user,
    )
    SampleItem.objects.bulk_create(
        [SampleItem(sample=sample, policy_id=pk) for pk in draw_ids(ids, size=size, seed=seed)]
    )
    record_audit(
        user=user,
        action="sample_draw",
        obj=sample,
        detail={"kind": kind, "branch": branch, "seed": seed, "size": size, "population": len(ids)},
        request=request,
    )
    return sample


@transaction.atomic
def record_check(
    *, item: SampleItem, user, differences: Mapping[str, str], note: str = "", request=None
) -> SampleItem:
    """Record what the reviewer found: `differences` maps "party.field" to the flag code chosen for it
    (empty: everything matched). Each difference raises (or joins) a live flag of that code."""
    item = SampleItem.objects.select_for_update().select_related("sample", "policy").get(pk=item.pk)
    if item.result != SampleResult.PENDING:
        raise SamplingError(_("This policy has already been checked."))
    allowed = {f"{f.party}.{f.field}": f for f in check_fields(item.sample.kind)}
    found = []
    for key, code in differences.items():
        spec = allowed.get(key)
        if spec is None or code not in spec.codes:
            raise SamplingError(_("%(field)s cannot be flagged as %(code)s.") % {"field": key, "code": code})
        flag = ContactFlag.objects.filter(
            policy=item.policy, party=spec.party, field=spec.field, code=code, status__in=ACTIVE_FLAG_STATUSES
        ).first()
        if flag is None:
            flag = ContactFlag.objects.create(
                policy=item.policy,
                party=spec.party,
                field=spec.field,
                code=code,
                # Stored in one language, read in the reader's (flags.describe_detail).
                detail=f"Sampling check #{item.sample_id}: differs from the application"[:FLAG_DETAIL_LENGTH],
                raised_by=user,
            )
        found.append({"party": spec.party, "field": spec.field, "code": code, "flag": flag.pk})
    item.result = SampleResult.DISCREPANCY if found else SampleResult.MATCH
    item.differences = found
    item.note = (note or "").strip()[:300]
    item.checked_by, item.checked_at = user, timezone.now()
    item.save()
    record_audit(
        user=user,
        action="sample_check",
        obj=item,
        detail={"sample": item.sample_id, "policy": item.policy.policy_no, "result": item.result},
        request=request,
    )
    return item


@dataclass
class SampleReportRow:
    branch_code: str
    size: int
    checked: int
    discrepancies: int

    @property
    def discrepancy_rate(self) -> float:
        return self.discrepancies / self.checked if self.checked else 0.0


def sample_report(*, samples=None, period_start: dt.date | None = None, period_end: dt.date | None = None):
    """Per branch: policies sampled, checked, with a discrepancy, and the rate among those checked."""
    items = SampleItem.objects.all()
    if samples is not None:
        items = items.filter(sample__in=samples)
    if period_start:
        items = items.filter(sample__period_end__gte=period_start)
    if period_end:
        items = items.filter(sample__period_start__lte=period_end)
    rows = (
        items.order_by()
        .values("policy__branch_code")
        .annotate(
            size=Count("id"),
            checked=Count("id", filter=~Q(result=SampleResult.PENDING)),
            discrepancies=Count("id", filter=Q(result=SampleResult.DISCREPANCY)),
        )
        .order_by("policy__branch_code")
    )
    return [
        SampleReportRow(r["policy__branch_code"], r["size"], r["checked"], r["discrepancies"]) for r in rows
    ]
