"""Admin-configured rules of the callback process: free-look length and retries per disposition."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from verification.vocab import Channel, Outcome, ProductType

DEFAULT_FREE_LOOK_DAYS = 15


class FreeLookRule(models.Model):
    """Length of the free-look period (犹豫期). The most specific matching rule wins:
    channel and product type, then product type, then channel, then the rule with both blank."""

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    product_type = models.CharField(_("product type"), max_length=20, choices=ProductType.choices, blank=True)
    days = models.PositiveSmallIntegerField(
        _("free-look days"),
        default=DEFAULT_FREE_LOOK_DAYS,
        help_text=_("Counted from the day after the applicant signed the policy receipt."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("free-look rule")
        verbose_name_plural = _("free-look rules")
        ordering = ["channel", "product_type"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "product_type"], name="free_look_rule_one_per_scope")
        ]

    def __str__(self) -> str:
        scope = " / ".join(filter(None, [self.get_channel_display(), self.get_product_type_display()]))
        return f"{scope or _('All policies')}: {self.days}"

    def clean(self) -> None:
        if self.days is not None and self.days < 10:
            raise ValidationError(
                {"days": _("The regulatory minimum is 10 days; most products use 15 or more.")}
            )


RETRYABLE_OUTCOMES = [
    (Outcome.NO_ANSWER.value, Outcome.NO_ANSWER.label),
    (Outcome.BUSY.value, Outcome.BUSY.label),
    (Outcome.HUNG_UP.value, Outcome.HUNG_UP.label),
]


class RetryRule(models.Model):
    """When to call again after a call that did not reach anyone who could talk."""

    outcome = models.CharField(_("disposition"), max_length=24, choices=RETRYABLE_OUTCOMES, unique=True)
    retry_after_minutes = models.PositiveIntegerField(_("retry after (minutes)"))
    max_attempts_per_day = models.PositiveSmallIntegerField(
        _("at most attempts a day"),
        null=True,
        blank=True,
        help_text=_("Counting every attempt on the task that day; blank means no daily limit."),
    )
    give_up_after = models.PositiveSmallIntegerField(
        _("fail as unreachable after attempts"),
        null=True,
        blank=True,
        help_text=_(
            "Blank: keep calling until the free-look window closes. "
            "Never before 3 attempts on 2 different days."
        ),
    )

    class Meta:
        verbose_name = _("retry rule")
        verbose_name_plural = _("retry rules")
        ordering = ["outcome"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.retry_after_minutes}"
