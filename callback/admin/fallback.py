"""Admin of the fallback rules: when the phone has failed, which fallback channel takes over."""

from django.contrib import admin

from ..models import FallbackRule


@admin.register(FallbackRule)
class FallbackRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "trigger",
        "min_attempts",
        "over_days",
        "days_before_end",
        "channel",
        "reply_days",
        "active",
        "order",
    )
    list_editable = ("active", "order")
    list_filter = ("trigger", "channel", "active")
