"""The applicant's e-callback in Debian's Chromium on a 360×740 phone screen, in zh-hans: the link from
the SMS, the identity step, the policy and the script, the disclosures scrolled to the end, the
signature code, the confirmation. Screenshots go to tests/screenshots/ecallback_*.png."""

import datetime as dt
import importlib
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from callback.ecallback import offer_ecallback
from callback.models import ECallbackSettings, SmsMessage, SmsTemplate, TaskStatus
from callback.roles import AGENT
from verification.default_scripts import install
from verification.models import Question, Script, ScriptVersion

from .factories import UserFactory
from .factories.scripts import due_task, serving_queue
from .test_browser import playwright_session

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="Debian's Chromium is missing at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def allow_orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def last_sms(task) -> str:
    return SmsMessage.objects.filter(task=task).order_by("-pk").first().body


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_an_applicant_completes_the_ecallback_on_a_phone(live_server, settings, allow_orm_beside_playwright):
    # A flushed database has none of the migrations' rows: scripts, SMS templates.
    install(Script, ScriptVersion, Question, published_at=timezone.now())
    migration = importlib.import_module("callback.migrations.0013_ecallback")
    for code, name, body in migration.SMS_TEMPLATES:
        SmsTemplate.objects.get_or_create(code=code, defaults={"name": name, "body": body})
    ECallbackSettings.objects.create(enabled=True)
    settings.ECALLBACK_DEV_BASE_URL = live_server.url
    agent = UserFactory(username="li_jing", role=AGENT)
    task = due_task(
        serving_queue(agent),
        policy_no="PD2026000088",
        applicant={
            "name": "周晓燕",
            "gender": "F",
            "birth_date": dt.date(1988, 3, 14),
            "id_no": "11010519880314002X",
            "mobile": "13912345678",
            "mobile_e164": "+8613912345678",
        },
    )
    offer_ecallback(task=task)
    link = re.search(r"https?://\S+/e/[\w-]+/", last_sms(task)).group(0)
    SHOTS.mkdir(exist_ok=True)

    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(link)
        assert "PD2026000088" not in page.content() and "周晓燕" not in page.content()
        assert "证明是您本人" in page.content() or "验证码" in page.content()
        assert fits_the_screen(page)
        page.screenshot(path=SHOTS / "ecallback_1_identity.png", full_page=True)

        with page.expect_navigation():
            page.click("#send-code")
        code = re.search(r"\d{6}", last_sms(task)).group(0)
        page.fill("#code", code)
        page.fill("#value", "14002x")
        with page.expect_navigation():
            page.click("#identity-form button[type=submit]")
        assert "PD2026000088" in page.content()
        read = page.locator("#disclosures-read")
        assert read.is_disabled()  # the disclosures must be scrolled through first
        page.screenshot(path=SHOTS / "ecallback_2_policy.png")
        page.eval_on_selector("#disclosure", "box => box.scrollTo(0, box.scrollHeight)")
        page.wait_for_function("() => !document.getElementById('disclosures-read').disabled")
        read.check()
        for question in page.locator(".ecb-question").all():
            radios = question.locator("input[type=radio]")
            if question.locator("input[value=yes]").count():
                question.locator("input[value=yes]").check()
            elif radios.count():
                radios.first.check()
            elif question.locator("textarea").count():
                question.locator("textarea").fill("没有疑问")
        assert fits_the_screen(page)
        page.screenshot(path=SHOTS / "ecallback_3_answers.png", full_page=True)
        with page.expect_navigation():
            page.click("#answers-form button[type=submit]")

        assert page.url.endswith("/sign/")
        page.screenshot(path=SHOTS / "ecallback_4_sign.png")
        page.fill("#code", re.search(r"\d{6}", last_sms(task)).group(0))
        with page.expect_navigation():
            page.click("#sign-form button[type=submit]")
        assert page.url.endswith("/done/")
        assert page.locator("#receipt").is_visible()
        page.screenshot(path=SHOTS / "ecallback_5_done.png")
        with page.expect_download() as download:
            page.click("#receipt")
        assert download.value.suggested_filename == "huifang-PD2026000088.pdf"
        browser.close()

    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
