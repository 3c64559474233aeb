"""The period a statistic covers, written once: which days, which date decides, Beijing calendar days.

Every date on the statistics pages, exports and API is an Asia/Shanghai calendar day (settings.TIME_ZONE):
a call made at 23:30 UTC on 1 March was made on 2 March in Beijing and counts on 2 March.

Two bases, said plainly on the page:

- ``receipt`` (按回执签收日): the policies whose receipt was signed in the period (their free-look
  window starts the day after, callback/schedule.free_look_window), and every call made on them, whenever.
- ``call`` (按回访日): the calls made in the period, and the policies whose free-look window closed
  (its last day) in the period — the inspectors' question "of the windows that closed, how many
  were verified in time".
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

RECEIPT = "receipt"
CALL = "call"
BASES = [
    (RECEIPT, _("By receipt date: policies whose receipt was signed in the period, and all calls on them")),
    (CALL, _("By call date: calls made in the period, and policies whose free-look window closed in it")),
]

TODAY, WEEK, MONTH, CUSTOM = "today", "week", "month", "custom"
PRESETS = [
    (TODAY, _("Today")),
    (WEEK, _("This week")),
    (MONTH, _("This month")),
    (CUSTOM, _("Custom range")),
]
# A year of days at most: a longer range is refused with a message, not run for minutes.
MAX_DAYS = 366


def next_month(day: dt.date) -> dt.date:
    """The 1st of the month after `day`'s."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def day_start(day: dt.date) -> dt.datetime:
    """00:00 Beijing time of `day`, as an aware datetime (stored times are UTC)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """First and last Beijing calendar day (both included) and the date that decides."""

    first: dt.date
    last: dt.date
    basis: str = RECEIPT

    @property
    def since(self) -> dt.datetime:
        return day_start(self.first)

    @property
    def until(self) -> dt.datetime:
        """The instant after the period: 00:00 Beijing time of the day after its last day."""
        return day_start(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def as_params(self) -> dict[str, str]:
        return {"basis": self.basis, "first": self.first.isoformat(), "last": self.last.isoformat()}

    def key(self) -> str:
        return f"{self.basis}:{self.first.isoformat()}:{self.last.isoformat()}"


def preset_period(preset: str, *, basis: str = RECEIPT, today: dt.date | None = None) -> Period:
    """Today, this week (Monday to today) or this month (the 1st to today), in Beijing days."""
    today = today or timezone.localdate()
    if preset == WEEK:
        return Period(today - dt.timedelta(days=today.weekday()), today, basis)
    if preset == MONTH:
        return Period(today.replace(day=1), today, basis)
    return Period(today, today, basis)
