"""One policy: its fields, parties (masked), flags with their history and actions, the callback task."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from verification import scripts

from ..audit import record_audit
from ..flags import REASON_MAX_LENGTH, describe_detail, flag_history, masked_detail
from ..models import Party, Policy
from ..privacy import mask_address, mask_id, mask_phone, may_see_full_ids
from ..roles import ADMIN, SUPERVISOR, has_role
from ..telephony.recordings import calls_with_recordings
from .flags import REVIEW_PERMISSION


def may_view_policy(user, policy: Policy) -> bool:
    """Supervisors and admins see any policy; an agent only the one whose task they hold right now."""
    if has_role(user, SUPERVISOR, ADMIN):
        return True
    try:
        task = policy.task
    except ObjectDoesNotExist:
        return False
    live_lease = task.lease_expires_at is not None and task.lease_expires_at > timezone.now()
    return task.holder_id == user.pk and live_lease


def _age_label(birth_date) -> str:
    age = scripts.age_on(birth_date, timezone.localdate())
    return _("%(age)s years old") % {"age": age} if age is not None else ""


def _party_row(party: Party, *, revealed: bool, agent_view: bool = False) -> dict:
    # Masked for everyone by default: even a permitted user sees full numbers only by asking for
    # them, so that every full view is in the audit trail. An agent sees none of what the identity
    # check asks the customer (birth date, id number) and only the start of the address: shown
    # on the page, the customer's answers could be read out instead of heard.
    if agent_view:
        return {
            "party": party,
            "birth_date": _age_label(party.birth_date),
            "id_no": _("hidden: the customer states it") if party.id_no else "",
            "mobile": mask_phone(party.mobile),
            "phone": mask_phone(party.phone),
            "address": mask_address(party.address),
            "revealed": False,
        }
    return {
        "party": party,
        "birth_date": party.birth_date.isoformat() if party.birth_date else "",
        "id_no": party.id_no if revealed else mask_id(party.id_no),
        "mobile": party.mobile if revealed else mask_phone(party.mobile),
        "phone": party.phone if revealed else mask_phone(party.phone),
        "address": party.address,
        "revealed": revealed,
    }


def _render_policy(request, policy: Policy, *, revealed: int | None = None):
    flags = list(policy.flags.select_related("raised_by", "correction_requested_by", "closed_by"))
    for flag in flags:
        flag.history = flag_history(flag)
        flag.shown_detail = masked_detail(describe_detail(flag.detail))
    try:
        task = policy.task
    except ObjectDoesNotExist:
        task = None
    agent_view = not has_role(request.user, SUPERVISOR, ADMIN)
    return render(
        request,
        "callback/policy_detail.html",
        {
            "policy": policy,
            "parties": [
                _party_row(party, revealed=party.pk == revealed, agent_view=agent_view)
                for party in policy.parties.all()
            ],
            "flags": flags,
            "task": task,
            "calls": calls_with_recordings(task, request.user),
            "may_reveal": may_see_full_ids(request.user),
            "can_review": request.user.has_perm(REVIEW_PERMISSION),
            "reason_max_length": REASON_MAX_LENGTH,
        },
    )


def _policy_for(request, policy_no: str) -> Policy:
    policy = get_object_or_404(Policy.objects.prefetch_related("parties"), policy_no=policy_no)
    if not may_view_policy(request.user, policy):
        raise PermissionDenied
    return policy


@login_required
@require_GET
def policy_detail(request, policy_no: str):
    policy = _policy_for(request, policy_no)
    record_audit(user=request.user, action="view_policy", obj=policy, request=request)
    return _render_policy(request, policy)


@login_required
@require_POST
def reveal_party(request, policy_no: str, party_id: int):
    """Shows one party's id number and phones in full, to those allowed, and records who saw them."""
    policy = _policy_for(request, policy_no)
    if not may_see_full_ids(request.user):
        raise PermissionDenied
    party = get_object_or_404(Party, pk=party_id, policy=policy)
    record_audit(
        user=request.user,
        action="reveal_id",
        obj=party,
        detail={"policy_no": policy.policy_no, "role": party.role, "name": party.name},
        request=request,
    )
    if request.headers.get("HX-Request"):
        row = _party_row(party, revealed=True)
        return render(request, "callback/_party_row.html", {"row": row, "policy": policy, "may_reveal": True})
    return _render_policy(request, policy, revealed=party.pk)


urlpatterns = [
    path("policies/<str:policy_no>/", policy_detail, name="policy_detail"),
    path("policies/<str:policy_no>/parties/<int:party_id>/reveal/", reveal_party, name="reveal_party"),
]
