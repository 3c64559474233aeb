"""Click-to-call in Debian's Chromium on the console backend: the agent presses Call, sees the call
answered, completes the script and closes; a supervisor plays the recording from recent calls.
Screenshots (zh-hans) go to tests/screenshots/."""

import pytest
from django.utils import timezone

from callback.models import AuditEvent, CallAttempt, Recording, TaskStatus
from callback.roles import AGENT, SUPERVISOR
from verification.default_scripts import install
from verification.models import Question, Script, ScriptVersion

from .factories import UserFactory
from .factories.scripts import due_task, serving_queue
from .test_browser import (
    CHROMIUM,
    SHOTS,
    allow_orm_beside_playwright,
    answer_current,
    current,
    log_in,
    playwright_session,
    pytestmark,
)

__all__ = ["allow_orm_beside_playwright", "pytestmark"]


@pytest.mark.django_db(transaction=True)
def test_click_to_call_answered_scripted_and_played(live_server, allow_orm_beside_playwright, settings):
    settings.TELEPHONY_BACKEND = "console"
    settings.TELEPHONY_CONSOLE_ODDS = "answered:1"
    settings.TELEPHONY_CONSOLE_STEP_SECONDS = 0.3
    install(Script, ScriptVersion, Question, published_at=timezone.now())
    agent = UserFactory(username="li_jing", first_name="李静", role=AGENT)
    UserFactory(username="zhang_wei", first_name="张伟", role=SUPERVISOR)
    queue = serving_queue(agent)
    agent.profile.phone = "13900139000"
    agent.profile.save()
    task = due_task(queue, policy_no="PD2026000009")
    SHOTS.mkdir(exist_ok=True)

    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.set_default_timeout(20000)
        log_in(page, live_server.url, "li_jing")
        with page.expect_navigation():
            page.click("#next-callback")
        assert "138****8000" in page.content() and "13800138000" not in page.content()
        page.click("#call-mobile")
        page.wait_for_selector("#call-state.state-in-progress")  # htmx polling: ringing → answered
        page.screenshot(path=SHOTS / "telephony_1_in_progress.png")
        for _ in range(30):
            if not current(page)[0]:
                break
            answer_current(page)
        assert page.locator("#outcome").input_value() == "verified"
        with page.expect_navigation():
            page.click("#close-button")  # closing hangs up: the call ends and is recorded
        page.screenshot(path=SHOTS / "telephony_2_closed.png")

        page.click("button:has-text('Log out'), button.link")
        log_in(page, live_server.url, "zhang_wei")
        page.goto(live_server.url + "/calls/")
        audio = page.locator("table.attempts audio")
        assert audio.count() == 1
        page.evaluate("document.querySelector('table.attempts audio').play()")
        page.wait_for_function("() => document.querySelector('table.attempts audio').readyState >= 2")
        page.screenshot(path=SHOTS / "telephony_3_supervisor_plays.png")
        browser.close()

    task.refresh_from_db()
    attempt = CallAttempt.objects.get(task=task)
    assert task.status == TaskStatus.COMPLETED
    assert attempt.telephony_backend == "console" and attempt.call_status == "completed"
    recording = Recording.objects.get(attempt=attempt)
    assert AuditEvent.objects.filter(action="play_recording", object_id=str(recording.pk)).exists()
