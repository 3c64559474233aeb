"""The statistics filter, validated once for the page, the drill-downs, the exports and the API.

A query string such as ``?preset=month&basis=receipt&by=branch&branch=B1&result=not_in_time``
means the same on /stats/, /tasks/, /calls/ and /api/v1/stats/….
"""

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from verification.vocab import Channel, FlagCode, Outcome

from ..models import Channel as CallChannel
from .definitions import ATTEMPT_RESULTS, RESULTS
from .periods import BASES, CUSTOM, MAX_DAYS, PRESETS, RECEIPT, TODAY, Period, preset_period
from .selectors import ATTEMPT_DIMENSIONS, POLICY_DIMENSIONS, TIME_UNITS

DIMENSION_LABELS = {
    "reason": gettext_lazy("Reason"),
    "branch": gettext_lazy("Branch"),
    "salesperson": gettext_lazy("Salesperson"),
    "channel": gettext_lazy("Sales channel"),
    "product": gettext_lazy("Product"),
    "outlet": gettext_lazy("Bank or intermediary outlet"),
    "agent": gettext_lazy("Call-centre agent"),
    "call_channel": gettext_lazy("Callback channel"),
    "time": gettext_lazy("Over time"),
}
DIMENSIONS = list(DIMENSION_LABELS)
UNIT_LABELS = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month")}
DRILL_KEYS = ("branch", "salesperson", "channel", "product", "outlet", "agent", "call_channel", "flag")


def _blank(choices) -> list:
    return [("", gettext_lazy("All")), *choices]


class StatsFilterForm(forms.Form):
    preset = forms.ChoiceField(label=gettext_lazy("Period"), choices=PRESETS, required=False)
    basis = forms.ChoiceField(label=gettext_lazy("Counted by"), choices=BASES, required=False)
    first = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    by = forms.ChoiceField(
        label=gettext_lazy("Breakdown"), choices=[(k, v) for k, v in DIMENSION_LABELS.items()], required=False
    )
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=list(UNIT_LABELS.items()), required=False)
    result = forms.ChoiceField(choices=_blank([(k, k) for k in RESULTS]), required=False)
    calls = forms.ChoiceField(choices=_blank([(k, k) for k in ATTEMPT_RESULTS]), required=False)
    branch = forms.CharField(max_length=20, required=False)
    salesperson = forms.CharField(max_length=40, required=False)
    channel = forms.ChoiceField(choices=_blank(Channel.choices), required=False)
    product = forms.CharField(max_length=40, required=False)
    outlet = forms.CharField(max_length=40, required=False)
    agent = forms.IntegerField(min_value=1, required=False)
    call_channel = forms.ChoiceField(choices=_blank(CallChannel.choices), required=False)
    flag = forms.ChoiceField(choices=_blank(FlagCode.choices), required=False)
    outcome = forms.ChoiceField(choices=_blank(Outcome.choices), required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first or last:
            if not (first and last):
                raise forms.ValidationError(_("Give both the first and the last day of the range."))
            if first > last:
                self.add_error("last", _("The end date is before the start date."))
            elif (last - first).days + 1 > MAX_DAYS:
                self.add_error("last", _("A range may cover at most %(days)s days.") % {"days": MAX_DAYS})
        return data

    def valid(self) -> dict[str, Any]:
        """The fields that validated (a bad one is shown as an error and ignored, never a 500)."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        if self.non_field_errors():
            data.pop("first", None)
            data.pop("last", None)
        return data


def period_of(data: dict[str, Any], *, today: dt.date | None = None) -> Period:
    basis = data.get("basis") or RECEIPT
    if data.get("first") and data.get("last") and data.get("preset") in ("", None, CUSTOM):
        return Period(data["first"], data["last"], basis)
    return preset_period(data.get("preset") or TODAY, basis=basis, today=today or timezone.localdate())


def drill_filters(data: dict[str, Any]) -> dict[str, Any]:
    """The breakdown filters (branch, salesperson, …) present in `data`."""
    return {key: data[key] for key in DRILL_KEYS if data.get(key) not in (None, "")}


def drill_query(period: Period, filters: dict[str, Any], **extra: Any) -> str:
    """The query string of a drill-down: the period as explicit days (a link stays true tomorrow)."""
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update({"preset": CUSTOM, **period.as_params()})
    for key, value in {**filters, **extra}.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


__all__ = [
    "ATTEMPT_DIMENSIONS",
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "POLICY_DIMENSIONS",
    "TIME_UNITS",
    "UNIT_LABELS",
    "StatsFilterForm",
    "drill_filters",
    "drill_query",
    "period_of",
]
