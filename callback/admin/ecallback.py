from django.contrib import admin

from ..models import ECallbackLink, ECallbackSettings, PhoneOnlyRule
from .read_only import ReadOnlyAdmin


@admin.register(ECallbackSettings)
class ECallbackSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "enabled",
        "fallback_after_days",
        "fallback_before_end_days",
        "max_wrong_codes",
    ]

    def has_add_permission(self, request):
        return not ECallbackSettings.objects.exists() and super().has_add_permission(request)


@admin.register(PhoneOnlyRule)
class PhoneOnlyRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "channels", "product_types", "min_age", "min_premium"]
    list_filter = ["active"]


@admin.register(ECallbackLink)
class ECallbackLinkAdmin(ReadOnlyAdmin):
    """Read-only: links are evidence, made and moved only by the e-callback service."""

    list_display = ["task", "status", "sent_at", "fallback_at", "identity_method", "completed_at"]
    list_filter = ["status"]
    exclude = ["token_hash"]
