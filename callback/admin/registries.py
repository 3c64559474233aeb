"""Admin for registries, policies and imports.

Saving or deleting a registry row re-screens the policies it touches (a newly registered agent
mobile flags the policies that already use it).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from verification import validators

from .. import screening
from ..models import Agent, CompanyNumber, ImportRun, Outlet, Party, Policy, RegistryPhone
from ..privacy import mask_id, mask_phone


class RescreeningAdmin(admin.ModelAdmin):
    owner_kind = ""

    def prepare(self, obj) -> None:
        """Derived fields of the row before it is saved."""

    def save_model(self, request, obj, form, change):
        self.prepare(obj)
        if self.owner_kind == RegistryPhone.Owner.OUTLET and change:
            obj._old_address_key = (
                type(obj).objects.filter(pk=obj.pk).values_list("address_key", flat=True).first()
            )
        super().save_model(request, obj, form, change)
        screening.rescreen_registry_change(kind=self.owner_kind, rows=[obj])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        screening.rescreen_registry_change(kind=self.owner_kind, deleted=[obj])

    def delete_queryset(self, request, queryset):
        rows = list(queryset)
        super().delete_queryset(request, queryset)
        screening.rescreen_registry_change(kind=self.owner_kind, deleted=rows)


@admin.register(Agent)
class AgentAdmin(RescreeningAdmin):
    owner_kind = RegistryPhone.Owner.AGENT
    list_display = ("agent_code", "name", "mobile", "branch_code", "channel", "status")
    list_filter = ("status", "channel", "branch_code")
    search_fields = ("agent_code", "name", "mobile", "phones")


@admin.register(Outlet)
class OutletAdmin(RescreeningAdmin):
    owner_kind = RegistryPhone.Owner.OUTLET
    list_display = ("outlet_code", "name", "institution", "phones", "branch_code")
    list_filter = ("institution", "branch_code")
    search_fields = ("outlet_code", "name", "phones", "address")
    exclude = ("address_key",)

    def prepare(self, obj) -> None:
        obj.address_key = validators.address_key(obj.address)


@admin.register(CompanyNumber)
class CompanyNumberAdmin(RescreeningAdmin):
    owner_kind = RegistryPhone.Owner.COMPANY
    list_display = ("number", "label")
    search_fields = ("number", "label")
    exclude = ("normalized",)

    def prepare(self, obj) -> None:
        obj.normalized = validators.normalize_phone(obj.number) or obj.number


class PartyInline(admin.TabularInline):
    """Parties as the policy page shows them: id numbers and phones masked. The full values are on the
    policy page behind its audited "show full id" (callback/views/policies.py)."""

    model = Party
    extra = 0
    can_delete = False
    fields = (
        "role",
        "seq",
        "name",
        "gender",
        "birth_date",
        "id_type",
        "masked_id_no",
        "masked_mobile",
        "masked_phone",
        "address",
        "relation",
        "share_percent",
    )
    readonly_fields = fields

    @admin.display(description=_("id number"))
    def masked_id_no(self, party: Party) -> str:
        return mask_id(party.id_no)

    @admin.display(description=_("mobile"))
    def masked_mobile(self, party: Party) -> str:
        return mask_phone(party.mobile)

    @admin.display(description=_("landline"))
    def masked_phone(self, party: Party) -> str:
        return mask_phone(party.phone)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Read-mostly: policies come from the core system through intake; corrections go back there."""

    list_display = (
        "policy_no",
        "product_name",
        "channel",
        "branch_code",
        "agent_code",
        "issue_date",
        "in_scope",
    )
    list_filter = ("in_scope", "channel", "product_type", "branch_code")
    search_fields = ("policy_no", "agent_code", "outlet_code")
    date_hierarchy = "issue_date"
    inlines = [PartyInline]
    readonly_fields = [f.name for f in Policy._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "source",
        "filename",
        "status",
        "rows_read",
        "created",
        "updated",
        "rejected",
    )
    list_filter = ("kind", "status", "source")
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
