"""What telephony leaves behind: every webhook event once, recordings, SMS sent and opt-outs."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .tasks import CallAttempt, CallbackTask


class CallLeg(models.TextChoices):
    AGENT = "agent", _("agent's phone")
    CUSTOMER = "customer", _("customer")


class CallEvent(models.Model):
    """One event Twilio (or the console backend) reported about a call, stored once.

    `key` identifies the event (CallSid + status + SequenceNumber, RecordingSid + status, …): a webhook
    delivered twice inserts nothing the second time, and the call's state is derived from all rows,
    never from the order they came in (callback/telephony/calls.py).
    """

    attempt = models.ForeignKey(CallAttempt, on_delete=models.CASCADE, related_name="call_events")
    key = models.CharField(max_length=160, unique=True)
    leg = models.CharField(max_length=10, choices=CallLeg.choices)
    kind = models.CharField(max_length=12, default="status")  # status | recording
    call_sid = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=24)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        indexes = [models.Index(fields=["attempt", "received_at"])]

    def __str__(self) -> str:
        return self.key


class RecordingStatus(models.TextChoices):
    IN_PROGRESS = "in-progress", _("recording")
    COMPLETED = "completed", _("available")
    ABSENT = "absent", _("nothing recorded")
    FAILED = "failed", _("recording failed")
    DELETED = "deleted", _("deleted after the retention period")


class Recording(models.Model):
    """A call's recording, kept as the callback's evidence; the media stays at Twilio (or the CTI)."""

    attempt = models.ForeignKey(CallAttempt, on_delete=models.CASCADE, related_name="recordings")
    sid = models.CharField(_("recording id"), max_length=64, unique=True)
    source = models.CharField(_("source"), max_length=16, default="twilio")  # twilio | console | cti
    url = models.URLField(_("media address"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.COMPLETED
    )
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    channels = models.PositiveSmallIntegerField(default=2)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.sid

    @property
    def playable(self) -> bool:
        return self.status == RecordingStatus.COMPLETED


class SmsTemplate(models.Model):
    """An SMS text admins edit; `{placeholders}` are filled from the sender's context."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)
    body = models.TextField(
        _("text"),
        help_text=_("Simplified Chinese. Placeholders in braces, e.g. {name}, {time}, {company}."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    UNDELIVERED = "undelivered", _("undelivered")
    FAILED = "failed", _("failed")
    OPTED_OUT = "opted_out", _("not sent: opted out")
    ERROR = "error", _("not sent: error")


class SmsMessage(models.Model):
    """One SMS Huifang sent (or decided not to send); `event_key` makes each event send at most once."""

    to = models.CharField(_("to"), max_length=40)
    template = models.CharField(_("template"), max_length=40)
    body = models.TextField(_("text"))
    event_key = models.CharField(_("event"), max_length=200, unique=True)
    task = models.ForeignKey(
        CallbackTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_messages"
    )
    status = models.CharField(_("status"), max_length=16, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    sid = models.CharField(_("message id"), max_length=64, blank=True, db_index=True)
    backend = models.CharField(max_length=16, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["task", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template} → {self.to} ({self.status})"


class SmsOptOut(models.Model):
    """A number that asked for no more SMS (退订 / TD / STOP); never sent to again."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    keyword = models.CharField(_("reply"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("opted out"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number
