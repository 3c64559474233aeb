"""Reading a policy's coverage term (FORMATS.md, `term_years`): whether the free-look callback applies.

The 2013 rule covers individual policies with a term over one year, whole life included. Core systems
write the term as years (`10`, `1.5`), `whole_life`, or in Chinese: `10年`, `终身`, `至70岁` / `保至70周岁`
(to the insured's age 70: the term runs from the insured's age at issue). A term that cannot be read
is not out of scope by default: it is reported (`term_unreadable`) so the scope is never lost silently.
"""

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

WHOLE_LIFE = {"whole_life", "whole life", "终身", "终生", "保终身"}
MAX_YEARS = Decimal(10000)
_YEARS = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?:年|years?|y)?$", re.IGNORECASE)
_TO_AGE = re.compile(r"^(?:保)?至\s*(?P<age>\d{1,3})\s*(?:周)?岁$")


class TermReading(NamedTuple):
    years: Decimal | None
    whole_life: bool
    problem: str  # "" when read; else "blank", "to age N without the insured's birth date" …

    @property
    def readable(self) -> bool:
        return not self.problem

    @property
    def in_scope(self) -> bool:
        return self.whole_life or (self.years is not None and self.years > 1)


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def read_term(
    text: str, *, insured_birth: dt.date | None = None, issue_date: dt.date | None = None
) -> TermReading:
    """The term in years (two decimals), whole life, or why it cannot be read."""
    value = unicodedata.normalize("NFKC", text or "").strip().replace(",", "")
    if not value:
        return TermReading(None, False, "blank")
    if value.lower() in WHOLE_LIFE:
        return TermReading(None, True, "")
    match = _YEARS.match(value)
    if match:
        try:
            years = Decimal(match["n"])
        except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
            years = None
        if years is None or not years.is_finite() or years <= 0 or years >= MAX_YEARS:
            return TermReading(None, False, f"not a term: {value[:40]}")
        return TermReading(years.quantize(Decimal("0.01")), False, "")
    match = _TO_AGE.match(value)
    if match:
        target = int(match["age"])
        if insured_birth is None or issue_date is None:
            return TermReading(None, False, f"to age {target} without the insured's birth date")
        age = _age_on(insured_birth, issue_date)
        if target <= age:
            return TermReading(None, False, f"to age {target} but the insured was {age} at issue")
        return TermReading(Decimal(target - age).quantize(Decimal("0.01")), False, "")
    return TermReading(None, False, f"not a term: {value[:40]}")
