"""How the statistics pages write rates and durations: "—" when there is nothing to divide by."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.4 → "40.0%"; None → "—" (an empty period, not 0 %)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"


@register.filter
def hours(value) -> str:
    """Hours as days and hours: 46.0 → "1 d 22 h"; None → "—"."""
    if value is None or value == "":
        return "—"
    total = round(float(value))
    sign, (days, rest) = ("-" if total < 0 else ""), divmod(abs(total), 24)
    if days:
        return sign + _("%(days)s d %(hours)s h") % {"days": days, "hours": rest}
    return sign + _("%(hours)s h") % {"hours": rest}


@register.filter
def seconds(value) -> str:
    """Seconds as minutes and seconds: 300 → "5:00"; None → "—"."""
    if value is None or value == "":
        return "—"
    minutes, secs = divmod(int(value), 60)
    return f"{minutes}:{secs:02d}"
