"""Admins' scripts page: versions, preview against a real policy, publish, retire, new draft."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from verification import scripts as rules
from verification.models import Script, ScriptVersion

from ..audit import record_audit
from ..models import Policy
from ..roles import ADMIN, role_required
from ..script_for_policy import script_context, tasks_without_script, version_for_policy

WITHOUT_SCRIPT_SHOWN = 50


@role_required(ADMIN)
def script_list(request):
    missing = tasks_without_script()
    return render(
        request,
        "verification/script_list.html",
        {
            "scripts": Script.objects.prefetch_related("versions"),
            "without_script": missing[:WITHOUT_SCRIPT_SHOWN],
            "without_script_count": missing.count(),
            "versions": ScriptVersion.objects.select_related("script").order_by("script__code", "-number"),
        },
    )


@role_required(ADMIN)
def script_preview(request):
    version = (
        ScriptVersion.objects.select_related("script").filter(pk=_int(request.GET.get("version"))).first()
    )
    policy_no = (request.GET.get("policy_no") or "").strip()[:40]
    policy = (
        Policy.objects.prefetch_related("parties").filter(policy_no=policy_no).first() if policy_no else None
    )
    context = {
        "version": version,
        "policy_no": policy_no,
        "policy": policy,
        "versions": ScriptVersion.objects.select_related("script").order_by("script__code", "-number"),
    }
    if version is None:
        context["error"] = _("Choose a script version to preview.")
    elif policy_no and policy is None:
        context["error"] = _("No policy has the number %(policy)s.") % {"policy": policy_no}
    if version is not None:
        task = getattr(policy, "task", None) if policy else None
        values = script_context(policy=policy, task=task, caller=request.user) if policy else {}
        context["lines"] = [
            (q, rules.render(q.text_zh, values), rules.render(q.text_en, values))
            for q in version.questions.order_by("order")
        ]
        context["publish_errors"] = version.publish_errors() if version.is_draft else []
    if policy is not None:
        context["selected"] = version_for_policy(policy)
        record_audit(
            user=request.user,
            action="view_policy",
            obj=policy,
            detail={"via": "script_preview"},
            request=request,
        )
    return render(request, "verification/script_preview.html", context)


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _audit(request, name: str, version: ScriptVersion, **detail) -> None:
    record_audit(
        user=request.user,
        action=name,
        obj=version,
        detail={"script": version.script.code, "version": version.number, **detail},
        request=request,
    )


def _act(request, version_id: int, action, name: str) -> ScriptVersion:
    version = get_object_or_404(ScriptVersion.objects.select_related("script"), pk=version_id)
    try:
        action(version)
    except ValidationError as exc:
        messages.error(
            request, _("%(version)s: %(errors)s") % {"version": version, "errors": " ".join(exc.messages)}
        )
    else:
        _audit(request, name, version)
    return version


@require_POST
@role_required(ADMIN)
def publish(request, version_id: int):
    version = _act(request, version_id, lambda v: v.publish(user=request.user), "script_published")
    if version.status == ScriptVersion.Status.PUBLISHED:
        messages.success(request, _("%(version)s is published.") % {"version": version})
    return redirect("script_list")


@require_POST
@role_required(ADMIN)
def retire(request, version_id: int):
    version = _act(request, version_id, lambda v: v.retire(), "script_retired")
    if version.status == ScriptVersion.Status.RETIRED:
        messages.success(request, _("%(version)s is retired.") % {"version": version})
    return redirect("script_list")


@require_POST
@role_required(ADMIN)
def new_draft(request, version_id: int):
    version = get_object_or_404(ScriptVersion.objects.select_related("script"), pk=version_id)
    draft = version.new_draft()
    _audit(request, "script_draft_created", draft, copied_from=version.number)
    messages.success(
        request, _("Draft %(version)s: edit its questions, preview it, then publish it.") % {"version": draft}
    )
    return redirect(reverse("admin:verification_scriptversion_change", args=[draft.pk]))


urlpatterns = [
    path("scripts/", script_list, name="script_list"),
    path("scripts/preview/", script_preview, name="script_preview"),
    path("scripts/versions/<int:version_id>/publish/", publish, name="script_publish"),
    path("scripts/versions/<int:version_id>/retire/", retire, name="script_retire"),
    path("scripts/versions/<int:version_id>/draft/", new_draft, name="script_new_draft"),
]
