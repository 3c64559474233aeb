"""A supervisor's management duties in Debian's Chromium (zh-hans): the fee-hold list, a sampling check
drawn and worked through, and the other duty pages. Screenshots (1366×768) go to tests/screenshots/."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from callback.flags import request_correction
from callback.models import ContactFlag, Sample, SampleResult
from callback.roles import SUPERVISOR
from verification.vocab import Channel, FlagCode

from .factories import OutletFactory, PartyFactory, PolicyFactory, UserFactory
from .factories.flags import ContactFlagFactory
from .test_browser import CHROMIUM, SHOTS, allow_orm_beside_playwright, log_in, playwright_session  # noqa: F401
from .test_browser import pytestmark as browser_marks

pytestmark = browser_marks


def _book(supervisor):
    OutletFactory(
        outlet_code="BK01", name="工商银行西湖支行", institution="中国工商银行", branch_code="B3301"
    )
    today = timezone.localdate()
    for n in range(12):
        policy = PolicyFactory(
            policy_no=f"PD2026{n:06d}",
            branch_code="B3301",
            branch_name="浙江分公司",
            channel=Channel.BANCASSURANCE if n < 4 else Channel.AGENCY,
            outlet_code="BK01" if n < 4 else "",
            premium=Decimal(3000 + 1000 * n),
            issue_date=today - dt.timedelta(days=n),
        )
        PartyFactory(policy=policy, name=["陈磊", "王芳", "李娜", "张伟"][n % 4])
        if n < 4:
            ContactFlagFactory(policy=policy, code=FlagCode.PHONE_IS_OUTLET, field="mobile", detail="BK01")
    request_correction(
        flags=ContactFlag.objects.filter(policy__policy_no__in=["PD2026000000", "PD2026000001"]),
        user=supervisor,
    )
    past = timezone.localdate() - dt.timedelta(days=3)
    ContactFlag.objects.filter(policy__policy_no="PD2026000000").update(correction_due=past)


@pytest.mark.django_db(transaction=True)
def test_fee_holds_and_a_sampling_check(live_server, allow_orm_beside_playwright):  # noqa: F811
    supervisor = UserFactory(username="zhang_wei", first_name="张伟", role=SUPERVISOR)
    _book(supervisor)
    SHOTS.mkdir(exist_ok=True)
    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.set_default_timeout(15000)
        log_in(page, live_server.url, "zhang_wei")
        page.click("text=管理责任")
        page.screenshot(path=SHOTS / "duties_0_home.png", full_page=True)

        # Fee holds: the outlet with its four policies, one deadline passed.
        page.click("text=手续费暂停")
        assert "工商银行西湖支行" in page.content()
        page.click("summary")
        assert page.locator("td:text-is('扣回已付手续费')").count() == 1
        assert page.locator("td:text-is('暂停支付手续费')").count() == 3
        page.screenshot(path=SHOTS / "duties_1_fee_holds.png", full_page=True)

        # A sampling check: draw 3 of this month's new policies with a seed, check them.
        page.goto(live_server.url + "/duties/samples/")
        page.select_option("select[name=kind]", "new_business")
        page.fill("input[name=branch]", "B3301")
        page.fill("input[name=start]", (timezone.localdate() - dt.timedelta(days=30)).isoformat())
        page.fill("input[name=end]", timezone.localdate().isoformat())
        page.fill("input[name=percent]", "")
        page.fill("input[name=count]", "3")
        page.fill("input[name=seed]", "20261201")
        with page.expect_navigation():
            page.click("form.draw-form button[type=submit]")
        sample = Sample.objects.get()
        assert sample.items.count() == 3 and sample.seed == 20261201
        page.screenshot(path=SHOTS / "duties_2_sample.png", full_page=True)
        page.click("a.button:has-text('核对')")
        page.select_option("select[name='applicant.mobile']", FlagCode.PHONE_IS_AGENT.value)
        page.fill("input[name=note]", "投保单手机号与系统不一致，为销售人员号码")
        page.screenshot(path=SHOTS / "duties_3_sample_check.png", full_page=True)
        with page.expect_navigation():
            page.click("form.sample-check button[type=submit]")
        with page.expect_navigation():
            page.click("form.sample-check button[type=submit]")  # the next policy matches
        results = sorted(sample.items.values_list("result", flat=True))
        assert results == [SampleResult.DISCREPANCY, SampleResult.MATCH, SampleResult.PENDING]
        page.goto(live_server.url + f"/duties/samples/{sample.pk}/")
        assert "phone_is_agent" in page.content()
        page.screenshot(path=SHOTS / "duties_4_sample_results.png", full_page=True)

        for name, path in (
            ("salespeople", "/duties/salespeople/"),
            ("back_book", "/duties/back-book/"),
            ("inspection", "/duties/inspection/?branch=B3301"),
            ("regulator", "/duties/regulator/"),
        ):
            page.goto(live_server.url + path)
            assert "服务器错误" not in page.content()
            page.screenshot(path=SHOTS / f"duties_5_{name}.png", full_page=True)
        browser.close()
