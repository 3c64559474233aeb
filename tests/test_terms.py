"""Callback scope is never lost silently: terms read in their Chinese forms, the rest flagged."""

import datetime as dt
from decimal import Decimal

import pytest

from callback.models import ContactFlag, Policy
from callback.screening import rescreen
from verification.terms import read_term
from verification.vocab import FlagCode

from .factories.intake import import_rows, live_codes, row

BORN = dt.date(1980, 6, 15)
ISSUED = dt.date(2026, 11, 3)


@pytest.mark.parametrize(
    ("text", "years", "whole_life", "in_scope"),
    [
        ("10", Decimal("10.00"), False, True),
        ("1.5", Decimal("1.50"), False, True),
        ("1", Decimal("1.00"), False, False),
        ("10年", Decimal("10.00"), False, True),
        ("１０年", Decimal("10.00"), False, True),
        ("终身", None, True, True),
        ("whole_life", None, True, True),
        ("至70岁", Decimal("24.00"), False, True),  # the insured is 46 at issue
        ("保至70周岁", Decimal("24.00"), False, True),
    ],
)
def test_terms_that_have_a_meaning_are_read(text, years, whole_life, in_scope):
    reading = read_term(text, insured_birth=BORN, issue_date=ISSUED)
    assert (reading.years, reading.whole_life, reading.readable, reading.in_scope) == (
        years,
        whole_life,
        True,
        in_scope,
    )


@pytest.mark.parametrize("text", ["", "  ", "十年", "abc", "0", "-5", "至40岁", "=1+1"])
def test_terms_that_cannot_be_read_say_why(text):
    reading = read_term(text, insured_birth=BORN, issue_date=ISSUED)
    assert not reading.readable and reading.problem and not reading.in_scope


def test_to_age_without_a_birth_date_is_unreadable():
    assert read_term("至70岁").problem == "to age 70 without the insured's birth date"


@pytest.mark.django_db
def test_import_flags_an_unreadable_term_and_reads_the_chinese_ones():
    import_rows(
        row(policy_no="PT1", term_years=""),
        row(policy_no="PT2", term_years="十年"),
        row(policy_no="PT3", term_years="10年"),
        row(policy_no="PT4", term_years="至70岁", applicant_birth_date="1980-06-15"),
        row(policy_no="PT5", term_years="终身"),
    )
    assert FlagCode.TERM_UNREADABLE in live_codes("PT1") and FlagCode.TERM_UNREADABLE in live_codes("PT2")
    flag = ContactFlag.objects.get(policy__policy_no="PT1", code=FlagCode.TERM_UNREADABLE)
    assert (flag.field, flag.detail) == ("term_years", "blank")
    for no in ("PT3", "PT4", "PT5"):
        assert FlagCode.TERM_UNREADABLE not in live_codes(no)
    terms = dict(Policy.objects.values_list("policy_no", "term_years"))
    assert terms["PT3"] == Decimal("10.00") and terms["PT4"] == Decimal("24.00")
    assert Policy.objects.get(policy_no="PT5").whole_life
    # Re-screening the stored policy keeps the flag (it stays visible until corrected)…
    rescreen(policy_ids=list(Policy.objects.values_list("pk", flat=True)), row_codes=True)
    assert FlagCode.TERM_UNREADABLE in live_codes("PT1")
    assert FlagCode.TERM_UNREADABLE not in live_codes("PT4")
    # … and a corrected term resolves it.
    import_rows(row(policy_no="PT1", term_years="20"))
    assert FlagCode.TERM_UNREADABLE not in live_codes("PT1")
    assert Policy.objects.get(policy_no="PT1").in_scope
