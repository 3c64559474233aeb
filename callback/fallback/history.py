"""What was tried to reach the applicant: every call, SMS, letter and visit (fallback issue).

The "detailed record" insurers keep of a callback that never reached the applicant: the detail of
`callback_unreachable`, the policy page and `export_tasks` all read it from here.
"""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import CallAttempt, CallbackTask, Channel

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


def _attempts():
    return CallAttempt.objects.select_related("agent", "delivery").order_by("started_at", "pk")


def tried(task: CallbackTask) -> list[Tried]:
    """Every attempt on `task`, oldest first, in words."""
    return [_describe(a) for a in _attempts().filter(task=task)]


def _as_text(rows: list[Tried]) -> str:
    return "；".join(f"{t.channel_label} {t.when} {t.result}" for t in rows)


def tried_texts(task_ids: list[int]) -> dict[int, str]:
    """The whole record of each task in one line, for many tasks in one query (export_tasks)."""
    by_task: dict[int, list[Tried]] = {}
    for attempt in _attempts().filter(task_id__in=task_ids):
        by_task.setdefault(attempt.task_id, []).append(_describe(attempt))
    return {task_id: _as_text(rows) for task_id, rows in by_task.items()}


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
