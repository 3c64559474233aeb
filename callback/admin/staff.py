"""Admin for teams, queues, routing rules, calling hours, holidays, free-look and retry rules."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..audit import record_audit
from ..models import CallbackTask, FreeLookRule, Holiday, Queue, RetryRule, RoutingRule, StaffProfile, Team
from .read_only import ReadOnlyAdmin


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 1
    fields = ["order", "channel", "branch_code", "product_type", "min_age", "max_age"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "is_default",
        "timezone",
        "weekday_start",
        "weekday_end",
        "weekend_start",
        "weekend_end",
    ]
    list_editable = ["is_default"]
    filter_horizontal = ["teams"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [RoutingRuleInline]
    fieldsets = [
        (None, {"fields": ["name", "code", "is_default", "teams"]}),
        (
            _("Calling hours (applicant's local time)"),
            {"fields": ["timezone", ("weekday_start", "weekday_end"), ("weekend_start", "weekend_end")]},
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.is_default:  # one default queue: it takes what no rule routes
            Queue.objects.exclude(pk=obj.pk).filter(is_default=True).update(is_default=False)


class MemberInline(admin.TabularInline):
    model = StaffProfile
    fields = ["user", "phone"]
    extra = 0
    verbose_name = _("member")
    verbose_name_plural = _("members")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "supervisor"]
    inlines = [MemberInline]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "phone", "can_see_full_ids"]
    list_filter = ["team"]
    search_fields = ["user__username", "user__first_name"]

    def get_readonly_fields(self, request, obj=None):
        # Full id numbers are a superuser's grant: the admin role must not give them to itself.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else [*readonly, "can_see_full_ids"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "can_see_full_ids" in form.changed_data:
            record_audit(
                user=request.user,
                action="full_id_access_granted" if obj.can_see_full_ids else "full_id_access_revoked",
                obj=obj,
                detail={"username": obj.user.username},
                request=request,
            )


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(FreeLookRule)
class FreeLookRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "channel", "product_type", "days", "note"]
    list_editable = ["days"]


@admin.register(RetryRule)
class RetryRuleAdmin(admin.ModelAdmin):
    list_display = ["outcome", "retry_after_minutes", "max_attempts_per_day", "give_up_after"]
    list_editable = ["retry_after_minutes", "max_attempts_per_day", "give_up_after"]


@admin.register(CallbackTask)
class CallbackTaskAdmin(ReadOnlyAdmin):
    """Read-only: tasks change through the queue, the API and the review actions, never by hand."""

    list_display = [
        "policy",
        "status",
        "queue",
        "window_end",
        "next_attempt_at",
        "attempts",
        "outcome",
        "holder",
    ]
    list_filter = ["status", "queue", "outcome"]
    search_fields = ["policy__policy_no"]
    list_select_related = ["policy", "queue", "holder"]
