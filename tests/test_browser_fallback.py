"""The fallback paths in Debian's Chromium (zh-hans): a family member answers the applicant's phone and
the agent books the time the applicant can be reached; a supervisor records a returned letter receipt.
Screenshots go to tests/screenshots/fallback_*.png."""

import datetime as dt

import pytest
from django.utils import timezone

from callback.fallback import apply_rules, mark_sent
from callback.models import CallAttempt, CallbackTask, FallbackDelivery, FallbackRule, TaskStatus
from callback.roles import AGENT, SUPERVISOR
from verification.default_scripts import install
from verification.models import Question, Script, ScriptVersion

from .factories import PartyFactory, PolicyFactory, UserFactory
from .factories.scripts import due_task, serving_queue
from .test_browser import CHROMIUM, SHOTS, allow_orm_beside_playwright, log_in, playwright_session, pytestmark  # noqa: F401


@pytest.mark.django_db(transaction=True)
def test_family_member_answers_and_a_letter_receipt_is_recorded(  # noqa: F811
    live_server,
    allow_orm_beside_playwright,  # noqa: F811
    settings,
):
    settings.TELEPHONY_BACKEND = "manual"  # the agent dials the family landline by hand
    install(Script, ScriptVersion, Question, published_at=timezone.now())  # a flushed db has no defaults
    agent = UserFactory(username="li_jing", first_name="李静", role=AGENT)
    supervisor = UserFactory(username="zhang_wei", first_name="张伟", role=SUPERVISOR)
    queue = serving_queue(agent)
    called = due_task(queue, policy_no="PD2026000101", applicant={"phone": "010-62345678", "mobile": ""})
    # A policy without any number: the no-number rule sends it a letter, which comes back signed.
    policy = PolicyFactory(policy_no="PD2026000102", receipt_date=timezone.localdate() - dt.timedelta(days=3))
    PartyFactory(policy=policy, name="王芳", gender="F", mobile="", mobile_e164="")
    lettered = CallbackTask.objects.create(
        policy=policy,
        queue=queue,
        status=TaskStatus.NEEDS_CONTACT,
        window_start=policy.receipt_date + dt.timedelta(days=1),
        window_end=policy.receipt_date + dt.timedelta(days=15),
        deadline=timezone.now() + dt.timedelta(days=12),
        next_attempt_at=timezone.now(),
    )
    FallbackRule.objects.create(name="无号码 → 信函", trigger="no_number", channel="letter")
    apply_rules()
    letter = FallbackDelivery.objects.get(attempt__task=lettered)
    mark_sent(deliveries=[letter], by=supervisor)
    SHOTS.mkdir(exist_ok=True)
    agreed = (timezone.localtime() + dt.timedelta(days=1)).replace(
        hour=10, minute=30, second=0, microsecond=0
    )

    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15000)
        log_in(page, live_server.url, "li_jing")
        with page.expect_navigation():
            page.click("#next-callback")
        assert "PD2026000101" in page.content()
        with page.expect_navigation():
            page.click("text=010-62345678 >> xpath=.. >> button")  # dialled the family landline

        def press(key: str, then: str) -> None:
            page.keyboard.press(key)
            page.wait_for_selector(f"#current-question[data-key={then}]")

        press("n", "applicant_number")  # "are you the applicant?" → no: the spouse answered
        press("y", "applicant_reachable_at")  # it is the applicant's number
        page.fill("#current-question input[name=answer]", "明天上午十点半以后")
        page.press("#current-question input[name=answer]", "Enter")
        page.wait_for_selector("#script-ended")
        assert page.locator("#outcome").input_value() == "callback_requested"
        page.fill("#appointment_at", agreed.strftime("%Y-%m-%dT%H:%M"))
        page.screenshot(path=SHOTS / "fallback_1_family_member.png", full_page=True)
        with page.expect_navigation():
            page.click("#close-button")
        page.screenshot(path=SHOTS / "fallback_2_appointment_booked.png")

        page.click("button:has-text('Log out'), button.link")
        log_in(page, live_server.url, "zhang_wei")
        page.goto(live_server.url + "/queue/")
        assert page.locator(".fallback-kpis").is_visible()
        page.goto(live_server.url + "/fallback/")
        assert "PD2026000102" in page.locator("#outstanding").inner_text()
        page.screenshot(path=SHOTS / "fallback_3_queues.png", full_page=True)
        with page.expect_navigation():
            page.click("#outstanding a:has-text('登记寄回的回执')")
        page.fill("#scan_reference", "SCAN-20261201-0007")
        for radio in page.locator("input[type=radio][value=yes]").all():
            radio.check()
        for key in page.locator("input[type=radio]").evaluate_all(
            "els => [...new Set(els.filter(e => e.value !== 'yes' && e.value !== 'no').map(e => e.name))]"
        ):
            page.locator(
                f"input[name={key}]"
            ).first.check()  # a choice: the first (e.g. paper policy received)
        page.fill("input[name=q_identity_birth_date]", "1960-09-08")
        page.fill("input[name=q_identity_id_last6]", "081436")
        for text in page.locator(".receipt-form input[type=text][name^=q_]:not([name^=q_identity])").all():
            text.fill("无")
        page.select_option("#outcome", "verified")
        page.screenshot(path=SHOTS / "fallback_4_receipt_form.png", full_page=True)
        with page.expect_navigation():
            page.click("button:has-text('登记回执')")
        assert "PD2026000102" in page.locator(".messages").inner_text()
        page.goto(live_server.url + "/policies/PD2026000102/")
        page.screenshot(path=SHOTS / "fallback_5_policy_tried.png", full_page=True)
        browser.close()

    called.refresh_from_db()
    assert (called.status, called.appointment_at, called.dead_numbers) == (TaskStatus.OPEN, agreed, [])
    lettered.refresh_from_db()
    letter.refresh_from_db()
    assert lettered.status == TaskStatus.COMPLETED and letter.scan_reference == "SCAN-20261201-0007"
    assert letter.recorded_by == supervisor and CallAttempt.objects.get(task=lettered).outcome == "verified"
