from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from verification.vocab import FlagCode, PartyRole

from .policies import Party, Policy


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
    RESOLVED = "resolved", _("Resolved")
    WAIVED = "waived", _("Waived")


ACTIVE_FLAG_STATUSES = (FlagStatus.OPEN, FlagStatus.CORRECTION_REQUESTED)


def _who() -> models.ForeignKey:
    """The user who took a step. Not indexed: flags are never looked up by user, and a million flags
    raised by an import would pay for three indexes (deleting a user, which PROTECT checks, is rare)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


class ContactFlag(models.Model):
    """A defect in a policy's contact data, or a failed callback (FORMATS.md, contact-data flags).

    Lifecycle: open → correction requested → resolved, or waived by a supervisor with a reason.
    Each step records who and when; `None` as the person means Huifang itself (screening, import).
    """

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="flags")
    party = models.CharField(_("party"), max_length=12, choices=PartyRole.choices)
    field = models.CharField(_("field"), max_length=40)
    code = models.CharField(_("code"), max_length=32, choices=FlagCode.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True, db_index=True)
    raised_by = _who()
    correction_requested_at = models.DateTimeField(_("correction requested"), null=True, blank=True)
    correction_requested_by = _who()
    # The branch's deadline for the correction (第八条: the insurer sets one; fee holds read it).
    correction_due = models.DateField(_("correction due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = _who()
    close_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("contact flag")
        verbose_name_plural = _("contact flags")
        ordering = ["-raised_at", "id"]
        constraints = [
            # Re-screening never raises the same live defect twice.
            models.UniqueConstraint(
                fields=["policy", "party", "field", "code"],
                condition=Q(status__in=["open", "correction_requested"]),
                name="contact_flag_one_live_per_defect",
            )
        ]
        indexes = [
            models.Index(fields=["status", "code"]),
            models.Index(fields=["code", "status", "raised_at"]),
        ]
        permissions = [
            ("review_contactflag", _("Can request corrections and waive flags")),
            ("export_contactflag", _("Can export flag lists")),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.code} {self.field}"

    @property
    def field_label(self) -> str:
        """The flagged field as users know it (手机, 地址 …): the policy or party field's verbose name."""
        for model in (Party, Policy):
            try:
                return str(model._meta.get_field(self.field).verbose_name)
            except FieldDoesNotExist:
                continue
        return self.field

    @property
    def is_live(self) -> bool:
        return self.status in ACTIVE_FLAG_STATUSES


# How long a flag's detail may be: what intake stages, screening raises and callbacks write is cut to it.
FLAG_DETAIL_LENGTH = ContactFlag._meta.get_field("detail").max_length


class FlagTally(models.Model):
    """How many flags there are per code, status, branch and channel: rows of +n and −n written by
    database triggers on every change of a flag (or of its policy's branch or channel), added up by
    the flag list's counts and merged by the sweep (callback/flag_tally.py, migration 0020). Nothing
    in Python writes it, so no way of changing a flag — the ORM, the intake's set-based SQL, a
    cascade — can leave it behind."""

    code = models.CharField(max_length=32)
    status = models.CharField(max_length=24)
    branch_code = models.CharField(max_length=20)
    branch_name = models.CharField(max_length=100)
    channel = models.CharField(max_length=16)
    n = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.code}/{self.status}/{self.branch_code}/{self.channel}: {self.n}"
