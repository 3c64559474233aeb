"""E-callback (电子化回访): the applicant's own link, the SMS codes that prove it is them, and the
admins' offer rules (callback/ecallback/)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .tasks import CallAttempt, CallbackTask


class LinkStatus(models.TextChoices):
    SENT = "sent", _("Link sent")
    IDENTIFIED = "identified", _("Identity proven")
    COMPLETED = "completed", _("Completed")
    REVIEW = "review", _("Sent to review")
    CALL_REQUESTED = "call_requested", _("Asked to be called")
    LOCKED = "locked", _("Locked after wrong codes")
    FALLEN_BACK = "fallen_back", _("Fallen back to the phone queue")
    EXPIRED = "expired", _("Expired")


# A link in one of these may still be opened by the applicant.
LIVE_LINK_STATUSES = (LinkStatus.SENT, LinkStatus.IDENTIFIED, LinkStatus.FALLEN_BACK)


class ECallbackLink(models.Model):
    """One personal link for one task. Only the sha256 of the token is stored: a leaked database
    does not open anyone's e-callback.

    The evidence of the e-callback (address, browser, identity method and times) is kept here, one
    to one with the CallAttempt it became (`attempt`).
    """

    task = models.ForeignKey(CallbackTask, on_delete=models.CASCADE, related_name="ecallback_links")
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=LinkStatus.choices, default=LinkStatus.SENT)
    mobile = models.CharField(_("mobile"), max_length=20)
    sent_at = models.DateTimeField(_("link sent"))
    expires_at = models.DateTimeField(_("expires"))
    fallback_at = models.DateTimeField(_("falls back to the phone queue"))
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    failed_tries = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    identity_method = models.CharField(_("identity method"), max_length=40, blank=True)
    identified_at = models.DateTimeField(_("identity proven"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    attempt = models.OneToOneField(
        CallAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="ecallback"
    )
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("device"), max_length=400, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-callback link")
        verbose_name_plural = _("e-callback links")
        ordering = ["-sent_at"]
        indexes = [
            models.Index(fields=["status", "fallback_at"]),
            models.Index(fields=["task", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.status}"

    @property
    def identity_method_label(self) -> str:
        return {
            "sms_code+id_last6": _("SMS code + id number (last six)"),
            "sms_code+birth_date": _("SMS code + birth date"),
        }.get(self.identity_method, self.identity_method)


class CodePurpose(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    SIGNATURE = "signature", _("Signature")


class ECallbackCode(models.Model):
    """A six-digit SMS code, stored hashed with the link's id as salt, short-lived, used once."""

    link = models.ForeignKey(ECallbackLink, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=10, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    mobile = models.CharField(max_length=20, db_index=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.link_id} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class ECallbackSettings(models.Model):
    """The admins' e-callback settings (one row). The SMS texts are the telephony SMS templates
    `ecallback_link`, `ecallback_reminder` and `ecallback_code` (Settings → SMS templates)."""

    enabled = models.BooleanField(_("offer e-callbacks"), default=False)
    reminder_days = models.JSONField(
        _("reminders (days after the link)"), default=list, blank=True, help_text=_("For example [1, 2].")
    )
    fallback_after_days = models.PositiveSmallIntegerField(
        _("phone queue after (days after the link)"), default=3
    )
    fallback_before_end_days = models.PositiveSmallIntegerField(
        _("phone queue at the latest (days before the window ends)"), default=5
    )
    max_wrong_codes = models.PositiveSmallIntegerField(_("wrong codes before the link locks"), default=5)
    code_minutes = models.PositiveSmallIntegerField(_("code valid (minutes)"), default=10)

    class Meta:
        verbose_name = _("e-callback settings")
        verbose_name_plural = _("e-callback settings")

    def __str__(self) -> str:
        return str(_("E-callback settings"))


class PhoneOnlyRule(models.Model):
    """Policies matching a rule are called by phone and never offered an e-callback (e.g. applicants
    aged 60 and over; bancassurance from a premium). Blank criteria match every policy."""

    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    product_types = models.JSONField(_("product types"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("applicant age from"), null=True, blank=True)
    min_premium = models.DecimalField(
        _("premium from (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("phone-only rule")
        verbose_name_plural = _("phone-only rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
