"""Demo step: a supervisor has already worked through some of the flags screening raised.

Runs after the policies step (which imports and screens). Idempotent: the flags acted on are chosen
by a fixed order over all flags, and a step on a flag already past it is simply refused.
"""

from django.db import transaction

from ..flags import request_correction, resolve_flags, waive_flags
from ..models import ContactFlag

WAIVE_REASONS = [
    "客户本人确认该号码为其本人使用,经回访核实无误",
    "乡村地址无门牌号,已与客户电话核实",
]


@transaction.atomic
def seed(users) -> None:
    supervisor = users["supervisor"]
    flags = list(ContactFlag.objects.order_by("policy__policy_no", "code", "field", "id")[:12])
    if not flags:
        return
    # Every other flag, so the list shows a mix of statuses next to each other.
    asked, waived, resolved = flags[0:10:2], flags[1:5:2], flags[7:8]
    request_correction(flags=asked, user=supervisor)
    for flag, reason in zip(waived, WAIVE_REASONS, strict=False):
        waive_flags(flags=[flag], user=supervisor, reason=reason)
    if resolved:
        resolve_flags(flags=resolved, user=supervisor, reason="分公司已更正客户联系电话")
