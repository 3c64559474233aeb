"""What was tried to reach the applicant: every call, SMS e-callback, letter and visit (fallback issue).

The "detailed record" insurers keep of a callback that never reached the applicant: the detail of
`callback_unreachable`, the policy page and `export_tasks` all read it from here. An e-callback counts
from its link SMS (the applicant may never open it, so it may have no attempt), and an e-callback
rule that could not send one says why (no mobile, opted out…).
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import CallAttempt, CallbackTask, Channel, ECallbackLink, FallbackMove

FLAG_DETAIL_MAX = 300


@dataclass
class Tried:
    channel: str
    channel_label: str
    when: str  # local date (and time for calls)
    result: str  # disposition, or the state of a letter/visit
    by: str


def _describe(attempt: CallAttempt) -> Tried:
    local = timezone.localtime(attempt.ended_at or attempt.started_at)
    delivery = getattr(attempt, "delivery", None)
    if attempt.outcome:
        result = attempt.get_outcome_display()
    elif delivery is not None:
        result = delivery.get_status_display()
        if delivery.status in ("to_send", "sent"):
            result = _("%(state)s, return by %(date)s") % {"state": result, "date": delivery.reply_by}
    else:
        result = _("not closed")
    if delivery is not None and delivery.returned_on:
        result = _("%(result)s (receipt returned %(date)s)") % {
            "result": result,
            "date": delivery.returned_on,
        }
    return Tried(
        channel=attempt.channel,
        channel_label=str(Channel(attempt.channel).label),
        when=local.strftime("%Y-%m-%d %H:%M" if attempt.channel == Channel.PHONE else "%Y-%m-%d"),
        result=str(result),
        by=(attempt.agent.get_full_name() or attempt.agent.username) if attempt.agent else "",
    )


def _link(link: ECallbackLink) -> Tried:
    """An e-callback link the applicant never proved their identity on (else its attempt says it)."""
    return Tried(
        channel=Channel.ECALLBACK,
        channel_label=str(Channel.ECALLBACK.label),
        when=timezone.localtime(link.sent_at).strftime("%Y-%m-%d"),
        result=_("link sent by SMS, %(status)s") % {"status": link.get_status_display()},
        by="",
    )


def _not_offered(move: FallbackMove) -> Tried:
    return Tried(
        channel=Channel.ECALLBACK,
        channel_label=str(Channel.ECALLBACK.label),
        when=timezone.localtime(move.at).strftime("%Y-%m-%d"),
        result=move.reason,
        by="",
    )


def _records(task_ids: list[int]) -> dict[int, list[Tried]]:
    """Per task, every attempt, unopened e-callback link and e-callback rule that could not send one,
    oldest first (three queries for any number of tasks)."""
    found: list[tuple[int, dt.datetime, int, Tried]] = []
    attempts = CallAttempt.objects.select_related("agent", "delivery").filter(task_id__in=task_ids)
    for attempt in attempts:
        found.append((attempt.task_id, attempt.started_at, attempt.pk, _describe(attempt)))
    for link in ECallbackLink.objects.filter(task_id__in=task_ids, attempt__isnull=True):
        found.append((link.task_id, link.sent_at, 0, _link(link)))
    refused = FallbackMove.objects.filter(task_id__in=task_ids, rule__channel=Channel.ECALLBACK).exclude(
        to_channel=Channel.ECALLBACK
    )
    for move in refused:
        found.append((move.task_id, move.at, 0, _not_offered(move)))
    by_task: dict[int, list[Tried]] = {}
    for task_id, _at, _pk, row in sorted(found, key=lambda item: item[1:3]):
        by_task.setdefault(task_id, []).append(row)
    return by_task


def tried(task: CallbackTask) -> list[Tried]:
    """Everything tried on `task`, oldest first, in words."""
    return _records([task.pk]).get(task.pk, [])


def _as_text(rows: list[Tried]) -> str:
    return "；".join(f"{t.channel_label} {t.when} {t.result}" for t in rows)


def tried_texts(task_ids: list[int]) -> dict[int, str]:
    """The whole record of each task in one line, for many tasks in one query (export_tasks)."""
    return {task_id: _as_text(rows) for task_id, rows in _records(task_ids).items()}


def tried_text(task: CallbackTask) -> str:
    """The whole record in one line."""
    return _as_text(tried(task))


def tried_summary(task: CallbackTask, limit: int = FLAG_DETAIL_MAX) -> str:
    """The record as a flag's detail: per channel the count and each date with its result, shortened
    to fit; the policy page and the export carry it in full."""
    rows = tried(task)
    if not rows:
        return _("Nothing was tried: no callable number and no fallback channel configured.")
    parts = []
    for channel in Channel.values:
        mine = [t for t in rows if t.channel == channel]
        if mine:
            items = "、".join(f"{t.when[5:]} {t.result}" for t in mine)
            parts.append(
                _("%(channel)s ×%(count)s (%(items)s)")
                % {"channel": mine[0].channel_label, "count": len(mine), "items": items}
            )
    text = _("Tried: %(parts)s") % {"parts": "; ".join(parts)}
    return text if len(text) <= limit else text[: limit - 1] + "…"
