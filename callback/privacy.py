"""Masking of personal data and the rule of who may see it in full."""

from .roles import ADMIN, SUPERVISOR, has_role


def mask_id(value: str, visible: int = 4) -> str:
    """`110101********1234`: only the last `visible` characters of an id number are shown."""
    value = value or ""
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]


def mask_phone(value: str) -> str:
    """`138****8000`: the first three and last four digits of a phone are shown."""
    value = value or ""
    if len(value) <= 7:
        return mask_id(value, visible=min(4, len(value) // 2))
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str, visible: int = 6) -> str:
    """`北京市朝阳区……`: the start of an address (the district, for an agent's greeting), not the street."""
    value = value or ""
    return value[:visible] + "……" if len(value) > visible else value


def may_see_full_ids(user) -> bool:
    """Full id numbers: supervisors and admins whose profile allows it. Agents never."""
    if not has_role(user, SUPERVISOR, ADMIN):
        return False
    profile = getattr(user, "profile", None)
    return bool(user.is_superuser or (profile and profile.can_see_full_ids))
