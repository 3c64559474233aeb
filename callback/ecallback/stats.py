"""E-callback figures for supervisors: how many were offered, how many the applicants completed, and
the e-callbacks' share of verified callbacks (aggregate SQL over links and attempts)."""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from ..models import Channel, ECallbackLink, LinkStatus
from ..stats import CALL, Period, breakdown

CACHE_KEY = "ecallback:figures:30d"


@dataclass(frozen=True)
class ECallbackFigures:
    offered: int
    completed: int  # verified online, signed
    to_review: int
    call_requested: int
    fallen_back: int  # locked or fallen back to the phone queue
    verified_online: int  # verified calls (with issues or not) by e-callback
    verified_all: int  # by every channel

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.offered if self.offered else None

    @property
    def completion_percent(self) -> str:
        return "—" if self.completion_rate is None else f"{self.completion_rate:.1%}"

    @property
    def share_percent(self) -> str:
        return "—" if self.share is None else f"{self.share:.1%}"

    @property
    def share(self) -> float | None:
        """The e-callbacks' share of verified callbacks."""
        return self.verified_online / self.verified_all if self.verified_all else None


def ecallback_figures(period: Period) -> ECallbackFigures:
    """Links sent in `period` and what became of them; verified calls by channel as the statistics
    count them (callback.stats, by call date), so the share agrees with the statistics page."""
    links = ECallbackLink.objects.filter(sent_at__gte=period.since, sent_at__lt=period.until).aggregate(
        offered=Count("pk"),
        completed=Count("pk", filter=Q(status=LinkStatus.COMPLETED)),
        to_review=Count("pk", filter=Q(status=LinkStatus.REVIEW)),
        call_requested=Count("pk", filter=Q(status=LinkStatus.CALL_REQUESTED)),
        fallen_back=Count("pk", filter=Q(status__in=(LinkStatus.LOCKED, LinkStatus.FALLEN_BACK))),
    )
    by_channel = {row["key"]: row["verified_calls"] for row in breakdown(period, "call_channel")}
    return ECallbackFigures(
        **links,
        verified_online=by_channel.get(Channel.ECALLBACK, 0),
        verified_all=sum(by_channel.values()),
    )


def recent_figures(*, days: int = 30) -> ECallbackFigures:
    """The last `days` Beijing days, today included; shared for five minutes."""
    figures = cache.get(CACHE_KEY)
    if figures is None:
        today = timezone.localdate()
        figures = ecallback_figures(Period(today - dt.timedelta(days=days - 1), today, CALL))
        cache.set(CACHE_KEY, figures, 300)
    return figures
