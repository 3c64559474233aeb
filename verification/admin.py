"""Admin for scripts, versions and questions.

A published or retired version is read-only here: "New draft" on the scripts page copies it into an
editable draft, which is published from there once it passes the checks.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Question, Script, ScriptVersion


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = [
        ("order", "key", "kind", "required"),
        "text_zh",
        "text_en",
        ("choices", "passing_answers"),
        ("on_fail", "fail_outcome", "fail_flag", "flag_field"),
        ("follow_up_key", "is_follow_up"),
    ]

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_draft

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class VersionInline(admin.TabularInline):
    model = ScriptVersion
    extra = 0
    fields = ["number", "status", "published_at", "retired_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "applicability"]
    search_fields = ["name", "code"]
    inlines = [VersionInline]

    @admin.display(description=_("applies to"))
    def applicability(self, obj):
        return obj.applicability()


@admin.action(description=_("Publish the selected drafts"))
def publish_versions(modeladmin, request, queryset):
    for version in queryset.select_related("script"):
        try:
            version.publish(user=request.user)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)
        else:
            modeladmin.message_user(request, _("%(version)s is published.") % {"version": version})


@admin.action(description=_("Retire the selected published versions"))
def retire_versions(modeladmin, request, queryset):
    for version in queryset.select_related("script"):
        try:
            version.retire()
        except ValidationError as exc:
            modeladmin.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)


@admin.register(ScriptVersion)
class ScriptVersionAdmin(admin.ModelAdmin):
    list_display = ["script", "number", "status", "published_at"]
    list_filter = ["status", "script"]
    inlines = [QuestionInline]
    actions = [publish_versions, retire_versions]
    readonly_fields = ["status", "published_at", "published_by", "retired_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return ["script", "number", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # Calls point at published versions: only a draft may be deleted.
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and not obj.is_draft and request.method == "GET":
            self.message_user(
                request,
                _(
                    "This version is published and cannot change: use “New draft” on the "
                    "scripts page to edit it."
                ),
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change and not obj.number:
            obj.number = (
                obj.script.versions.order_by("-number").values_list("number", flat=True).first() or 0
            ) + 1
        super().save_model(request, obj, form, change)
