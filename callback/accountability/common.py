"""What the management lists share: the period asked for and which flags count as defective data."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from verification.vocab import FlagCode, PartyRole

from ..models import FlagStatus
from ..stats.periods import next_month

# Defective customer data (第八条, 第十条): every flag on the applicant's, insured's or beneficiaries'
# data, and a callback that reached a number not the applicant's. Not: the salesperson's record
# (agent_unknown, outlet_unknown … are the insurer's registry, not the customer's data), a callback
# that found nobody, or an unreadable term.
NOT_CUSTOMER_DATA = (
    FlagCode.CALLBACK_UNREACHABLE.value,
    FlagCode.CALLBACK_AGENT_ANSWERED.value,
    "term_unreadable",
)


def customer_data_q(prefix: str = "") -> Q:
    """Flags on customer data; `prefix` reaches them from another model (e.g. "flags__")."""
    return ~Q(**{f"{prefix}party": PartyRole.SALES}) & ~Q(**{f"{prefix}code__in": NOT_CUSTOMER_DATA})


def live_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": [FlagStatus.OPEN, FlagStatus.CORRECTION_REQUESTED]})


@dataclass(frozen=True)
class Period:
    """Calendar days in Beijing time, both ends included."""

    start: dt.date
    end: dt.date

    @classmethod
    def this_year(cls, today: dt.date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))

    @classmethod
    def this_month(cls, today: dt.date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(today.replace(day=1), next_month(today) - dt.timedelta(days=1))

    def instants(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes, for timestamp columns."""
        tz = timezone.get_default_timezone()
        return (
            timezone.make_aware(dt.datetime.combine(self.start, dt.time.min), tz),
            timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min), tz),
        )

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}
