"""Fee holds (第八条): per outlet the policies with still-defective customer data, premium, deadline."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from callback.accountability import fee_holds
from callback.exports import EXPORT_COLUMNS, flag_export_rows
from callback.flags import flag_list, request_correction
from callback.models import AuditEvent, FlagStatus
from verification.vocab import Channel, FlagCode, PartyRole

from .factories import OutletFactory, PartyFactory, PolicyFactory
from .factories.flags import ContactFlagFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)


def _sold_through(outlet: str, premium: str, *codes: str, policy_no: str = "", party=PartyRole.APPLICANT):
    kwargs = {"policy_no": policy_no} if policy_no else {}
    policy = PolicyFactory(
        channel=Channel.BANCASSURANCE,
        outlet_code=outlet,
        premium=Decimal(premium),
        branch_code="B3301",
        **kwargs,
    )
    PartyFactory(policy=policy)
    flags = [
        ContactFlagFactory(policy=policy, code=code, field=f"f{n}", party=party)
        for n, code in enumerate(codes)
    ]
    return policy, flags


@pytest.fixture
def book(db):
    OutletFactory(
        outlet_code="BK01", name="工商银行西湖支行", institution="中国工商银行", branch_code="B3301"
    )
    OutletFactory(
        outlet_code="BK02", name="建设银行文三路网点", institution="中国建设银行", branch_code="B3301"
    )
    a, a_flags = _sold_through(
        "BK01", "10000", FlagCode.MOBILE_INVALID, FlagCode.PHONE_IS_OUTLET, policy_no="PA1"
    )
    b, b_flags = _sold_through("BK01", "2500.50", FlagCode.ADDRESS_INCOMPLETE, policy_no="PA2")
    c, c_flags = _sold_through("BK02", "800", FlagCode.ID_INVALID, policy_no="PB1")
    # Not held: corrected, waived, the salesperson's record, a callback that found nobody, no outlet.
    _sold_through("BK02", "999", policy_no="PB2")[1]
    done = _sold_through("BK02", "777", FlagCode.MOBILE_INVALID, policy_no="PB3")[1][0]
    done.status = FlagStatus.RESOLVED
    done.save()
    _sold_through("BK02", "666", FlagCode.AGENT_UNKNOWN, policy_no="PB4", party=PartyRole.SALES)
    _sold_through("BK02", "555", FlagCode.CALLBACK_UNREACHABLE, policy_no="PB5")
    own = PolicyFactory(policy_no="PC1", outlet_code="")
    ContactFlagFactory(policy=own, code=FlagCode.MOBILE_INVALID)
    return {"a": a_flags, "b": b_flags, "c": c_flags}


def _request(flags, user, on: dt.date):
    from unittest import mock

    at = timezone.make_aware(dt.datetime.combine(on, dt.time(10)), timezone.get_default_timezone())
    with mock.patch("django.utils.timezone.now", return_value=at):
        request_correction(flags=flags, user=user)


def test_correction_request_carries_its_deadline(book, supervisor_user, settings):
    settings.CORRECTION_DAYS = 30
    _request(book["a"], supervisor_user, dt.date(2026, 2, 1))
    book["a"][0].refresh_from_db()
    assert book["a"][0].correction_due == dt.date(2026, 3, 3)


def test_holds_per_outlet_with_premium_and_deadlines_passing(book, supervisor_user, settings):
    settings.CORRECTION_DAYS = 30
    _request(book["a"], supervisor_user, dt.date(2026, 2, 1))  # due 3 March: passed on 10 March
    _request(book["c"], supervisor_user, dt.date(2026, 3, 1))  # due 31 March: not yet
    holds = {h.outlet_code: h for h in fee_holds.outlet_holds(today=TODAY)}
    assert set(holds) == {"BK01", "BK02"}
    bk01, bk02 = holds["BK01"], holds["BK02"]
    assert [p.policy_no for p in bk01.policies] == ["PA1", "PA2"]
    assert bk01.premium == Decimal("12500.50")
    assert (bk01.name, bk01.institution) == ("工商银行西湖支行", "中国工商银行")
    pa1, pa2 = bk01.policies
    assert pa1.codes == [FlagCode.MOBILE_INVALID, FlagCode.PHONE_IS_OUTLET]
    assert (pa1.correction_due, pa1.passed, pa1.action) == (dt.date(2026, 3, 3), True, "deduct")
    assert (pa2.correction_due, pa2.passed, pa2.action, pa2.unrequested) == (None, False, "withhold", 1)
    assert [p.policy_no for p in bk02.policies] == ["PB1"]
    assert (bk02.premium, bk02.passed, bk02.earliest_due) == (Decimal("800"), 0, dt.date(2026, 3, 31))
    # The same deadline passes later for BK02.
    later = {h.outlet_code: h for h in fee_holds.outlet_holds(today=dt.date(2026, 4, 1))}
    assert later["BK02"].passed == 1
    # Worst outlet first: BK01 has a deadline passed.
    assert [h.outlet_code for h in fee_holds.outlet_holds(today=TODAY)] == ["BK01", "BK02"]


def test_corrected_data_lifts_the_hold(book, supervisor_user):
    for flag in book["c"]:
        flag.status = FlagStatus.RESOLVED
        flag.save()
    assert [h.outlet_code for h in fee_holds.outlet_holds(today=TODAY)] == ["BK01"]


def test_page_and_finance_export_are_audited(book, supervisor_client):
    html = supervisor_client.get(reverse("fee_holds")).content.decode()
    assert "BK01" in html and "12500.50" in html and "工商银行西湖支行" in html
    response = supervisor_client.get(reverse("fee_holds"), {"outlet": "BK01", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(r["policy_no"], r["premium"], r["commission"]) for r in rows] == [
        ("PA1", "10000.00", "withhold"),
        ("PA2", "2500.50", "withhold"),
    ]
    event = AuditEvent.objects.get(action="export_report")
    assert event.detail["report"] == "fee-holds" and event.detail["filter"] == {"outlet": "BK01"}
    xlsx = supervisor_client.get(reverse("fee_holds"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 4  # header and three held policies
    assert AuditEvent.objects.filter(action="export_report").count() == 2


def test_agents_are_refused(agent_client):
    assert agent_client.get(reverse("fee_holds")).status_code == 403
    assert agent_client.get(reverse("fee_holds"), {"format": "csv"}).status_code == 403
    assert agent_client.get(reverse("duties_home")).status_code == 403


def test_flag_list_filters_by_outlet_and_export_has_outlet_and_deadline(
    book, supervisor_user, supervisor_client
):
    assert {f.policy.policy_no for f in flag_list(filters={"outlet": "BK01"})} == {"PA1", "PA2"}
    html = supervisor_client.get(reverse("flag_list"), {"outlet": "BK02"}).content.decode()
    assert "PB1" in html and "PA1" not in html
    request_correction(flags=book["b"], user=supervisor_user)
    rows = [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in flag_export_rows(filters={"outlet": "BK01"})]
    pa2 = next(r for r in rows if r["policy_no"] == "PA2")
    assert pa2["outlet_code"] == "BK01"
    assert (
        pa2["correction_due"]
        == book["b"][0].__class__.objects.get(pk=book["b"][0].pk).correction_due.isoformat()
    )
    assert next(r for r in rows if r["policy_no"] == "PA1")["correction_due"] == ""
