"""The e-callback share on the calls page: verified callbacks by channel as the statistics count them."""

import datetime as dt

from django.utils import timezone

from callback import stats
from callback.ecallback.stats import ecallback_figures, recent_figures
from callback.models import CallAttempt, Channel
from verification.vocab import Outcome

from .factories import CallbackTaskFactory


def call(channel, outcome, *, days_ago=0):
    task = CallbackTaskFactory()
    attempt = CallAttempt.objects.create(task=task, channel=channel, outcome=outcome)
    when = timezone.now() - dt.timedelta(days=days_ago)
    CallAttempt.objects.filter(pk=attempt.pk).update(started_at=when, ended_at=when)


def test_share_counts_verified_calls_by_channel_as_the_statistics_do(db):
    call(Channel.ECALLBACK, Outcome.VERIFIED)
    call(Channel.PHONE, Outcome.VERIFIED_WITH_ISSUES)
    call(Channel.PHONE, Outcome.VERIFIED)
    call(Channel.PHONE, Outcome.NO_ANSWER)
    call(Channel.ECALLBACK, Outcome.VERIFIED, days_ago=40)  # outside the 30 days
    figures = recent_figures()
    assert (figures.verified_online, figures.verified_all) == (1, 3)
    assert figures.share_percent == "33.3%"
    today = timezone.localdate()
    month = stats.Period(today - dt.timedelta(days=29), today, stats.CALL)
    by_channel = {row["key"]: row["verified_calls"] for row in stats.breakdown(month, "call_channel")}
    assert by_channel == {Channel.ECALLBACK: 1, Channel.PHONE: 2}
    assert ecallback_figures(month) == figures
