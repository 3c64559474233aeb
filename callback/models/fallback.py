"""Fallback channels: the rules an admin sets for moving a callback off the phone (a letter, a branch
visit, an SMS e-callback link), each move, and each letter or visit as sent and returned (fallback issue).

The letter or visit itself is a `CallAttempt` of its channel (agent blank until someone records the
receipt); `FallbackDelivery` holds what only a paper channel has: sent when, return deadline, the
returned receipt's date, scan reference and who recorded it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .tasks import CallAttempt, CallbackTask, Channel


class FallbackTrigger(models.TextChoices):
    NO_NUMBER = "no_number", _("No callable number")
    ALL_DEAD = "all_dead", _("Every number dead")
    NO_CONTACT = "no_contact", _("N attempts over M days without contact")
    WINDOW_ENDING = "window_ending", _("K days before the free-look window ends")


FALLBACK_CHANNELS = [
    (Channel.ECALLBACK.value, _("SMS e-callback link")),
    (Channel.LETTER.value, Channel.LETTER.label),
    (Channel.VISIT.value, Channel.VISIT.label),
]


class FallbackRule(models.Model):
    """When the phone has failed by this rule, the task moves to `channel`. Rules are tried in order; a
    task moves by a rule at most once."""

    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)
    trigger = models.CharField(_("when"), max_length=16, choices=FallbackTrigger.choices)
    channel = models.CharField(_("fallback"), max_length=12, choices=FALLBACK_CHANNELS)
    min_attempts = models.PositiveSmallIntegerField(_("N attempts"), null=True, blank=True)
    over_days = models.PositiveSmallIntegerField(_("over M days"), null=True, blank=True)
    days_before_end = models.PositiveSmallIntegerField(
        _("K days before the window ends"),
        null=True,
        blank=True,
        help_text=_(
            "For “no callable number”: wait for the branch's correction until then (blank: at once)."
        ),
    )
    reply_days = models.PositiveSmallIntegerField(
        _("days to return the receipt"),
        default=10,
        help_text=_("The return deadline printed on the letter or the visit receipt."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("fallback rule")
        verbose_name_plural = _("fallback rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name} → {self.get_channel_display()}"

    def clean(self) -> None:
        errors = {}
        if self.trigger == FallbackTrigger.NO_CONTACT:
            if not self.min_attempts:
                errors["min_attempts"] = _("Give the number of attempts without contact.")
            if not self.over_days:
                errors["over_days"] = _("Give the number of days the attempts span.")
        if self.trigger == FallbackTrigger.WINDOW_ENDING and self.days_before_end is None:
            errors["days_before_end"] = _("Give how many days before the window ends.")
        if errors:
            raise ValidationError(errors)


class FallbackMove(models.Model):
    """A task moved between the phone and a fallback, by a rule or by a supervisor with a reason."""

    task = models.ForeignKey(CallbackTask, on_delete=models.CASCADE, related_name="fallback_moves")
    rule = models.ForeignKey(FallbackRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_channel = models.CharField(_("moved to"), max_length=12, choices=Channel.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("fallback move")
        verbose_name_plural = _("fallback moves")
        ordering = ["at", "id"]
        constraints = [
            # Each rule moves a task once, however often the sweep runs.
            models.UniqueConstraint(
                fields=["task", "rule"], condition=Q(rule__isnull=False), name="fallback_move_once_per_rule"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.to_channel}"


class DeliveryStatus(models.TextChoices):
    TO_SEND = "to_send", _("To print / to visit")
    SENT = "sent", _("Sent, receipt outstanding")
    RETURNED = "returned", _("Receipt returned")
    LAPSED = "lapsed", _("Not returned by the deadline")
    CANCELLED = "cancelled", _("Cancelled")


class FallbackDelivery(models.Model):
    """A letter or a branch visit as sent and returned."""

    attempt = models.OneToOneField(CallAttempt, on_delete=models.CASCADE, related_name="delivery")
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.TO_SEND
    )
    branch_code = models.CharField(_("branch code"), max_length=20, blank=True)
    reply_by = models.DateField(_("return deadline"))
    sent_at = models.DateTimeField(_("posted or visited"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_on = models.DateField(_("receipt returned"), null=True, blank=True)
    scan_reference = models.CharField(_("scan reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("receipt recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("letter or visit")
        verbose_name_plural = _("letters and visits")
        indexes = [models.Index(fields=["status", "reply_by"])]

    def __str__(self) -> str:
        return f"{self.attempt.get_channel_display()} {self.get_status_display()}"
