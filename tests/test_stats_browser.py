"""A supervisor's statistics walk-through in Debian's Chromium, in zh-hans: open 统计, pick March by
receipt date, read the rate, switch to the branch breakdown and its chart, drill into the worst
branch's failures. Screenshots go to tests/screenshots/."""

import pytest

from callback.roles import SUPERVISOR

from . import stats_data
from .factories import UserFactory
from .test_browser import CHROMIUM, SHOTS, allow_orm_beside_playwright, log_in, playwright_session, pytestmark  # noqa: F401


@pytest.mark.django_db(transaction=True)
def test_a_supervisor_reads_the_statistics(live_server, allow_orm_beside_playwright):  # noqa: F811
    stats_data.build()
    UserFactory(username="zhang_wei", first_name="张伟", role=SUPERVISOR)
    SHOTS.mkdir(exist_ok=True)
    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(20000)
        log_in(page, live_server.url, "zhang_wei")
        with page.expect_navigation():
            page.click("nav.mainnav >> text=统计")
        page.select_option("#id_preset", "custom")
        page.fill("#id_first", "2026-03-01")
        page.fill("#id_last", "2026-03-31")
        page.select_option("#id_basis", "receipt")
        with page.expect_navigation():
            page.click("form.stats-filters button[type=submit]")
        assert "按回执签收日" in page.locator("#period-said").inner_text()
        assert page.locator("#in-time-rate").inner_text() == "40.0%"
        page.screenshot(path=SHOTS / "stats_1_compliance.png", full_page=True)

        with page.expect_navigation():
            page.click("nav.tabs >> text=分支机构")
        chart = page.locator("svg.chart")
        assert chart.count() == 1
        assert "上海分公司" in chart.inner_html()
        chart.screenshot(path=SHOTS / "stats_2_branch_chart.png")
        page.screenshot(path=SHOTS / "stats_3_branches.png", full_page=True)

        # The worst branch's "not verified in time" opens the task list with that filter.
        with page.expect_navigation():
            page.locator("table.stats-table tbody tr").first.locator("td").nth(7).locator("a").click()
        assert "/tasks/" in page.url and "result=not_in_time" in page.url
        assert "统计明细" in page.locator("#drill").inner_text()
        text = page.locator("table.task-list").inner_text()
        assert "PSTATT4" in text and "PSTATT5" in text and "PSTATT1" not in text
        page.screenshot(path=SHOTS / "stats_4_drilldown.png", full_page=True)
        browser.close()
