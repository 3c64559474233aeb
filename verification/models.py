from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .vocab import FlagCode, Outcome


class Script(models.Model):
    """A callback script: which policies it applies to, and its versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Blank lists match anything; the most specific applicable published script wins.
    product_types = models.JSONField(_("product types"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("applicant age from"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("applicant age to"), null=True, blank=True)

    class Meta:
        verbose_name = _("script")
        verbose_name_plural = _("scripts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ScriptVersion(models.Model):
    """A version of a script: draft → published (immutable) → retired."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("script version")
        verbose_name_plural = _("script versions")
        ordering = ["script", "-number"]
        constraints = [models.UniqueConstraint(fields=["script", "number"], name="script_version_unique")]

    def __str__(self) -> str:
        return f"{self.script} v{self.number}"


class Question(models.Model):
    """One question of a script version, with what passes and what a failing answer means."""

    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        CHOICE = "choice", _("Single choice")
        DATE = "date", _("Date")
        TEXT = "text", _("Free text")
        IDENTITY = "identity", _("Identity check")

    class OnFail(models.TextChoices):
        CONTINUE = "continue", _("Note it and go on")
        END = "end", _("End with an outcome")
        FLAG = "flag", _("Raise a flag and go on")
        FOLLOW_UP = "follow_up", _("Ask a follow-up question")

    version = models.ForeignKey(ScriptVersion, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("order"))
    key = models.SlugField(_("key"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text_zh = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    passing_answers = models.JSONField(_("answers that pass"), default=list, blank=True)
    on_fail = models.CharField(_("if the answer fails"), max_length=10, choices=OnFail.choices, default="continue")
    fail_outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    fail_flag = models.CharField(_("flag"), max_length=32, choices=FlagCode.choices, blank=True)
    follow_up_key = models.SlugField(_("follow-up question"), max_length=40, blank=True)
    is_follow_up = models.BooleanField(_("only as a follow-up"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="question_key_unique")]

    def __str__(self) -> str:
        return f"{self.order}. {self.key}"
