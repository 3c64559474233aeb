from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from verification.vocab import Outcome

from .policies import Policy
from .staff import Queue


class TaskStatus(models.TextChoices):
    AWAITING_RECEIPT = "awaiting_receipt", _("Awaiting receipt")
    OPEN = "open", _("Open")
    REVIEW = "review", _("Supervisor review")
    COMPLETED = "completed", _("Verified")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Unreachable (window closed)")


class TaskKind(models.TextChoices):
    FREE_LOOK = "free_look", _("Free-look callback")
    # The back book (通知 二(三)): no free-look callback, but a campaign may verify its contact data.
    CONTACT_VERIFICATION = "contact_verification", _("Contact verification")


OPEN_TASK_STATUSES = (TaskStatus.AWAITING_RECEIPT, TaskStatus.OPEN)


class Channel(models.TextChoices):
    """How an attempt reached (or tried to reach) the applicant. Every channel closes through the same
    closing rules (required questions answered, identity confirmed before `verified`)."""

    PHONE = "phone", _("Phone")
    ECALLBACK = "ecallback", _("E-callback")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Branch visit")


class CallbackTask(models.Model):
    """The one free-look callback of an in-scope policy.

    A task is due when `next_attempt_at` has come, the free-look window is open, it is calling hours
    for its queue and no live lease holds it (callback/queue.py).
    """

    policy = models.OneToOneField(Policy, on_delete=models.CASCADE, related_name="task")
    # db_default: intake and the benchmarks insert tasks with SQL that does not name the column.
    kind = models.CharField(
        _("kind"), max_length=24, choices=TaskKind.choices, default=TaskKind.FREE_LOOK, db_default="free_look"
    )
    campaign = models.ForeignKey(
        "callback.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    # No single-column indexes where a composite or partial one below already starts with the column:
    # every index costs on each claim's UPDATE and on each of a million new tasks (bench/RESULTS.md).
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices)
    window_start = models.DateField(_("free-look starts"), null=True, blank=True)
    window_end = models.DateField(_("free-look ends"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="held_tasks",
        db_index=False,  # task_holder_lease
    )
    lease_expires_at = models.DateTimeField(_("lease until"), null=True, blank=True)
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    appointment_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
        db_index=False,  # (appointment_agent, appointment_at)
    )
    # Normalised numbers that reached a wrong person or are out of service: never dialled again.
    dead_numbers = models.JSONField(default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
        db_index=False,  # never looked up by reviewer
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("callback task")
        verbose_name_plural = _("callback tasks")
        ordering = ["deadline", "attempts", "created_at"]
        indexes = [
            # The claim's main query (callback/queue.py) walks this index in due order: unheld open
            # tasks without an appointment; next_attempt_at is a key so future retries are skipped
            # inside the index, without visiting the table.
            models.Index(
                fields=["queue", "deadline", "attempts", "created_at", "next_attempt_at"],
                condition=Q(status="open", holder__isnull=True, appointment_at__isnull=True),
                name="task_due_order",
            ),
            models.Index(fields=["lease_expires_at"], condition=Q(holder__isnull=False), name="task_leases"),
            # "Does this agent hold a task?" on every claim: by agent, not by scanning every live lease.
            models.Index(
                fields=["holder", "lease_expires_at"],
                condition=Q(holder__isnull=False),
                name="task_holder_lease",
            ),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["appointment_agent", "appointment_at"]),
            models.Index(
                fields=["appointment_at"],
                condition=Q(status="open", appointment_at__isnull=False),
                name="task_due_appointments",
            ),
            # The statistics find a period's tasks by these dates (callback/stats/periods.py).
            models.Index(fields=["window_start", "status"], name="task_stats_receipt"),
            models.Index(fields=["window_end", "status"], name="task_stats_window_end"),
            # The supervisors' task list, in its order (deadline, id), whole and by status: a page of 50
            # reads 50 index entries instead of sorting a million tasks (bench/RESULTS.md, pages).
            models.Index(fields=["deadline", "id"], name="task_list_order"),
            models.Index(fields=["status", "deadline", "id"], name="task_list_status_order"),
            models.Index(fields=["queue", "deadline", "id"], name="task_list_queue_order"),
            # A few thousand appointments among a million open tasks: walking the list's order to find
            # them read 270,000 tasks for a page of 50.
            models.Index(
                fields=["deadline", "id"],
                condition=Q(status="open", appointment_at__isnull=False),
                name="task_list_appointments",
            ),
            # The live queue counts tasks closed this week: found here, not among every closed task.
            models.Index(fields=["closed_at"], condition=Q(closed_at__isnull=False), name="task_closed"),
        ]
        permissions = [("work_callbacktask", _("Can work callback tasks"))]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.status}"


# A click-to-call's state while it can still change (callback/telephony/calls.py derives it from the
# events). At most one attempt per task is in one of these: the database refuses a second live call.
LIVE_CALL_STATUSES = ("initiating", "agent_ringing", "connecting", "ringing", "in-progress")


class CallAttemptQuerySet(models.QuerySet):
    def open_for(self, *, task: CallbackTask, agent) -> "CallAttemptQuerySet":
        """The agent's attempt on the task that is not closed yet (at most one)."""
        return self.filter(task=task, agent=agent, outcome="", ended_at__isnull=True)


class CallAttempt(models.Model):
    """One call (or try) on a task: who, which number, telephony state, the script read and answers."""

    task = models.ForeignKey(CallbackTask, on_delete=models.CASCADE, related_name="call_attempts")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE)
    # Blank only for an attempt no staff member made: an e-callback the applicant completes alone.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_attempts",
    )
    number_dialled = models.CharField(_("number dialled"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    appointment_at = models.DateTimeField(_("agreed callback time"), null=True, blank=True)
    telephony_backend = models.CharField(max_length=16, blank=True)
    call_sid = models.CharField(max_length=64, blank=True, db_index=True)
    call_status = models.CharField(_("call status"), max_length=24, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(blank=True)
    call_placed_at = models.DateTimeField(_("call placed"), null=True, blank=True)
    script_version = models.ForeignKey(
        "verification.ScriptVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # [{"key": "q1", "text": "exact text read", "answer": "yes", "passed": true, "at": "..."}]
    answers = models.JSONField(default=list, blank=True)

    objects = CallAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["agent", "started_at"]),
            models.Index(fields=["outcome", "started_at"]),
            # Statistics by call date (callback/stats): the calls of a period, whoever made them.
            models.Index(fields=["started_at"], name="attempt_started"),
            # Recent calls (supervisors), newest first, whole and by outcome.
            models.Index(fields=["ended_at", "id"], condition=~Q(outcome=""), name="attempt_recent"),
            models.Index(fields=["outcome", "ended_at", "id"], name="attempt_outcome_recent"),
        ]
        constraints = [
            # Twilio's call creation is not idempotent: a double click, a second tab or a retried
            # request must never place two calls to the customer (callback/telephony/calls.py).
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(call_status__in=LIVE_CALL_STATUSES),
                name="one_live_call_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


class Holiday(models.Model):
    """A public holiday: no callbacks are served on it."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
