"""Which tasks the fallback rules move off the phone, and the moves themselves (fallback issue).

A rule moves a task once (FallbackMove's unique (task, rule) key, and the candidates exclude tasks the
rule already moved), so the sweep may run every minute, late, or twice. A moved task gets status
"fallback" — the claim serves only "open" tasks, so it leaves the agents' queue — and an attempt of the
rule's channel with its delivery record (to print / to visit).

An SMS e-callback rule is different: the e-callback (callback/ecallback/) sends the applicant a link and
keeps the task "open" (its page works only on open tasks) with the phone queue waiting until the link's
fallback time; its attempt (channel ecallback) is made when the applicant proves who they are. A task
that cannot have one (no mobile, opted out, e-callbacks off, a phone-only rule…) falls through to the
next rule of the same trigger whose channel fits, and the reason is kept on the e-callback rule's move.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.validators import normalize_phone
from verification.vocab import Outcome, PartyRole

from ..audit import record_audit
from ..models import (
    CallAttempt,
    CallbackTask,
    Channel,
    DeliveryStatus,
    ECallbackLink,
    FallbackDelivery,
    FallbackMove,
    FallbackRule,
    FallbackTrigger,
    LinkStatus,
    Party,
    TaskStatus,
)
from ..script_for_policy import version_for_policy

# Outcomes that mean somebody was reached: such a task did not fail "without contact".
CONTACT_OUTCOMES = frozenset(
    {
        Outcome.VERIFIED,
        Outcome.VERIFIED_WITH_ISSUES,
        Outcome.FAILED_IDENTITY,
        Outcome.REFUSED,
        Outcome.AGENT_ANSWERED,
        Outcome.CALLBACK_REQUESTED,
    }
)
OUTSTANDING = (DeliveryStatus.TO_SEND, DeliveryStatus.SENT)


def _applicant(task: CallbackTask) -> Party | None:
    return Party.objects.filter(policy_id=task.policy_id, role=PartyRole.APPLICANT).order_by("seq").first()


def channel_usable(channel: str, task: CallbackTask) -> bool:
    """A letter needs an address; a visit is always possible (an e-callback: `ecallback_refusal`)."""
    applicant = _applicant(task)
    if channel == Channel.LETTER:
        return bool(applicant and applicant.address.strip())
    return channel == Channel.VISIT


def ecallback_refusal(task: CallbackTask, *, now: dt.datetime) -> str:
    """Why the SMS e-callback cannot take `task`, in words ("" when it can): a dead mobile (the "every
    number dead" case), or a reason of the e-callback's own (callback.ecallback.cannot_offer)."""
    from ..ecallback import cannot_offer

    applicant = _applicant(task)
    mobile = (applicant.mobile_e164 or applicant.mobile) if applicant else ""
    if mobile and normalize_phone(mobile) in {normalize_phone(n) for n in task.dead_numbers}:
        return _("the applicant's mobile is a dead number")
    return cannot_offer(task=task, now=now)


def live_ecallback():
    """An e-callback link of the task (OuterRef) the applicant may still be working through: a way
    still in progress, like a letter out, so no other rule takes the task meanwhile."""
    return ECallbackLink.objects.filter(
        task=OuterRef("pk"), status__in=(LinkStatus.SENT, LinkStatus.IDENTIFIED)
    )


def outstanding():
    """A letter or visit of the task (OuterRef) still to send or sent with its receipt not yet back."""
    return FallbackDelivery.objects.filter(attempt__task=OuterRef("pk"), status__in=OUTSTANDING)


def _unheld(now: dt.datetime) -> Q:
    return Q(holder__isnull=True) | Q(lease_expires_at__lte=now)


def candidates(rule: FallbackRule, *, now: dt.datetime) -> QuerySet[CallbackTask]:
    """Tasks `rule` would move now: still on the phone (or waiting for contact data), window open, not
    on a call, no appointment pending, never moved by this rule."""
    moved = FallbackMove.objects.filter(task=OuterRef("pk"), rule=rule)
    tasks = CallbackTask.objects.filter(_unheld(now), deadline__gt=now, appointment_at__isnull=True).exclude(
        Exists(moved) | Exists(live_ecallback())
    )
    today = timezone.localdate(now)
    if rule.trigger == FallbackTrigger.NO_NUMBER:
        # With K set, the branch has until K days before the window ends to send the number.
        waiting = tasks.filter(status=TaskStatus.NEEDS_CONTACT)
        if rule.days_before_end is not None:
            waiting = waiting.filter(window_end__lte=today + dt.timedelta(days=rule.days_before_end))
        return waiting
    # On the phone, or on a fallback whose letters and visits all came to nothing (the next rule's turn).
    tasks = tasks.filter(Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.FALLBACK) & ~Exists(outstanding()))
    if rule.trigger == FallbackTrigger.WINDOW_ENDING:
        return tasks.filter(window_end__lte=today + dt.timedelta(days=rule.days_before_end or 0))
    if rule.trigger == FallbackTrigger.NO_CONTACT:
        return tasks.filter(attempts__gte=rule.min_attempts or 1)
    return tasks.exclude(dead_numbers=[])  # ALL_DEAD, narrowed in Python (matches)


def rule_applies(
    rule,
    *,
    waiting_for_number: bool,
    numbers_left: int,
    call_days: list[dt.date],
    contact: bool,
    window_end: dt.date,
    today: dt.date,
) -> bool:
    """Whether `rule` (a FallbackRule or anything with its fields) calls for moving a task in this state:
    the trigger as plain values, which `candidates` says in SQL and bench/queue_sim.py runs in memory.

    `call_days` holds the local date of each closed phone call; `contact` whether one reached anybody.
    """
    if rule.trigger == FallbackTrigger.NO_NUMBER:
        return waiting_for_number and (
            rule.days_before_end is None or window_end <= today + dt.timedelta(days=rule.days_before_end)
        )
    if waiting_for_number:
        return False
    if rule.trigger == FallbackTrigger.ALL_DEAD:
        return numbers_left == 0
    if rule.trigger == FallbackTrigger.NO_CONTACT:
        return (
            not contact
            and len(call_days) >= (rule.min_attempts or 1)
            and len(set(call_days)) >= (rule.over_days or 1)
        )
    return window_end <= today + dt.timedelta(days=rule.days_before_end or 0)  # WINDOW_ENDING


def matches(rule: FallbackRule, task: CallbackTask, *, today: dt.date) -> bool:
    """`rule_applies` for a task in the database (after `candidates` narrowed the tasks in SQL)."""
    from ..outcomes import live_numbers

    calls = list(
        CallAttempt.objects.filter(task=task, channel=Channel.PHONE)
        .exclude(outcome="")
        .values_list("outcome", "started_at")
    )
    return rule_applies(
        rule,
        waiting_for_number=task.status == TaskStatus.NEEDS_CONTACT,
        numbers_left=len(live_numbers(task, _applicant(task))),
        call_days=[timezone.localdate(started) for _, started in calls],
        contact=any(outcome in CONTACT_OUTCOMES for outcome, _ in calls),
        window_end=task.window_end,
        today=today,
    )


def _open_delivery(*, task: CallbackTask, channel: str, reply_days: int, now: dt.datetime) -> CallAttempt:
    attempt = CallAttempt.objects.create(
        task=task, channel=channel, agent=None, script_version=version_for_policy(task.policy)
    )
    FallbackDelivery.objects.create(
        attempt=attempt,
        branch_code=task.policy.branch_code,
        reply_by=timezone.localdate(now) + dt.timedelta(days=reply_days),
    )
    return attempt


def _to_fallback(task: CallbackTask, *, now: dt.datetime) -> None:
    task.status = TaskStatus.FALLBACK
    task.holder, task.lease_expires_at = None, None
    task.appointment_at, task.appointment_agent = None, None


def move(
    *,
    task: CallbackTask,
    channel: str,
    rule: FallbackRule | None = None,
    reason: str = "",
    by=None,
    now: dt.datetime | None = None,
    save: bool = True,
) -> FallbackMove:
    """Move `task` (locked by the caller) to `channel`; `save=False` leaves saving the task to the caller."""
    now = now or timezone.now()
    _to_fallback(task, now=now)
    if save:
        task.save()
    reply_days = rule.reply_days if rule else 10
    _open_delivery(task=task, channel=channel, reply_days=reply_days, now=now)
    return FallbackMove.objects.create(task=task, rule=rule, to_channel=channel, reason=reason, by=by, at=now)


def _used_rules(task: CallbackTask) -> set[int]:
    return set(FallbackMove.objects.filter(task=task, rule__isnull=False).values_list("rule_id", flat=True))


def by_ecallback(
    *, task: CallbackTask, rule: FallbackRule, now: dt.datetime, save: bool = True
) -> FallbackMove | None:
    """Apply the SMS e-callback rule `rule` to `task` (locked by the caller): the e-callback link SMS,
    or, when the task cannot have one, the next rule of the same trigger whose channel fits. The
    e-callback rule is spent either way, its move saying where the task went and why; None when no
    rule took the task (it stays where it was)."""
    from ..ecallback import offer_ecallback

    why = ecallback_refusal(task, now=now)
    if not why:
        before = (task.status, task.holder, task.lease_expires_at)
        # The e-callback's page works on open tasks only: a task back from a lapsed letter reopens (the
        # phone waits until the link's fallback time), and an expired lease is let go as a move does.
        task.status, task.holder, task.lease_expires_at = TaskStatus.OPEN, None, None
        task.save()
        link = offer_ecallback(task=task, now=now)
        if link is not None:
            task.refresh_from_db(fields=["next_attempt_at"])  # the caller may save the task again
            return FallbackMove.objects.create(task=task, rule=rule, to_channel=Channel.ECALLBACK, at=now)
        task.status, task.holder, task.lease_expires_at = before
        task.save()
        why = _("the e-callback could not be offered")
    reason = _("No SMS e-callback: %(why)s.") % {"why": why}
    used = _used_rules(task)
    fallthrough = next(
        (
            other
            for other in FallbackRule.objects.filter(active=True, trigger=rule.trigger)
            .exclude(channel=Channel.ECALLBACK)
            .order_by("order", "id")
            if other.pk not in used and channel_usable(other.channel, task)
        ),
        None,
    )
    FallbackMove.objects.create(
        task=task,
        rule=rule,
        to_channel=fallthrough.channel if fallthrough else Channel.PHONE,
        reason=reason,
        at=now,
    )
    if fallthrough is None:
        return None
    return move(task=task, channel=fallthrough.channel, rule=fallthrough, reason=reason, now=now, save=save)


def apply_rules(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Move every task a rule calls for; returns how many moved. Idempotent (see the module doc)."""
    now = now or timezone.now()
    moved = 0
    for rule in FallbackRule.objects.filter(active=True).order_by("order", "id"):
        ids = list(candidates(rule, now=now).order_by("deadline", "pk").values_list("pk", flat=True)[:limit])
        for task_id in ids:
            with transaction.atomic():
                task = (
                    CallbackTask.objects.select_for_update(skip_locked=True)
                    .select_related("policy")
                    .filter(pk=task_id)
                    .filter(_unheld(now))
                    .filter(
                        Q(status__in=(TaskStatus.OPEN, TaskStatus.NEEDS_CONTACT))
                        | Q(status=TaskStatus.FALLBACK) & ~Exists(outstanding())
                    )
                    .first()
                )
                if task is None or not matches(rule, task, today=timezone.localdate(now)):
                    continue
                if rule.channel == Channel.ECALLBACK:
                    moved += by_ecallback(task=task, rule=rule, now=now) is not None
                    continue
                if not channel_usable(rule.channel, task):
                    continue
                move(task=task, channel=rule.channel, rule=rule, now=now)
                moved += 1
    return moved


def take_over(*, task: CallbackTask, triggers: Iterable[str], now: dt.datetime) -> FallbackMove | None:
    """When the phone has given up on `task` (locked, saved by the caller): move it by the first active
    rule of `triggers` not yet used on it whose channel fits (an SMS e-callback keeps the task open, the
    phone waiting for the link); None when no rule is left (the caller then fails the task as before)."""
    for rule in FallbackRule.objects.filter(active=True, trigger__in=list(triggers)).order_by("order", "id"):
        if rule.pk in _used_rules(task):
            continue
        if rule.channel == Channel.ECALLBACK:
            if (taken := by_ecallback(task=task, rule=rule, now=now, save=False)) is not None:
                return taken
        elif channel_usable(rule.channel, task):
            return move(task=task, channel=rule.channel, rule=rule, now=now, save=False)
    return None


class MoveError(ValueError):
    """A manual move that cannot be done; the message says why."""


@transaction.atomic
def move_by_hand(*, task: CallbackTask, to: str, reason: str, by, request=None) -> FallbackMove:
    """A supervisor moves a task between the phone and a fallback channel, with a reason (audited)."""
    from django.utils.translation import gettext as _

    reason = (reason or "").strip()
    if not reason:
        raise MoveError(_("Say why the task moves."))
    now = timezone.now()
    locked = CallbackTask.objects.select_for_update().select_related("policy").get(pk=task.pk)
    if to == Channel.PHONE:
        if locked.status != TaskStatus.FALLBACK:
            raise MoveError(_("This task is not on a fallback channel."))
        cancelled = FallbackDelivery.objects.filter(attempt__task=locked, status__in=OUTSTANDING)
        CallAttempt.objects.filter(delivery__in=cancelled).update(ended_at=now)
        cancelled.update(status=DeliveryStatus.CANCELLED)
        locked.status, locked.next_attempt_at = TaskStatus.OPEN, now
        locked.save()
        from ..schedule import sync_tasks

        sync_tasks(policy_ids=[locked.policy_id], now=now)  # back to "needs contact data" if no number
        result = FallbackMove.objects.create(
            task=locked, to_channel=Channel.PHONE, reason=reason, by=by, at=now
        )
    else:
        # An e-callback by hand is not offered here: the e-callback sweep and rules send the links.
        if to not in (Channel.LETTER, Channel.VISIT):
            raise MoveError(_("Choose the phone, a letter or a branch visit."))
        if locked.status not in (TaskStatus.OPEN, TaskStatus.NEEDS_CONTACT, TaskStatus.FALLBACK):
            raise MoveError(_("This task is closed."))
        if locked.holder_id and locked.lease_expires_at and locked.lease_expires_at > now:
            raise MoveError(_("An agent is on this callback now: try again when the call is closed."))
        if not channel_usable(to, locked):
            raise MoveError(_("This channel cannot reach the applicant (no address, or not available)."))
        result = move(task=locked, channel=to, reason=reason, by=by, now=now)
    record_audit(
        user=by,
        action="fallback_move",
        obj=locked,
        detail={"policy_no": locked.policy.policy_no, "to": to, "reason": reason},
        request=request,
    )
    return result
