import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from verification.vocab import Channel, ProductType


class Team(models.Model):
    """Agents led by a supervisor; queues are served by teams."""

    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100, unique=True)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
        verbose_name=_("supervisor"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """What Huifang knows of a call-centre user beyond Django's User: team and phone for click-to-call."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("team")
    )
    phone = models.CharField(_("agent phone (click-to-call)"), max_length=40, blank=True)
    can_see_full_ids = models.BooleanField(
        _("may see full id numbers"), default=False, help_text=_("Otherwise id numbers are masked.")
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Not a time zone name (e.g. Asia/Shanghai).")) from exc


class Queue(models.Model):
    """A named queue of callback tasks, served by teams, with its calling hours."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)
    teams = models.ManyToManyField(Team, blank=True, related_name="queues", verbose_name=_("teams"))
    timezone = models.CharField(
        _("time zone"),
        max_length=40,
        default="Asia/Shanghai",
        validators=[validate_timezone],
        help_text=_("The applicants' local time zone; calling hours are read in it."),
    )
    weekday_start = models.TimeField(_("weekdays from"), default=dt.time(9, 0))
    weekday_end = models.TimeField(_("weekdays until"), default=dt.time(20, 30))
    weekend_start = models.TimeField(_("weekends from"), default=dt.time(9, 0))
    weekend_end = models.TimeField(_("weekends until"), default=dt.time(17, 0))
    is_default = models.BooleanField(
        _("default queue"), default=False, help_text=_("Takes what no rule routes.")
    )

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.weekday_start and self.weekday_end and self.weekday_start >= self.weekday_end:
            errors["weekday_end"] = _("Must be later than the start.")
        if self.weekend_start and self.weekend_end and self.weekend_start > self.weekend_end:
            errors["weekend_end"] = _("Must be later than the start (equal times mean no calls at weekends).")
        if errors:
            raise ValidationError(errors)


class RoutingRule(models.Model):
    """Sends matching tasks to a queue; blank fields match anything. Lower `order` is tried first."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="rules", verbose_name=_("queue"))
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    branch_code = models.CharField(_("branch code"), max_length=20, blank=True)
    product_type = models.CharField(_("product type"), max_length=20, choices=ProductType.choices, blank=True)
    min_age = models.PositiveSmallIntegerField(_("applicant age from"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("applicant age to"), null=True, blank=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}: → {self.queue}"
