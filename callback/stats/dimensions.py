"""What the figures can be broken down by, written once for the selectors, the roll-up and the forms."""

from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

# Policy columns a breakdown can group by and a drill-down can filter on: (key, columns shown).
POLICY_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "branch": ("policy__branch_code", "policy__branch_name"),
    "salesperson": ("policy__agent_code", "policy__agent_name"),
    "channel": ("policy__channel",),
    "product": ("policy__product_code", "policy__product_name"),
    "outlet": ("policy__outlet_code",),
}
# Attempt columns (who called, by which channel).
ATTEMPT_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "agent": ("agent_id", "agent__username", "agent__first_name", "agent__last_name"),
    "call_channel": ("channel",),
}
TIME_UNITS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def agent_label(username: str | None, first_name: str | None, last_name: str | None) -> str:
    """A call-centre agent as the breakdowns show them: "王坐席 (username)", or the username."""
    name = f"{last_name or ''}{first_name or ''}".strip()
    return f"{name} ({username or ''})" if name else username or ""
