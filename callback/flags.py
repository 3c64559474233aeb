"""What supervisors do with contact flags once screening raised them: find, count, work through.

Selectors (`flag_list`, `flag_facets`) read; services (`request_correction`, `waive_flags`,
`resolve_flag`) change a flag's status, each step recording who and when (FORMATS.md, contact-data
flags: open → correction requested → resolved, or waived by a supervisor with a reason).
"""

import datetime as dt
import hashlib
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from verification.vocab import FlagCode

from . import flag_tally
from .audit import AuditContext, record_audit
from .models import ContactFlag, FlagStatus, Party

FILTER_KEYS = ("code", "status", "branch", "channel", "agent", "outlet", "raised_from", "raised_to", "q")

# Which statuses each step may start from. Anything else is refused and reported, never forced.
ALLOWED_FROM = {
    FlagStatus.CORRECTION_REQUESTED: (FlagStatus.OPEN,),
    FlagStatus.WAIVED: (FlagStatus.OPEN, FlagStatus.CORRECTION_REQUESTED),
    FlagStatus.RESOLVED: (FlagStatus.OPEN, FlagStatus.CORRECTION_REQUESTED),
}

REASON_MAX_LENGTH = ContactFlag._meta.get_field("close_reason").max_length


class FlagActionError(ValueError):
    """A step that cannot be taken as asked (no reason, nothing selected, wrong status)."""


@dataclass
class TransitionResult:
    """What a bulk step did: the flags it changed and, for each one it refused, why."""

    changed: list[int] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


def correction_due_for(requested_at: dt.datetime) -> dt.date:
    """The last day a branch has to correct the data behind a correction request (第八条 asks the
    insurer to set a deadline; CORRECTION_DAYS, 30 by default, counted from the request's Beijing date)."""
    return timezone.localdate(requested_at) + dt.timedelta(days=settings.CORRECTION_DAYS)


def _day_start(day: dt.date) -> dt.datetime:
    # Dates on the page are Beijing calendar dates; raised_at is stored in UTC.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def flag_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[ContactFlag]:
    """Flags matching `filters` (already validated: see forms/serializers), newest first.

    Keys: code, status, branch (branch_code), channel, agent (agent_code), outlet (outlet_code),
    raised_from/raised_to
    (dates, inclusive, Beijing time) and q (part of a policy number). Blank values are ignored.
    """
    filters = filters or {}
    qs = ContactFlag.objects.select_related("policy")
    if filters.get("code"):
        qs = qs.filter(code=filters["code"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("branch"):
        qs = qs.filter(policy__branch_code=filters["branch"])
    if filters.get("channel"):
        qs = qs.filter(policy__channel=filters["channel"])
    if filters.get("agent"):
        qs = qs.filter(policy__agent_code=filters["agent"])
    if filters.get("outlet"):
        qs = qs.filter(policy__outlet_code=filters["outlet"])
    if filters.get("raised_from"):
        qs = qs.filter(raised_at__gte=_day_start(filters["raised_from"]))
    if filters.get("raised_to"):
        qs = qs.filter(raised_at__lt=_day_start(filters["raised_to"] + dt.timedelta(days=1)))
    if filters.get("q"):
        qs = qs.filter(policy__policy_no__icontains=filters["q"].strip())
    return qs.order_by("-raised_at", "-id")


def with_applicant(qs: QuerySet[ContactFlag]) -> QuerySet[ContactFlag]:
    """Adds the applicant's name and mobile (for the list; mask the mobile before showing it)."""
    applicants = Party.objects.applicants().filter(policy=OuterRef("policy_id"))
    return qs.annotate(
        applicant_name=Subquery(applicants.values("name")[:1]),
        applicant_mobile=Subquery(applicants.values("mobile")[:1]),
    )


# The flag list's counts by code, status and branch come from the tally (callback/flag_tally.py) when
# the filter is on those columns. Otherwise they read every flag under the filter (up to a million,
# three times: bench/RESULTS.md, pages) and are shared by every supervisor for this long, per filter;
# a supervisor's own step on flags (request correction, waive, resolve) starts afresh.
FACETS_CACHE_SECONDS = 30
_FACETS_GENERATION = "flags:facets:generation"


def _facet_counts(filters: dict, top_branches: int) -> dict[str, list]:
    by_code = (
        flag_list(filters={**filters, "code": ""})
        .order_by()
        .values("code")
        .annotate(n=Count("id"))
        .order_by("-n", "code")
    )
    by_status = (
        flag_list(filters={**filters, "status": ""}).order_by().values("status").annotate(n=Count("id"))
    )
    by_branch = (
        flag_list(filters=filters)
        .order_by()
        .values("policy__branch_code", "policy__branch_name")
        .annotate(n=Count("id"))
        .order_by("-n", "policy__branch_code")[:top_branches]
    )
    return {
        "by_code": [(row["code"], row["n"]) for row in by_code],
        "by_status": {row["status"]: row["n"] for row in by_status},
        "by_branch": [
            (row["policy__branch_code"], row["policy__branch_name"], row["n"]) for row in by_branch
        ],
    }


def flag_facets(
    *, filters: Mapping[str, Any] | None = None, top_branches: int = 10, cached: bool = False
) -> dict[str, list]:
    """Counts for the flag list: by code (ignoring the code filter, so every code stays visible),
    by status (ignoring the status filter) and the branches with most flags under the full filter.
    `cached`: as read by any supervisor in the last FACETS_CACHE_SECONDS (the flag list page)."""
    filters = dict(filters or {})
    if flag_tally.answers(filters):  # exact at every moment, and cheap: no cache needed
        counts = flag_tally.counts(filters, top_branches)
    elif cached:
        digest = hashlib.sha256(repr(sorted(filters_for_audit(filters).items())).encode()).hexdigest()
        key = f"flags:facets:{cache.get(_FACETS_GENERATION, 0)}:{top_branches}:{digest}"
        counts = cache.get_or_set(key, lambda: _facet_counts(filters, top_branches), FACETS_CACHE_SECONDS)
    else:
        counts = _facet_counts(filters, top_branches)
    # Labels in the reader's language, never from the cache.
    code_labels = dict(FlagCode.choices)
    return {
        "by_code": [
            {"code": code, "label": code_labels.get(code, code), "n": n} for code, n in counts["by_code"]
        ],
        "by_status": [
            {"status": value, "label": label, "n": counts["by_status"].get(value, 0)}
            for value, label in FlagStatus.choices
        ],
        "by_branch": [{"branch": code, "name": name, "n": n} for code, name, n in counts["by_branch"]],
    }


def filters_for_audit(filters: Mapping[str, Any]) -> dict[str, str]:
    """The filter as plain strings, for the audit trail and export file names."""
    return {key: str(filters[key]) for key in FILTER_KEYS if filters.get(key) not in (None, "")}


# Phones and id numbers inside a detail ("+8613800138000", "130426196009081436"); dates stay readable.
_LONG_DIGITS = re.compile(r"\+?\d{7,}[Xx]?")


def masked_detail(text: str) -> str:
    """A flag's detail with phone and id numbers in it masked (flag details may quote them)."""
    from .privacy import mask_phone

    def mask(match: re.Match) -> str:
        number = match.group(0)
        if number.startswith("+86"):  # keep the country code visible, mask the national number
            return "+86" + mask_phone(number[3:])
        return mask_phone(number)

    return _LONG_DIGITS.sub(mask, text or "")


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FlagActionError(_("Give a reason for waiving or resolving the flags."))
    if len(reason) > REASON_MAX_LENGTH:
        raise FlagActionError(
            _("The reason is too long (at most %(n)d characters).") % {"n": REASON_MAX_LENGTH}
        )
    return reason


def _transition(
    *,
    flags: Iterable[ContactFlag] | QuerySet,
    to: str,
    user,
    reason: str = "",
    action: str,
    context: AuditContext | None = None,
) -> TransitionResult:
    ids = (
        [f.pk for f in flags] if not isinstance(flags, QuerySet) else list(flags.values_list("pk", flat=True))
    )
    if not ids:
        raise FlagActionError(_("Select at least one flag."))
    allowed = ALLOWED_FROM[to]
    result = TransitionResult()
    now = timezone.now()
    with transaction.atomic():
        # Lock the rows: two supervisors working the same list must not both close a flag.
        locked = list(ContactFlag.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        found = {f.pk for f in locked}
        for missing in sorted(set(ids) - found):
            result.refused.append({"id": missing, "status": "", "reason": _("No such flag.")})
        for flag in locked:
            if flag.status not in allowed:
                result.refused.append(
                    {
                        "id": flag.pk,
                        "status": flag.status,
                        "reason": _("It is %(status)s.") % {"status": flag.get_status_display()},
                    }
                )
                continue
            if to == FlagStatus.CORRECTION_REQUESTED:
                flag.correction_requested_at, flag.correction_requested_by = now, user
                flag.correction_due = correction_due_for(now)
            else:
                flag.closed_at, flag.closed_by, flag.close_reason = now, user, reason
            flag.status = to
            result.changed.append(flag.pk)
        changed_ids = set(result.changed)
        changed = [f for f in locked if f.pk in changed_ids]
        ContactFlag.objects.bulk_update(
            changed,
            [
                "status",
                "correction_requested_at",
                "correction_requested_by",
                "correction_due",
                "closed_at",
                "closed_by",
                "close_reason",
            ],
        )
        if changed:
            transaction.on_commit(lambda: cache.set(_FACETS_GENERATION, time.time_ns(), None))
            record_audit(
                user=user,
                action=action,
                obj=changed[0] if len(changed) == 1 else None,
                detail={"flags": result.changed, "reason": reason} if reason else {"flags": result.changed},
                context=context,
            )
    return result


def request_correction(
    *, flags: Iterable[ContactFlag] | QuerySet, user, context: AuditContext | None = None
) -> TransitionResult:
    """Ask the branch to correct the data behind open flags (open → correction requested)."""
    return _transition(
        flags=flags,
        to=FlagStatus.CORRECTION_REQUESTED,
        user=user,
        action="flag_request_correction",
        context=context,
    )


def waive_flags(
    *, flags: Iterable[ContactFlag] | QuerySet, user, reason: str, context: AuditContext | None = None
) -> TransitionResult:
    """Accept the data as it is, with a reason (open or correction requested → waived)."""
    reason = _clean_reason(reason)
    return _transition(
        flags=flags, to=FlagStatus.WAIVED, user=user, reason=reason, action="flag_waive", context=context
    )


def resolve_flag(*, flag: ContactFlag, user, reason: str, context: AuditContext | None = None) -> ContactFlag:
    """Close one flag by hand because the data was corrected outside an import."""
    reason = _clean_reason(reason)
    result = _transition(
        flags=[flag], to=FlagStatus.RESOLVED, user=user, reason=reason, action="flag_resolve", context=context
    )
    if result.refused:
        raise FlagActionError(result.refused[0]["reason"])
    flag.refresh_from_db()
    return flag


def resolve_flags(
    *, flags: Iterable[ContactFlag] | QuerySet, user, reason: str, context: AuditContext | None = None
) -> TransitionResult:
    reason = _clean_reason(reason)
    return _transition(
        flags=flags, to=FlagStatus.RESOLVED, user=user, reason=reason, action="flag_resolve", context=context
    )


def describe_result(result: TransitionResult) -> str:
    """One line for the user after a bulk step."""
    done, skipped = len(result.changed), len(result.refused)
    why = result.refused[0]["reason"] if result.refused else ""
    if skipped and not done:
        return ngettext(
            "No flag changed: %(n)d flag could not take this step (%(why)s).",
            "No flag changed: %(n)d flags could not take this step (%(why)s).",
            skipped,
        ) % {"n": skipped, "why": why}
    if skipped:
        return ngettext(
            "%(done)d flag changed; %(n)d skipped (%(why)s).",
            "%(done)d flags changed; %(n)d skipped (%(why)s).",
            done,
        ) % {"done": done, "n": skipped, "why": why}
    return ngettext("%(done)d flag changed.", "%(done)d flags changed.", done) % {"done": done}


def flag_history(flag: ContactFlag) -> list[dict[str, Any]]:
    """The steps of one flag, oldest first: what happened, who (None = Huifang itself), when, why."""
    steps = [{"step": _("Raised"), "by": flag.raised_by, "at": flag.raised_at, "reason": flag.detail}]
    if flag.correction_requested_at:
        steps.append(
            {
                "step": _("Correction requested"),
                "by": flag.correction_requested_by,
                "at": flag.correction_requested_at,
                "reason": "",
            }
        )
    if flag.closed_at:
        steps.append(
            {
                "step": flag.get_status_display(),
                "by": flag.closed_by,
                "at": flag.closed_at,
                "reason": flag.close_reason,
            }
        )
    return steps


# --- how a flag's detail reads on screen ------------------------------------------------------------
# The stored detail stays as screening wrote it (exports and the API carry it unchanged, FORMATS.md);
# pages show it in the user's language. Unknown details are shown as stored.
def _detail_words() -> dict[str, str]:
    return {
        "blank": _("blank"),
        "characters": _("invalid characters"),
        "length": _("wrong number of digits"),
        "range": _("not a mainland mobile range"),
        "no_area_code": _("no area code"),
        "area_code": _("unknown area code"),
        "subscriber": _("invalid subscriber number"),
        "area": _("unknown region code"),
        "birth_date": _("invalid birth date in the number"),
        "check_digit": _("wrong check digit"),
        "no province": _("no province"),
        "no city": _("no city"),
        "no district": _("no district"),
        "no street": _("no street and house number, building or village"),
        "no mobile or landline": _("no mobile or landline"),
        "blank or unreadable": _("blank or unreadable"),
        "child not younger than applicant": _("child not younger than the applicant"),
        "parent not older than applicant": _("parent not older than the applicant"),
    }


_DETAIL_PATTERNS = [
    (
        re.compile(r"^(?P<code>\S+) not in registry$"),
        lambda m: _("%(code)s not in the registry") % m.groupdict(),
    ),
    (
        re.compile(r"^shared by (?P<n>\d+) applicants$"),
        lambda m: _("shared by %(n)s applicants") % m.groupdict(),
    ),
    (
        re.compile(r"^(?P<code>\S+) \(this policy's own\)$"),
        lambda m: _("%(code)s (this policy's own)") % m.groupdict(),
    ),
    (
        re.compile(r"^registry: (?P<registry>.*) / policy: (?P<policy>.*)$"),
        lambda m: _("registry: %(registry)s / policy: %(policy)s") % m.groupdict(),
    ),
    (
        re.compile(r"^not a term: (?P<text>.*)$"),
        lambda m: _("not a term: %(text)s") % m.groupdict(),
    ),
    (
        re.compile(r"^to age (?P<age>\d+) without the insured's birth date$"),
        lambda m: _("to age %(age)s without the insured's birth date") % m.groupdict(),
    ),
    (
        re.compile(r"^to age (?P<target>\d+) but the insured was (?P<age>\d+) at issue$"),
        lambda m: _("to age %(target)s but the insured was %(age)s at issue") % m.groupdict(),
    ),
    (
        re.compile(r"^Sampling check #(?P<n>\d+): differs from the application$"),
        lambda m: _("Sampling check #%(n)s: differs from the application") % m.groupdict(),
    ),
    (
        re.compile(r"^(?P<code>\S+) has left$"),
        lambda m: _("salesperson %(code)s has left") % m.groupdict(),
    ),
    (
        re.compile(r"^(?P<code>\S+) left on (?P<day>\d{4}-\d{2}-\d{2})$"),
        lambda m: _("salesperson %(code)s left on %(day)s") % m.groupdict(),
    ),
    (
        re.compile(r"^id (?P<id>\S+) / stated (?P<stated>\S+)$"),
        lambda m: _("id number: %(id)s / stated: %(stated)s") % m.groupdict(),
    ),
]


def describe_detail(detail: str) -> str:
    """A flag's detail as users read it (translated where its form is known)."""
    words = _detail_words()
    if detail in words:
        return words[detail]
    for pattern, describe in _DETAIL_PATTERNS:
        match = pattern.match(detail)
        if match:
            return describe(match)
    return detail
