from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import scripts
from .vocab import FlagCode, Outcome, QuestionKind

IMMUTABLE = _("This version is published and cannot change: create a new draft to edit it.")


class Script(models.Model):
    """A callback script: which policies it applies to, and its versions."""

    class Purpose(models.TextChoices):
        FREE_LOOK = "free_look", _("Free-look callback")
        # Read on the back book's contact-verification campaigns, never chosen for a free-look callback.
        CONTACT_VERIFICATION = "contact_verification", _("Contact verification")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    purpose = models.CharField(
        _("purpose"),
        max_length=24,
        choices=Purpose.choices,
        default=Purpose.FREE_LOOK,
        db_default=Purpose.FREE_LOOK,
    )
    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)
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

    def applicability(self) -> str:
        """The applicability rule in words, e.g. "Bancassurance · aged 60 and over"."""
        from .vocab import Channel, ProductType

        parts = []
        if self.product_types:
            parts.append("、".join(str(dict(ProductType.choices).get(t, t)) for t in self.product_types))
        if self.channels:
            parts.append("、".join(str(dict(Channel.choices).get(c, c)) for c in self.channels))
        if self.min_age is not None and self.max_age is not None:
            parts.append(_("aged %(low)s to %(high)s") % {"low": self.min_age, "high": self.max_age})
        elif self.min_age is not None:
            parts.append(_("aged %(low)s and over") % {"low": self.min_age})
        elif self.max_age is not None:
            parts.append(_("aged up to %(high)s") % {"high": self.max_age})
        return " · ".join(parts) or str(_("every policy"))


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
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("script version")
        verbose_name_plural = _("script versions")
        ordering = ["script", "-number"]
        constraints = [models.UniqueConstraint(fields=["script", "number"], name="script_version_unique")]

    def __str__(self) -> str:
        return f"{self.script} v{self.number}"

    def save(self, *args, **kwargs):
        # A published version is what recorded calls point to: only its retirement may be saved.
        if self.pk:
            stored = type(self).objects.filter(pk=self.pk).values("status", "number", "script_id").first()
            if stored and stored["status"] != self.Status.DRAFT:
                changed = (stored["number"], stored["script_id"]) != (self.number, self.script_id)
                allowed = stored["status"] == self.status or (
                    stored["status"] == self.Status.PUBLISHED and self.status == self.Status.RETIRED
                )
                if changed or not allowed:
                    raise ValidationError(IMMUTABLE)
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def publish_errors(self) -> list[str]:
        return scripts.publish_errors(
            list(self.questions.all()), outcomes=Outcome.values, flags=FlagCode.values
        )

    @transaction.atomic
    def publish(self, *, user=None) -> None:
        """Publish this draft and retire the script's previously published version."""
        if not self.is_draft:
            raise ValidationError(_("Only a draft can be published."))
        errors = self.publish_errors()
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        for old in self.script.versions.filter(status=self.Status.PUBLISHED).exclude(pk=self.pk):
            old.retire()
        self.status, self.published_at, self.published_by = self.Status.PUBLISHED, now, user
        self.save()

    def retire(self) -> None:
        if self.status != self.Status.PUBLISHED:
            raise ValidationError(_("Only a published version can be retired."))
        self.status, self.retired_at = self.Status.RETIRED, timezone.now()
        self.save()

    @transaction.atomic
    def new_draft(self) -> "ScriptVersion":
        """A draft copy of this version (how a published script is edited); an existing draft is reused."""
        draft = self.script.versions.filter(status=self.Status.DRAFT).first()
        if draft:
            return draft
        number = (self.script.versions.aggregate(n=models.Max("number"))["n"] or 0) + 1
        draft = ScriptVersion.objects.create(script=self.script, number=number)
        copies = []
        for q in self.questions.all():
            q.pk, q.id, q.version = None, None, draft
            copies.append(q)
        Question.objects.bulk_create(copies)
        return draft


class Question(models.Model):
    """One question of a script version, with what passes and what a failing answer means."""

    Kind = QuestionKind

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
    on_fail = models.CharField(
        _("if the answer fails"), max_length=10, choices=OnFail.choices, default="continue"
    )
    fail_outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    fail_flag = models.CharField(_("flag"), max_length=32, choices=FlagCode.choices, blank=True)
    flag_field = models.CharField(
        _("flagged field"),
        max_length=40,
        blank=True,
        help_text=_("The contact field the flag names, e.g. mobile."),
    )
    follow_up_key = models.SlugField(_("follow-up question"), max_length=40, blank=True)
    is_follow_up = models.BooleanField(_("only as a follow-up"), default=False)
    required = models.BooleanField(
        _("required"), default=True, help_text=_("A failing answer to a required question stops “verified”.")
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="question_key_unique")]

    def __str__(self) -> str:
        return f"{self.order}. {self.key}"

    def save(self, *args, **kwargs):
        self._check_editable()
        if self.pk:  # moving a question out of a published version is an edit of that version too
            old = Question.objects.filter(pk=self.pk).values_list("version_id", flat=True).first()
            if old and old != self.version_id:
                Question(version_id=old)._check_editable()
        self.clean()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_editable()
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        # Unknown placeholders are refused when the admin saves, not discovered during a call.
        errors = {}
        for name in ("text_zh", "text_en"):
            try:
                scripts.check_placeholders(getattr(self, name))
            except scripts.ScriptError as exc:
                errors[name] = exc.messages
        if self.kind == self.Kind.IDENTITY and any(
            p not in scripts.IDENTITY_PARTS for p in self.choices or []
        ):
            errors["choices"] = [
                _("An identity check asks for: %(parts)s.") % {"parts": ", ".join(scripts.IDENTITY_PARTS)}
            ]
        if errors:
            raise ValidationError(errors)

    def _check_editable(self) -> None:
        version = ScriptVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        if version and version != ScriptVersion.Status.DRAFT:
            raise ValidationError(IMMUTABLE)
