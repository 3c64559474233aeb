"""The statistics roll-up (callback/stats/rollup.py): the figures of each free-look day, which the
statistics pages sum for any period instead of aggregating a million tasks and three million calls.

One row per (free-look day, dimension, value): `dimension` is "" for all the day's policies, or a
breakdown ("branch", "salesperson", …) with `key` its value. Rebuilt by the refresh job only.
"""

from django.db import models


class Grain(models.TextChoices):
    DAY = "day", "day"  # one free-look window (its first and last day; a call's day)
    MONTH = "month", "month"  # the windows whose receipt and end (or call) fall in the same months


class _Keyed(models.Model):
    grain = models.CharField(max_length=5, choices=Grain.choices, default=Grain.DAY)
    # The months a row counts in: the receipt's (window start − 1 day) and the window end's (or the
    # call's); on day rows too, so that the month rows are their sums.
    receipt_month = models.DateField(null=True)
    dimension = models.CharField(max_length=16, blank=True)
    key = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.dimension or 'all'}={self.key}"


class _CallCounts(models.Model):
    """Closed calls: the names of callback.stats.selectors' call figures."""

    calls = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    verified_calls = models.PositiveIntegerField(default=0)
    failed_calls = models.PositiveIntegerField(default=0)
    refusals = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handling_seconds = models.FloatField(default=0)

    class Meta:
        abstract = True


class StatsTaskDay(_Keyed, _CallCounts):
    """The task figures, AAPOR case counts and calls of one free-look window's policies (by value)."""

    window_start = models.DateField(null=True)
    window_end = models.DateField(null=True)
    end_month = models.DateField(null=True)
    in_scope = models.PositiveIntegerField(default=0)
    decided = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    in_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    with_issues = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unreachable = models.PositiveIntegerField(default=0)
    review = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    not_in_time = models.PositiveIntegerField(default=0)
    failed_failed_identity = models.PositiveIntegerField(default=0)
    failed_refused = models.PositiveIntegerField(default=0)
    failed_agent_answered = models.PositiveIntegerField(default=0)
    failed_wrong_number = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    # For the medians: {"minutes from receipt, floored to the hour": tasks}, on the small dimensions.
    first_call_minutes = models.JSONField(null=True)
    verified_minutes = models.JSONField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "key", "window_start"], name="stats_task_receipt"),
            models.Index(fields=["dimension", "key", "window_end"], name="stats_task_window_end"),
            models.Index(
                fields=["grain", "dimension", "key", "receipt_month"], name="stats_task_receipt_month"
            ),
            models.Index(fields=["grain", "dimension", "key", "end_month"], name="stats_task_end_month"),
            models.Index(fields=["window_start"], name="stats_task_refresh"),
        ]


class StatsCallDay(_Keyed, _CallCounts):
    """The closed calls of one Beijing day on one free-look window's tasks, by agent or channel."""

    call_day = models.DateField(null=True)
    window_start = models.DateField(null=True)
    call_month = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "call_day"], name="stats_call_day"),
            models.Index(fields=["dimension", "window_start"], name="stats_call_receipt"),
            models.Index(fields=["grain", "dimension", "call_month"], name="stats_call_month"),
            models.Index(fields=["grain", "dimension", "receipt_month"], name="stats_call_receipt_month"),
            models.Index(fields=["window_start"], name="stats_call_refresh"),
        ]


class StatsFlagDay(_Keyed):
    """Policies of one free-look window (by value) carrying a flag code; how many not verified in time."""

    window_start = models.DateField(null=True)
    window_end = models.DateField(null=True)
    end_month = models.DateField(null=True)
    code = models.CharField(max_length=40)
    policies = models.PositiveIntegerField(default=0)
    not_in_time = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "key", "window_start"], name="stats_flag_receipt"),
            models.Index(fields=["dimension", "key", "window_end"], name="stats_flag_window_end"),
            models.Index(
                fields=["grain", "dimension", "key", "receipt_month"], name="stats_flag_receipt_month"
            ),
            models.Index(fields=["grain", "dimension", "key", "end_month"], name="stats_flag_end_month"),
            models.Index(fields=["window_start"], name="stats_flag_refresh"),
        ]


class StatsRefresh(models.Model):
    """One run of the roll-up refresh: from which free-look day it rebuilt (full: every day), and when."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    first_day = models.DateField(null=True)
    full = models.BooleanField(default=False)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{'full' if self.full else self.first_day} at {self.started_at:%Y-%m-%d %H:%M}"


class TaskFacts(models.Model):
    """One task and the sums of its calls: a temporary table that the refresh fills and aggregates
    (callback/stats/refresh.py), so that three million calls are read once, not once per breakdown.
    The task's own columns keep their names, so the statistics' definitions apply to it unchanged."""

    id = models.BigIntegerField(primary_key=True)
    policy = models.ForeignKey(
        "callback.Policy", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    window_start = models.DateField(null=True)
    window_end = models.DateField(null=True)
    status = models.CharField(max_length=20)
    outcome = models.CharField(max_length=32)
    closed_at = models.DateTimeField(null=True)
    deadline = models.DateTimeField(null=True)
    first_at = models.DateTimeField(null=True)
    calls = models.IntegerField()
    contacts = models.IntegerField()
    verified_calls = models.IntegerField()
    failed_calls = models.IntegerField()
    refusals = models.IntegerField()
    handled = models.IntegerField()
    handling = models.DurationField(null=True)

    class Meta:
        managed = False
        db_table = "stats_task_facts"

    def __str__(self) -> str:
        return f"task {self.pk}"
