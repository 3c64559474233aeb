"""Staff accounts in the Django admin: the `admin` role manages people, never powers.

Only a superuser changes superuser status, a user's own permissions, or an account that is a
superuser; the `admin` role assigns the call-centre roles (groups) and nothing else. Who may see full
id numbers is a superuser's decision too, and every change of it is in the audit trail.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from ..audit import record_audit
from ..roles import ROLES

User = get_user_model()

# What only a superuser may change on an account.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


class StaffUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [f for f in SUPERUSER_ONLY_FIELDS if f not in readonly]
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _touches_a_superuser(self, request, obj) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return not self._touches_a_superuser(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._touches_a_superuser(request, obj) and super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.groups.values_list("name", flat=True))
        if before != after:
            record_audit(
                user=request.user,
                action="roles_changed",
                obj=form.instance,
                detail={"username": form.instance.username, "before": sorted(before), "after": sorted(after)},
                request=request,
            )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "is_superuser" in form.changed_data:
            record_audit(
                user=request.user,
                action="superuser_changed",
                obj=obj,
                detail={"username": obj.username, "is_superuser": obj.is_superuser},
                request=request,
            )


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
