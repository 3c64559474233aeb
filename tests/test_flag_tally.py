"""The flag list's counts from the tally the database keeps: the same numbers as counting the flags,
whichever way the flags changed (import, supervisor steps, bulk updates, a policy moving branch,
deletion), and after the sweep merges the tally."""

import pytest

from callback import flag_tally, flags
from callback.models import ContactFlag, FlagStatus, FlagTally, Policy
from callback.sweep import sweep

from .factories import UserFactory
from .factories.intake import import_rows, row

FILTERS = [
    {},
    {"status": "open"},
    {"code": "mobile_invalid"},
    {"code": "mobile_invalid", "status": "waived"},
    {"branch": "B9"},
    {"channel": "bancassurance", "status": "open"},
]


def assert_tally_counts_the_flags():
    for filters in FILTERS:
        assert flag_tally.answers(filters)
        assert flag_tally.counts(filters, 10) == flags._facet_counts(filters, 10), filters


@pytest.fixture
def imported(db):
    rows = [
        row(policy_no=f"PT{n:010d}", applicant_mobile="12345" if n % 2 else "", branch_code=f"B{n % 3}")
        for n in range(1, 13)
    ]
    import_rows(*rows)
    assert ContactFlag.objects.count() > 12
    return rows


def test_an_import_and_supervisor_steps_keep_the_tally_exact(imported):
    assert_tally_counts_the_flags()
    boss = UserFactory(role="supervisor")
    some = ContactFlag.objects.filter(code="mobile_invalid").order_by("pk")
    flags.request_correction(flags=some[:3], user=boss)
    flags.waive_flags(
        flags=ContactFlag.objects.filter(pk__in=some[3:5].values("pk")), user=boss, reason="核实无误"
    )
    assert_tally_counts_the_flags()
    assert flag_tally.counts({"status": "waived"}, 10)["by_status"]["waived"] == 2


def test_bulk_updates_deletions_and_a_policy_moving_branch(imported):
    ContactFlag.objects.filter(code="missing_field").update(status=FlagStatus.RESOLVED)
    Policy.objects.filter(policy_no="PT0000000001").update(
        branch_code="B9", branch_name="新分公司", channel="bancassurance"
    )
    assert_tally_counts_the_flags()
    assert flag_tally.counts({"branch": "B9"}, 10)["by_branch"][0][0] == "B9"
    Policy.objects.filter(policy_no="PT0000000003").delete()  # its flags go with it
    ContactFlag.objects.filter(code="mobile_invalid").first().delete()
    assert_tally_counts_the_flags()


def test_the_sweep_merges_the_tally_without_changing_a_count(imported):
    boss = UserFactory(role="supervisor")
    flags.waive_flags(flags=ContactFlag.objects.all()[:4], user=boss, reason="核实无误")
    before = {str(f): flag_tally.counts(f, 10) for f in map(dict, FILTERS)}
    rows_before = FlagTally.objects.count()
    report = sweep()
    assert report.flag_tally_rows < rows_before
    assert FlagTally.objects.count() == report.flag_tally_rows
    assert {str(f): flag_tally.counts(f, 10) for f in map(dict, FILTERS)} == before
    assert_tally_counts_the_flags()
    # Nothing changed since: the next sweep leaves every row as it is (no rewrite every minute).
    rows = set(FlagTally.objects.values_list("pk", "n"))
    sweep()
    assert set(FlagTally.objects.values_list("pk", "n")) == rows


def test_the_flag_list_page_shows_the_tally_counts(imported, supervisor_client):
    ContactFlag.objects.filter(code="mobile_invalid").update(status=FlagStatus.WAIVED)
    page = supervisor_client.get("/flags/", {"status": "waived"})
    waived = {c["status"]: c["n"] for c in page.context["facets"]["by_status"]}["waived"]
    assert waived == ContactFlag.objects.filter(status="waived").count() > 0
