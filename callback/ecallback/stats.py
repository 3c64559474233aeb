"""E-callback figures for supervisors: how many were offered, how many the applicants completed, and
the e-callbacks' share of verified callbacks (aggregate SQL over links and attempts)."""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from verification.vocab import Outcome

from ..models import CallAttempt, Channel, ECallbackLink, LinkStatus

CACHE_KEY = "ecallback:figures:30d"


@dataclass(frozen=True)
class ECallbackFigures:
    offered: int
    completed: int  # verified online, signed
    to_review: int
    call_requested: int
    fallen_back: int  # locked or fallen back to the phone queue
    verified_online: int
    verified_all: int

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


def ecallback_figures(*, since: dt.datetime, until: dt.datetime) -> ECallbackFigures:
    links = ECallbackLink.objects.filter(sent_at__gte=since, sent_at__lt=until).aggregate(
        offered=Count("pk"),
        completed=Count("pk", filter=Q(status=LinkStatus.COMPLETED)),
        to_review=Count("pk", filter=Q(status=LinkStatus.REVIEW)),
        call_requested=Count("pk", filter=Q(status=LinkStatus.CALL_REQUESTED)),
        fallen_back=Count("pk", filter=Q(status__in=(LinkStatus.LOCKED, LinkStatus.FALLEN_BACK))),
    )
    # started_at, not ended_at: the (outcome, started_at) index serves it.
    verified = CallAttempt.objects.filter(
        outcome=Outcome.VERIFIED, started_at__gte=since, started_at__lt=until
    ).aggregate(all=Count("pk"), online=Count("pk", filter=Q(channel=Channel.ECALLBACK)))
    return ECallbackFigures(**links, verified_online=verified["online"], verified_all=verified["all"])


def recent_figures(*, days: int = 30) -> ECallbackFigures:
    """The last `days` days, shared for five minutes: the counts scan a month of attempts."""
    figures = cache.get(CACHE_KEY)
    if figures is None:
        now = timezone.now()
        figures = ecallback_figures(since=now - dt.timedelta(days=days), until=now)
        cache.set(CACHE_KEY, figures, 300)
    return figures
