"""Every number on the statistics page opens the tasks or calls behind it: the task list and the
calls list apply the same filter (`?basis=…&first=…&last=…&result=…&branch=…`) through these."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ..models import CallAttempt, CallbackTask
from .definitions import ATTEMPT_RESULTS, RESULTS
from .forms import StatsFilterForm, drill_filters, drill_query, period_of
from .periods import BASES, Period
from .selectors import attempts, tasks


@dataclass
class Drill:
    period: Period
    filters: dict[str, Any]
    result: str
    calls: str
    outcome: str

    def describe(self) -> str:
        parts = [
            _("%(first)s to %(last)s") % {"first": self.period.first, "last": self.period.last},
            str(dict(BASES)[self.period.basis]),
        ]
        if self.result:
            parts.append(_("result: %(result)s") % {"result": self.result})
        if self.calls:
            parts.append(_("calls: %(calls)s") % {"calls": self.calls})
        parts += [f"{key} = {value}" for key, value in self.filters.items()]
        return " · ".join(parts)

    def audit(self) -> dict[str, str]:
        detail = {**self.period.as_params(), **{k: str(v) for k, v in self.filters.items()}}
        for key in ("result", "calls", "outcome"):
            if getattr(self, key):
                detail[key] = getattr(self, key)
        return detail

    def query(self) -> str:
        return drill_query(
            self.period, self.filters, result=self.result, calls=self.calls, outcome=self.outcome
        )


def drill_of(params) -> Drill | None:
    """The statistics filter in a list page's query string, or None when the page was opened plainly."""
    if "basis" not in params:
        return None
    data = StatsFilterForm(params).valid()
    return Drill(
        period=period_of(data),
        filters=drill_filters(data),
        result=data.get("result") or "",
        calls=data.get("calls") or "",
        outcome=data.get("outcome") or "",
    )


def drilled_tasks(drill: Drill, base: QuerySet[CallbackTask]) -> QuerySet[CallbackTask]:
    qs = tasks(drill.period, drill.filters, base=base)
    if drill.result:
        qs = qs.filter(RESULTS[drill.result])
    return qs


def drilled_attempts(drill: Drill, base: QuerySet[CallAttempt]) -> QuerySet[CallAttempt]:
    qs = attempts(drill.period, drill.filters, base=base)
    if drill.calls:
        qs = qs.filter(ATTEMPT_RESULTS[drill.calls])
    if drill.outcome:
        qs = qs.filter(outcome=drill.outcome)
    if drill.result:  # the calls on the tasks of a result category
        qs = qs.filter(task__in=tasks(drill.period, drill.filters).filter(RESULTS[drill.result]).values("pk"))
    return qs
