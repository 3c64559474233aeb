from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from verification.vocab import AgentStatus, Channel


class Agent(models.Model):
    """A salesperson (registry of sales agents from HR)."""

    agent_code = models.CharField(_("employee number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    phones = models.CharField(_("other phones"), max_length=300, blank=True, help_text=_("Separated by ;"))
    branch_code = models.CharField(_("branch code"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    outlet_code = models.CharField(_("outlet code"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=AgentStatus.choices, default=AgentStatus.ACTIVE
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sales agent")
        verbose_name_plural = _("sales agents")
        ordering = ["agent_code"]

    def __str__(self) -> str:
        return f"{self.agent_code} {self.name}"


class Outlet(models.Model):
    """A bank or intermediary outlet (网点)."""

    outlet_code = models.CharField(_("outlet code"), max_length=40, unique=True)
    name = models.CharField(pgettext_lazy("of a thing, not a person", "name"), max_length=200)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    phones = models.CharField(_("phones"), max_length=300, blank=True, help_text=_("Separated by ;"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_key = models.CharField(max_length=300, blank=True, db_index=True)
    branch_code = models.CharField(_("branch code"), max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")
        ordering = ["outlet_code"]

    def __str__(self) -> str:
        return f"{self.outlet_code} {self.name}"


class CompanyNumber(models.Model):
    """One of the insurer's own numbers (hotline, switchboard, branch office)."""

    number = models.CharField(_("number"), max_length=40)
    normalized = models.CharField(max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("company number")
        verbose_name_plural = _("company numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.label}"


class RegistryPhone(models.Model):
    """Every registered number of agents, outlets and the company, normalised, for screening joins.

    Derived from the three registries: rebuilt for an owner whenever its registry row changes.
    """

    class Owner(models.TextChoices):
        AGENT = "agent", _("Sales agent")
        OUTLET = "outlet", _("Outlet")
        COMPANY = "company", _("Company")

    number = models.CharField(max_length=20, db_index=True)
    owner_kind = models.CharField(max_length=8, choices=Owner.choices)
    owner_code = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["number", "owner_kind", "owner_code"], name="registry_phone_unique"
            )
        ]
        indexes = [models.Index(fields=["owner_kind", "owner_code"])]

    def __str__(self) -> str:
        return f"{self.number} ({self.owner_kind} {self.owner_code})"
