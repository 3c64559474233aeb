"""Admin for telephony: SMS templates (editable), messages, opt-outs and recordings (read-only)."""

from django.contrib import admin

from ..models import Recording, SmsMessage, SmsOptOut, SmsTemplate


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code", "name", "body"]


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "template", "to", "status", "sid"]
    list_filter = ["status", "template"]
    search_fields = ["to", "sid", "event_key"]
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ["number", "keyword", "created_at"]
    search_fields = ["number"]


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["sid", "attempt", "source", "status", "duration_seconds", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["sid"]
    readonly_fields = [f.name for f in Recording._meta.fields]

    def has_add_permission(self, request):
        return False
