"""An agent's real day in Debian's Chromium: log in, take the next callback, answer the default script
with the keyboard, close as verified; take another, record no answer; a supervisor sees both outcomes.
Screenshots (zh-hans, 1366×768) go to tests/screenshots/."""

import datetime as dt
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.utils import timezone, translation

from callback.models import CallAttempt, TaskStatus
from callback.roles import AGENT, SUPERVISOR
from verification.default_scripts import install
from verification.models import Question, Script, ScriptVersion
from verification.vocab import Outcome

from .factories import PASSWORD, UserFactory
from .factories.scripts import due_task, serving_queue

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


@contextmanager
def playwright_session():
    """Playwright's sync API. The test body inside it runs in a greenlet with a context of its own, so
    Django gives its ORM calls a connection of their own: closed here, or it is still open when the test
    database is dropped."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            yield p
        finally:
            connections.close_all()


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def current(page) -> tuple[str, str]:
    found = page.locator("#current-question")
    if not found.count():
        return "", ""
    return found.get_attribute("data-key"), found.locator("input[name=kind]").get_attribute("value")


def answer_current(page) -> None:
    """Answer the highlighted question as a cooperative customer would, with the keyboard."""
    key, kind = current(page)
    if kind == "yes_no":
        page.keyboard.press("y")
    elif kind == "choice":
        page.keyboard.press("1")
    elif kind == "identity":  # what the customer states, typed by the agent
        page.fill("#current-question input[name=birth_date]", "1960年9月8日")
        page.fill("#current-question input[name=id_last6]", "081436")
        page.press("#current-question input[name=id_last6]", "Enter")
    elif kind == "text":
        page.fill("#current-question input[name=answer]", "没有疑问")
        page.press("#current-question input[name=answer]", "Enter")
    page.wait_for_function(
        "key => { const q = document.getElementById('current-question');"
        " return (q ? q.dataset.key : '') !== key; }",
        arg=key,
    )


@pytest.mark.django_db(transaction=True)
def test_an_agents_day(live_server, allow_orm_beside_playwright, settings):
    settings.TELEPHONY_BACKEND = "manual"  # agents dialling by hand (click-to-call: test_browser_telephony)

    install(Script, ScriptVersion, Question, published_at=timezone.now())  # a flushed db has no defaults
    agent = UserFactory(username="li_jing", first_name="李静", role=AGENT)
    UserFactory(username="zhang_wei", first_name="张伟", role=SUPERVISOR)
    queue = serving_queue(agent)
    first = due_task(queue, policy_no="PD2026000001")
    second = due_task(
        queue, policy_no="PD2026000002", applicant={"name": "王芳", "gender": "F", "mobile": "13912345678"}
    )
    first.deadline = timezone.now() + dt.timedelta(days=3)
    second.deadline = timezone.now() + dt.timedelta(days=5)
    first.save()
    second.save()
    SHOTS.mkdir(exist_ok=True)

    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.set_default_timeout(15000)
        log_in(page, live_server.url, "li_jing")
        assert page.url.endswith("/workspace/")
        page.screenshot(path=SHOTS / "workspace_1_start.png")

        with page.expect_navigation():
            page.keyboard.press("n")  # "Next callback"
        assert "PD2026000001" in page.content()
        assert "130426196009081436" not in page.content()
        page.screenshot(path=SHOTS / "workspace_2_callback.png")
        with page.expect_navigation():
            page.click("text=13800138000 >> xpath=.. >> button")  # dialled manually

        for _ in range(3):
            answer_current(page)
        page.reload()  # a crashed or reloaded browser finds the answers where they were
        assert current(page)[0] == "address_own"
        assert page.locator(".q.answered").count() == 3
        page.screenshot(path=SHOTS / "workspace_3_answering.png")
        for _ in range(30):
            if not current(page)[0]:
                break
            answer_current(page)
        assert page.locator("#script-done").is_visible()
        assert page.locator("#outcome").input_value() == "verified"
        page.screenshot(path=SHOTS / "workspace_4_answered.png", full_page=True)
        with page.expect_navigation():
            page.click("#close-button")
        assert "PD2026000001" in page.locator(".messages").inner_text()

        with page.expect_navigation():
            page.click("#next-callback")
        assert "PD2026000002" in page.content()
        with page.expect_navigation():
            page.click("text=13912345678 >> xpath=.. >> button")
        page.select_option("#outcome", "no_answer")
        page.fill("#notes", "响铃无人接听")
        # A function, not an expression: Playwright evaluates an expression with eval(), which the
        # Content-Security-Policy (no 'unsafe-eval') refuses.
        page.wait_for_function(
            "() => document.getElementById('notes-status').textContent.trim() !== ''"
        )  # autosaved
        page.screenshot(path=SHOTS / "workspace_5_no_answer.png")
        with page.expect_navigation():
            page.click("#close-button")
        page.screenshot(path=SHOTS / "workspace_6_closed.png")

        page.click("button:has-text('Log out'), button.link")
        log_in(page, live_server.url, "zhang_wei")
        page.goto(live_server.url + "/calls/")
        table = page.locator("table.attempts").inner_text()
        with translation.override("zh-hans"):
            verified, no_answer = str(Outcome.VERIFIED.label), str(Outcome.NO_ANSWER.label)
        assert "PD2026000001" in table and "PD2026000002" in table
        assert verified in table and no_answer in table
        page.screenshot(path=SHOTS / "supervisor_calls.png")
        browser.close()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == TaskStatus.COMPLETED
    assert second.status == TaskStatus.OPEN and second.attempts == 1
    verified_attempt = CallAttempt.objects.get(task=first)
    assert verified_attempt.number_dialled == "13800138000"
    assert verified_attempt.answers[1]["answer"]["result"] == "match"
    assert CallAttempt.objects.get(task=second).notes == "响铃无人接听"
