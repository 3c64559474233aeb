"""The agent's workspace: next callback, masked summary, autosaved answers, closing with each outcome,
flags from failing answers, access, junk input, and the query budget of a page load."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callback import workspace
from callback.models import CallAttempt, CallbackTask, ContactFlag, TaskStatus
from callback.script_for_policy import tasks_without_script, version_for_policy
from callback.workspace import questions_of
from verification import scripts
from verification.models import ScriptVersion
from verification.vocab import Outcome

from .factories.scripts import due_task, serving_queue

HX = {"HTTP_HX_REQUEST": "true"}
GOOD_IDENTITY = {"kind": "identity", "birth_date": "1960-09-08", "id_last6": "081436"}


@pytest.fixture
def queue(agent_user):
    return serving_queue(agent_user)


@pytest.fixture
def task(queue):
    return due_task(queue)


def take(client) -> CallbackTask:
    response = client.post(reverse("workspace_next"))
    assert response.status_code == 302
    return CallbackTask.objects.get(holder__isnull=False)


def open_attempt(task) -> CallAttempt:
    return CallAttempt.objects.get(task=task, outcome="")


def answer(client, task, key, **data):
    data = data or {"answer": "yes"}
    response = client.post(reverse("workspace_answer", args=[task.pk, key]), data, **HX)
    assert response.status_code == 200
    return response


def answer_script(client, task, overrides=None, stop_at=None):
    """Answer the open attempt's script, passing everything unless `overrides` says (the page's POSTs
    are covered by the tests above; this calls the same function without the HTTP round trip)."""
    overrides = overrides or {}
    for _ in range(40):
        attempt = open_attempt(task)
        state = scripts.walk(questions_of(attempt.script_version), attempt.answers)
        if state.complete or state.ended_with or state.current_key == stop_at:
            return state
        question = next(q for q in attempt.script_version.questions.all() if q.key == state.current_key)
        default = {
            "yes_no": {"answer": "yes"},
            "choice": {"answer": "1"},
            "text": {"answer": "无"},
            "date": {"answer": "2026-11-20"},
            "identity": GOOD_IDENTITY,
        }[question.kind]
        data = overrides.get(question.key, default)
        value = (
            {k: v for k, v in data.items() if k != "kind"} if question.kind == "identity" else data["answer"]
        )
        workspace.save_answer(task_id=task.pk, agent=attempt.agent, key=question.key, answer=value)
    raise AssertionError("the script never ended")


def close(client, task, outcome, **extra):
    return client.post(reverse("workspace_close", args=[task.pk]), {"outcome": outcome, **extra})


class TestTakingACallback:
    def test_next_callback_shows_a_masked_summary_and_the_rendered_script(self, agent_client, task):
        claimed = take(agent_client)
        assert claimed == task
        page = agent_client.get(reverse("workspace")).content.decode()
        assert task.policy.policy_no in page
        assert "138****8000" in page
        assert "130426196009081436" not in page and "081436" not in page and "1960-09-08" not in page
        assert "请问您是陈先生（陈磊）本人吗？" in page  # placeholders filled from the policy
        assert "测试" in page  # the agent's own name in the greeting
        assert "<kbd>Y</kbd>" in page
        assert "犹豫期回访（60岁及以上）" in page  # the applicant is 66: the senior script applies
        assert "days left" in page or "天" in page
        attempt = open_attempt(task)
        assert attempt.script_version.script.code == "free-look-senior"

    def test_nothing_due_says_so(self, agent_client, queue):
        response = agent_client.post(reverse("workspace_next"), follow=True)
        assert "No callback is due" in response.content.decode()

    def test_closed_queues_say_so_rather_than_nothing_due(self, agent_client, queue, task):
        queue.weekday_start = queue.weekend_start = dt.time(0, 0)
        queue.weekday_end = queue.weekend_end = dt.time(0, 0)  # start == end: closed all day
        queue.save()
        response = agent_client.post(reverse("workspace_next"), follow=True)
        assert "outside calling hours" in response.content.decode()

    def test_agent_in_no_queue_is_told_whom_to_ask(self, agent_client):
        response = agent_client.post(reverse("workspace_next"), follow=True)
        assert "not in any queue yet" in response.content.decode()

    def test_policy_without_a_script_is_put_back_and_reported_to_admins(self, agent_client, task, admin_user):
        admin = Client()
        admin.force_login(admin_user)
        assert task.policy.policy_no not in admin.get(reverse("script_list")).content.decode()
        ScriptVersion.objects.filter(script__code="free-look-senior").update(status="retired")
        ScriptVersion.objects.filter(script__code="free-look").update(status="retired")
        response = agent_client.post(reverse("workspace_next"), follow=True)
        assert "has no applicable published script" in response.content.decode()
        task.refresh_from_db()
        assert task.holder is None and not CallAttempt.objects.exists()
        report = admin.get(reverse("script_list")).content.decode()
        assert task.policy.policy_no in report

    def test_the_report_agrees_with_the_selection_for_every_kind_of_policy(self, queue):
        ScriptVersion.objects.filter(script__code="free-look").update(status="retired")
        young = {"birth_date": dt.date(1996, 5, 1)}
        tasks = {
            "uncovered": due_task(queue, applicant=young),
            "banca": due_task(queue, applicant=young, channel="bancassurance"),
            "senior": due_task(queue),
            "universal": due_task(queue, applicant=young, product_type="universal"),
            "no_birth_date": due_task(queue, applicant={"birth_date": None}),
        }
        missing = set(tasks_without_script().values_list("pk", flat=True))
        assert missing == {tasks["uncovered"].pk, tasks["no_birth_date"].pk}
        for task in tasks.values():
            assert (version_for_policy(task.policy) is None) == (task.pk in missing)


class TestAnswers:
    def test_answers_are_saved_as_given_with_the_text_read_and_shown_after_a_reload(self, agent_client, task):
        take(agent_client)
        answer(agent_client, task, "is_applicant")
        answer(agent_client, task, "identity", **GOOD_IDENTITY)
        attempt = open_attempt(task)
        assert [a["key"] for a in attempt.answers] == ["is_applicant", "identity"]
        assert attempt.answers[0]["text"].startswith("您好，我是保险公司客服中心的回访专员测试")
        assert attempt.answers[1]["answer"] == {
            "result": "match",
            "parts": {"birth_date": True, "id_last6": True},
        }
        assert "081436" not in str(attempt.answers)
        page = agent_client.get(reverse("workspace")).content.decode()
        assert "Identity matches the policy" in page
        assert 'id="current-question" data-key="phone_own"' in page

    def test_identity_mismatch_ends_the_script_and_refuses_verified(self, agent_client, task):
        take(agent_client)
        answer(agent_client, task, "is_applicant")
        response = answer(
            agent_client, task, "identity", kind="identity", birth_date="1961-09-08", id_last6="081436"
        )
        assert "Identity does not match the policy" in response.content.decode()
        response = close(agent_client, task, "verified", notes="")
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.holder_id is not None and task.status == TaskStatus.OPEN  # nothing recorded
        page = agent_client.get(reverse("workspace")).content.decode()
        # The refusal names the outcome to use, not the question's internal key.
        assert f"close the call as “{Outcome.FAILED_IDENTITY.label}”" in page
        assert "“identity”" not in page
        close(agent_client, task, "failed_identity")
        attempt = CallAttempt.objects.get(task=task)
        assert attempt.outcome == "failed_identity"

    def test_notes_and_manual_dialling_are_saved_on_the_open_attempt(self, agent_client, task):
        take(agent_client)
        response = agent_client.post(reverse("workspace_notes", args=[task.pk]), {"notes": "客户在开会"})
        assert response.status_code == 200
        agent_client.post(reverse("workspace_dialled", args=[task.pk]), {"which": "mobile"})
        attempt = open_attempt(task)
        assert (attempt.notes, attempt.number_dialled) == ("客户在开会", "13800138000")
        close(agent_client, task, "no_answer")
        attempt.refresh_from_db()
        assert (attempt.outcome, attempt.number_dialled, attempt.notes) == (
            "no_answer",
            "13800138000",
            "客户在开会",
        )


class TestClosing:
    def test_verified_when_every_required_answer_passed(self, agent_client, task):
        take(agent_client)
        state = answer_script(agent_client, task)
        assert state.all_passed
        close(agent_client, task, "verified")
        task.refresh_from_db()
        attempt = CallAttempt.objects.get(task=task)
        assert (task.status, task.outcome, task.attempts, task.holder) == (
            TaskStatus.COMPLETED,
            "verified",
            1,
            None,
        )
        assert attempt.script_version.script.code == "free-look-senior"
        assert all(a["text"] and "{" not in a["text"] for a in attempt.answers)
        assert "家人" in attempt.answers[-2]["text"]

    def test_verified_is_refused_until_the_script_is_done(self, agent_client, task):
        take(agent_client)
        answer_script(agent_client, task, stop_at="policy_received")
        response = close(agent_client, task, "verified")
        assert "Answer every question" in agent_client.get(response.url).content.decode()
        assert CallAttempt.objects.get(task=task).outcome == ""

    def test_failed_answer_that_raises_a_flag_makes_it_verified_with_issues(self, agent_client, task):
        take(agent_client)
        answer_script(agent_client, task, overrides={"phone_own": {"answer": "no"}})
        close(agent_client, task, "verified")
        assert CallAttempt.objects.get(task=task).outcome == ""  # refused: an answer failed
        close(agent_client, task, "verified_with_issues", notes="号码是女儿的")
        flag = ContactFlag.objects.get(policy=task.policy)
        assert (flag.code, flag.field, flag.party, flag.status) == (
            "callback_wrong_number",
            "mobile",
            "applicant",
            "open",
        )
        assert "这个号码是您本人在使用吗" in flag.detail
        attempt = CallAttempt.objects.get(task=task)
        assert (attempt.outcome, attempt.notes) == ("verified_with_issues", "号码是女儿的")
        task.refresh_from_db()
        assert task.attempts == 1 and task.holder is None

    def test_a_live_flag_is_not_raised_twice(self, agent_client, task):
        ContactFlag.objects.create(
            policy=task.policy, party="applicant", field="address", code="address_is_outlet"
        )
        take(agent_client)
        answer_script(agent_client, task, overrides={"address_own": {"answer": "no"}})
        close(agent_client, task, "verified_with_issues")
        assert ContactFlag.objects.filter(policy=task.policy, code="address_is_outlet").count() == 1

    def test_follow_up_that_clears_the_failure_allows_verified(self, agent_client, task):
        take(agent_client)
        state = answer_script(agent_client, task, overrides={"premium_understood": {"answer": "no"}})
        assert state.all_passed
        keys = [a["key"] for a in open_attempt(task).answers]
        assert keys.index("premium_understood_explained") == keys.index("premium_understood") + 1
        close(agent_client, task, "verified")
        assert CallAttempt.objects.get(task=task).outcome == "verified"

    @pytest.mark.parametrize(
        "outcome",
        ["refused", "wrong_number", "agent_answered", "no_answer", "busy", "hung_up", "failed_identity"],
    )
    def test_outcomes_without_a_finished_script_are_recorded_and_free_the_task(
        self, agent_client, task, outcome
    ):
        take(agent_client)
        answer(agent_client, task, "is_applicant")
        close(agent_client, task, outcome, notes="备注")
        attempt = CallAttempt.objects.get(task=task)
        task.refresh_from_db()
        assert (attempt.outcome, attempt.notes, attempt.ended_at is not None) == (outcome, "备注", True)
        assert attempt.script_version is not None and attempt.answers[0]["key"] == "is_applicant"
        assert (task.attempts, task.holder, task.lease_expires_at) == (1, None, None)
        assert task.status != TaskStatus.COMPLETED
        if outcome in ("no_answer", "busy", "hung_up"):  # retried later by the queue's rules
            assert task.status == TaskStatus.OPEN and task.next_attempt_at > timezone.now()

    def test_callback_requested_needs_the_agreed_time(self, agent_client, task):
        take(agent_client)
        close(agent_client, task, "callback_requested")
        assert CallAttempt.objects.get(task=task).outcome == ""
        past = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        close(agent_client, task, "callback_requested", appointment_at=past)
        assert CallAttempt.objects.get(task=task).outcome == ""
        agreed = (timezone.localtime() + dt.timedelta(days=1)).replace(
            hour=10, minute=30, second=0, microsecond=0
        )
        close(agent_client, task, "callback_requested", appointment_at=agreed.strftime("%Y-%m-%dT%H:%M"))
        attempt = CallAttempt.objects.get(task=task)
        assert attempt.outcome == "callback_requested" and attempt.appointment_at == agreed

    def test_release_gives_the_task_back_and_discards_the_unfinished_attempt(self, agent_client, task):
        take(agent_client)
        answer(agent_client, task, "is_applicant")
        agent_client.post(reverse("workspace_release", args=[task.pk]))
        task.refresh_from_db()
        assert task.holder is None and not CallAttempt.objects.exists()
        response = agent_client.post(reverse("workspace_heartbeat", args=[task.pk]))
        assert "Lease lost" in response.content.decode()

    def test_heartbeat_renews_the_lease(self, agent_client, task):
        take(agent_client)
        CallbackTask.objects.filter(pk=task.pk).update(
            lease_expires_at=timezone.now() + dt.timedelta(minutes=1)
        )
        response = agent_client.post(reverse("workspace_heartbeat", args=[task.pk]))
        assert "Held by you" in response.content.decode()
        task.refresh_from_db()
        assert task.lease_expires_at > timezone.now() + dt.timedelta(minutes=5)


class TestAccessAndJunk:
    @pytest.mark.parametrize(
        "name,args",
        [
            ("workspace", []),
            ("workspace_next", []),
            ("workspace_close", [1]),
            ("workspace_answer", [1, "identity"]),
        ],
    )
    def test_only_agents_work_callbacks(self, supervisor_client, name, args):
        method = supervisor_client.get if name == "workspace" else supervisor_client.post
        assert method(reverse(name, args=args)).status_code == 403

    def test_anonymous_users_are_sent_to_log_in(self, client):
        response = client.get(reverse("workspace"))
        assert response.status_code == 302 and "/accounts/login/" in response.url

    def test_scripts_page_is_for_admins(self, agent_client):
        assert agent_client.get(reverse("script_list")).status_code == 403

    @pytest.mark.parametrize(
        "key,data",
        [
            ("identity", {"kind": "identity", "birth_date": "yesterday", "id_last6": "<script>"}),
            ("identity", {"answer": "x" * 5000}),
            ("is_applicant", {"answer": "perhaps"}),
            ("no-such-question", {"answer": "yes"}),
            ("policy_received", {"answer": "99"}),
        ],
    )
    def test_junk_answers_get_a_clear_message(self, agent_client, task, key, data):
        take(agent_client)
        response = agent_client.post(reverse("workspace_answer", args=[task.pk, key]), data, **HX)
        assert response.status_code == 200
        assert 'class="errors"' in response.content.decode()

    @pytest.mark.parametrize(
        "data",
        [
            {},
            {"outcome": "bogus"},
            {"outcome": "callback_requested", "appointment_at": "soon"},
            {"outcome": "callback_requested", "appointment_at": "2026-13-45T99:99"},
        ],
    )
    def test_junk_closes_are_refused_without_error_pages(self, agent_client, task, data):
        take(agent_client)
        response = agent_client.post(reverse("workspace_close", args=[task.pk]), data, follow=True)
        assert response.status_code == 200
        assert CallAttempt.objects.get(task=task).outcome == ""

    def test_someone_elses_task_cannot_be_touched(self, agent_client, task, queue):
        other = due_task(queue)
        take(agent_client)
        for name, data in [
            ("workspace_close", {"outcome": "verified"}),
            ("workspace_notes", {"notes": "x"}),
            ("workspace_dialled", {"which": "mobile"}),
            ("workspace_release", {}),
        ]:
            response = agent_client.post(reverse(name, args=[other.pk]), data, follow=True)
            assert response.status_code == 200 and "no longer yours" in response.content.decode()
        response = agent_client.post(
            reverse("workspace_answer", args=[other.pk, "is_applicant"]), {"answer": "yes"}, **HX
        )
        assert response.status_code == 200 and "no longer yours" in response.content.decode()
        assert not CallAttempt.objects.filter(task=other).exists()
        response = agent_client.post(
            reverse("workspace_dialled", args=[task.pk]), {"which": "id_no"}, follow=True
        )
        assert response.status_code == 200 and "no such number" in response.content.decode()


def test_workspace_page_load_stays_within_15_queries(
    agent_client, task, agent_user, django_assert_max_num_queries
):
    take(agent_client)
    answer_script(agent_client, task, stop_at="terms_read")
    CallAttempt.objects.create(
        task=task, agent=agent_user, outcome="no_answer", ended_at=timezone.now(), notes="无人接"
    )
    agent_client.get(reverse("workspace"))  # warm the session
    with django_assert_max_num_queries(15):
        response = agent_client.get(reverse("workspace"))
    assert response.status_code == 200 and "无人接" in response.content.decode()


class TestScriptsPage:
    def test_preview_renders_a_version_for_a_chosen_policy(self, admin_client_, task):
        version = ScriptVersion.objects.get(script__code="free-look-senior", status="published")
        response = admin_client_.get(
            reverse("script_preview"), {"version": version.pk, "policy_no": task.policy.policy_no}
        )
        page = response.content.decode()
        assert "请问您是陈先生（陈磊）本人吗？" in page
        assert "This is the script the policy&#x27;s callback reads." in page or "the policy" in page

    def test_preview_of_an_unknown_policy_or_version_explains(self, admin_client_):
        page = admin_client_.get(
            reverse("script_preview"), {"version": "x", "policy_no": "NOPE"}
        ).content.decode()
        assert "Choose a script version" in page
        version = ScriptVersion.objects.filter(status="published").first()
        page = admin_client_.get(reverse("script_preview"), {"version": version.pk, "policy_no": "NOPE"})
        assert "No policy has the number NOPE" in page.content.decode()

    def test_new_draft_publish_and_retire(self, admin_client_):
        version = ScriptVersion.objects.get(script__code="free-look", status="published")
        response = admin_client_.post(reverse("script_new_draft", args=[version.pk]))
        draft = ScriptVersion.objects.get(script__code="free-look", status="draft")
        assert response.url == reverse("admin:verification_scriptversion_change", args=[draft.pk])
        assert admin_client_.get(response.url).status_code == 200
        draft.questions.filter(kind="identity").delete()
        response = admin_client_.post(reverse("script_publish", args=[draft.pk]), follow=True)
        assert "no identity check" in response.content.decode()
        draft.refresh_from_db()
        assert draft.status == "draft"
        admin_client_.post(reverse("script_retire", args=[version.pk]))
        version.refresh_from_db()
        assert version.status == "retired"

    def test_published_version_is_read_only_in_the_admin(self, admin_client_):
        version = ScriptVersion.objects.get(script__code="free-look", status="published")
        page = admin_client_.get(reverse("admin:verification_scriptversion_change", args=[version.pk]))
        assert page.status_code == 200
        assert "cannot change" in page.content.decode()
        assert 'name="questions-0-text_zh"' not in page.content.decode()


def test_supervisor_sees_recorded_outcomes_with_the_text_read(agent_client, task, supervisor_user, client):
    take(agent_client)
    answer_script(agent_client, task)
    close(agent_client, task, "verified")
    client.force_login(supervisor_user)
    page = client.get(reverse("attempt_list")).content.decode()
    assert task.policy.policy_no in page and "请问您是陈先生（陈磊）本人吗？" in page
