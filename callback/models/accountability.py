"""Evidence records of the management duties of the 2013 customer-information rule (issue #14).

Lists (fee holds, salesperson accountability, the regulator's tables) are selectors over policies,
flags and tasks (callback/accountability/). What a person decided or did is kept here, never
recomputed later: a sampling check's sample and results, a contact-verification campaign, an
inspector's conclusions.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .policies import Policy


def _user(related_name: str = "+", **kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name=related_name, **kwargs
    )


class SampleKind(models.TextChoices):
    # 第十一条(二)(四), 操作要求七: new business against the application form; the in-force book for
    # contact data that is still true and the salesperson's name and number.
    NEW_BUSINESS = "new_business", _("New policies: application form against recorded data")
    IN_FORCE = "in_force", _("In-force policies: contact data and salesperson still right")


class Sample(models.Model):
    """A random sample of policies drawn for a manual check, reproducible from its seed."""

    kind = models.CharField(_("kind"), max_length=16, choices=SampleKind.choices)
    branch_code = models.CharField(_("branch code"), max_length=20, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    percent = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, null=True, blank=True)
    requested = models.PositiveIntegerField(_("count asked for"), null=True, blank=True)
    seed = models.BigIntegerField(_("seed"))
    population = models.PositiveIntegerField(_("population"), default=0)
    drawn_at = models.DateTimeField(_("drawn"), auto_now_add=True)
    drawn_by = _user(null=True, verbose_name=_("drawn by"))

    class Meta:
        verbose_name = _("sampling check")
        verbose_name_plural = _("sampling checks")
        ordering = ["-drawn_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.branch_code or '*'} {self.period_start}–{self.period_end}"


class SampleResult(models.TextChoices):
    PENDING = "pending", _("Not checked yet")
    MATCH = "match", _("Matches")
    DISCREPANCY = "discrepancy", _("Differs")


class SampleItem(models.Model):
    """One sampled policy and what its reviewer found."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="items")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(
        _("result"), max_length=12, choices=SampleResult.choices, default=SampleResult.PENDING
    )
    # [{"party": "applicant", "field": "mobile", "code": "callback_wrong_number", "flag": 12}]
    differences = models.JSONField(_("differences"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    checked_by = _user(null=True, blank=True, verbose_name=_("checked by"))
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampled policy")
        verbose_name_plural = _("sampled policies")
        ordering = ["sample", "id"]
        constraints = [models.UniqueConstraint(fields=["sample", "policy"], name="sample_item_once")]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.policy_id} {self.result}"


class Campaign(models.Model):
    """A contact-verification campaign over back-book policies (通知 二(三)): one callback task of
    the second kind per selected policy, with its own script and deadline, through the same queue."""

    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=100)
    # The selection as the admin made it (branch, flag code …), kept as evidence.
    selection = models.JSONField(_("selection"), default=dict, blank=True)
    starts_on = models.DateField(_("starts"))
    deadline = models.DateField(_("deadline"))
    script_version = models.ForeignKey(
        "verification.ScriptVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("script"),
    )
    created_by = _user(null=True, verbose_name=_("started by"))
    created_at = models.DateTimeField(_("started"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact-verification campaign")
        verbose_name_plural = _("contact-verification campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    """A branch inspection (第十六条): the figures as they were shown, and the inspector's conclusions."""

    branch_code = models.CharField(_("branch code"), max_length=20)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    conclusions = models.TextField(_("conclusions"))
    inspector = _user(verbose_name=_("inspector"))
    recorded_at = models.DateTimeField(_("conclusions recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("branch inspection")
        verbose_name_plural = _("branch inspections")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.branch_code} {self.period_start}–{self.period_end}"
