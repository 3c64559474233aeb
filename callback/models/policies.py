from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from verification.vocab import Channel, Gender, IdType, PartyRole, PaymentFrequency, ProductType, Relation


class Policy(models.Model):
    """One policy as the core system sent it (FORMATS.md, policies)."""

    policy_no = models.CharField(_("policy number"), max_length=40)
    product_code = models.CharField(_("product code"), max_length=40, blank=True)
    product_name = models.CharField(_("product name"), max_length=200, blank=True)
    product_type = models.CharField(_("product type"), max_length=20, choices=ProductType.choices, blank=True)
    term_years = models.DecimalField(_("term (years)"), max_digits=6, decimal_places=2, null=True, blank=True)
    whole_life = models.BooleanField(_("whole life"), default=False)
    premium = models.DecimalField(_("premium (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True)
    payment_frequency = models.CharField(
        _("payment frequency"), max_length=12, choices=PaymentFrequency.choices, blank=True
    )
    payment_years = models.PositiveSmallIntegerField(_("payment years"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    branch_code = models.CharField(_("branch code"), max_length=20, blank=True)
    branch_name = models.CharField(_("branch"), max_length=100, blank=True)
    agent_code = models.CharField(_("salesperson number"), max_length=40, blank=True)
    agent_name = models.CharField(_("salesperson"), max_length=100, blank=True)
    outlet_code = models.CharField(_("outlet code"), max_length=40, blank=True)
    issue_date = models.DateField(_("issue date"))
    receipt_date = models.DateField(_("receipt signed"), null=True, blank=True)
    in_scope = models.BooleanField(
        _("in scope for callback"), default=False, help_text=_("Term over one year, whole life included.")
    )
    # A digest of the imported row: re-importing an unchanged row is detected without a diff.
    row_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["-issue_date", "policy_no"]
        # Plain indexes and constraints, not db_index=True / unique=True: on PostgreSQL those add a
        # second `_like` index per column which intake would maintain for a million rows and no query uses.
        constraints = [models.UniqueConstraint(fields=["policy_no"], name="policy_no_unique")]
        indexes = [
            models.Index(fields=["channel", "branch_code"]),
            models.Index(fields=["issue_date"]),
            models.Index(fields=["branch_code"], name="policy_branch_idx"),
            models.Index(fields=["agent_code"], name="policy_agent_idx"),
            models.Index(fields=["outlet_code"], name="policy_outlet_idx"),
        ]

    def __str__(self) -> str:
        return self.policy_no

    @property
    def applicant(self) -> "Party | None":
        for party in self.parties.all():
            if party.role == PartyRole.APPLICANT:
                return party
        return None


class PartyQuerySet(models.QuerySet):
    def applicants(self) -> "PartyQuerySet":
        """The policies' applicants (one per policy; the unique (policy, role, seq) makes it seq 0)."""
        return self.filter(role=PartyRole.APPLICANT, seq=0)

    def applicant_of(self, policy_id: int) -> "Party | None":
        """The applicant of one policy."""
        return self.applicants().filter(policy_id=policy_id).first()


class Party(models.Model):
    """A person on a policy: the applicant, the insured or a beneficiary.

    Phones are kept as written (for the branch to correct) and in E.164 (for matching).
    """

    # No index of its own: the unique (policy, role, seq) constraint below starts with it.
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="parties", db_index=False)
    role = models.CharField(_("party"), max_length=12, choices=PartyRole.choices)
    seq = models.PositiveSmallIntegerField(default=0, help_text=_("Order among beneficiaries."))
    name = models.CharField(_("name"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_type = models.CharField(_("id type"), max_length=20, choices=IdType.choices, blank=True)
    id_no = models.CharField(_("id number"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    mobile_e164 = models.CharField(max_length=20, blank=True)
    phone = models.CharField(_("landline"), max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_key = models.CharField(max_length=300, blank=True)
    relation = models.CharField(
        _("relation to applicant"), max_length=10, choices=Relation.choices, blank=True
    )
    share_percent = models.DecimalField(_("share %"), max_digits=5, decimal_places=2, null=True, blank=True)

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["policy", "role", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "role", "seq"], name="party_unique_per_policy_role_seq")
        ]
        # Screening looks applicants up by their normalised numbers and address (see Policy.Meta on
        # plain indexes). Only applicants' non-blank values are indexed: insured persons and
        # beneficiaries have none, and a million blank keys would cost every import for nothing.
        # A query must repeat the condition (role = 'applicant' AND column <> '') to use them.
        indexes = [
            models.Index(
                fields=[column],
                condition=Q(role="applicant") & ~Q(**{column: ""}),
                name=f"party_{name}_idx",
            )
            for column, name in (
                ("mobile_e164", "mobile"),
                ("phone_e164", "phone"),
                ("address_key", "address"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"
