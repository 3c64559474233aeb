"""Callbacks the phone alone cannot finish: no number, someone else answers, fallbacks, never reached."""

import datetime as dt

import pytest
from django.utils import timezone

from callback.models import CallAttempt, CallbackTask, ContactFlag, TaskStatus
from callback.queue import claim_next_task
from verification.models import Question, Script, ScriptVersion

from .factories_intake import import_rows, row
from .factories_queue import agent_in, at, queue
from .factories_scripts import due_task, serving_queue
from .test_workspace import answer, close, take

pytestmark = pytest.mark.django_db

# A Tuesday morning inside the window of a receipt signed on 2026-11-05.
IN_WINDOW = at(2026, 11, 10, 10, 0)


class TestNoCallableNumber:
    def test_never_claimed_and_reenters_the_queue_when_an_import_brings_a_number(self):
        q = queue("main")
        agent = agent_in(q, "li")
        import_rows(row(applicant_mobile="", applicant_phone=""))
        task = CallbackTask.objects.get()
        assert task.status == TaskStatus.NEEDS_CONTACT
        flag = ContactFlag.objects.get(
            policy=task.policy, code="missing_field", field__in=("mobile", "phone")
        )
        assert flag.status == "open"
        assert claim_next_task(agent=agent, now=IN_WINDOW) is None

        import_rows(row(applicant_mobile="15020513739"))
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        assert claim_next_task(agent=agent, now=IN_WINDOW) == task

    def test_a_landline_alone_is_callable(self):
        queue("main")
        import_rows(row(applicant_mobile="", applicant_phone="010-62345678"))
        assert CallbackTask.objects.get().status == TaskStatus.OPEN


class TestSomeoneElseAnswers:
    """The default scripts' path when the person who answers is not the applicant."""

    @pytest.fixture
    def task(self, agent_user):
        return due_task(serving_queue(agent_user))

    def _reach_someone_else(self, client, task, *, applicant_number: str):
        take(client)
        answer(client, task, "is_applicant", answer="no")
        page = answer(client, task, "applicant_number", answer=applicant_number).content.decode()
        return page

    def test_ends_in_an_appointment_and_marks_nothing_dead(self, agent_client, task):
        page = self._reach_someone_else(agent_client, task, applicant_number="yes")
        assert "什么时候方便接听" in page
        answer(agent_client, task, "applicant_reachable_at", answer="明天上午十点半")
        # Wrong number is refused: the person who answered said it is the applicant's number.
        close(agent_client, task, "wrong_number")
        assert CallAttempt.objects.get(task=task).outcome == ""
        assert "Customer asked for a later call" in agent_client.get("/workspace/").content.decode()
        agreed = (timezone.localtime() + dt.timedelta(days=1)).replace(
            hour=10, minute=30, second=0, microsecond=0
        )
        close(agent_client, task, "callback_requested", appointment_at=agreed.strftime("%Y-%m-%dT%H:%M"))
        task.refresh_from_db()
        assert (task.appointment_at, task.status, task.dead_numbers) == (agreed, TaskStatus.OPEN, [])
        assert not ContactFlag.objects.filter(code="callback_wrong_number").exists()

    def test_not_known_at_this_number_is_a_wrong_number(self, agent_client, task):
        self._reach_someone_else(agent_client, task, applicant_number="no")
        close(agent_client, task, "wrong_number")
        task.refresh_from_db()
        assert task.dead_numbers and task.outcome == "wrong_number"

    def test_wrong_number_waits_for_the_answer_that_says_so(self, agent_client, task):
        take(agent_client)
        answer(agent_client, task, "is_applicant", answer="no")
        close(agent_client, task, "wrong_number")
        task.refresh_from_db()
        assert task.dead_numbers == [] and CallAttempt.objects.get(task=task).outcome == ""

    def test_migration_publishes_a_new_version_and_leaves_the_old_one_alone(self):
        from verification.default_scripts import SOMEONE_ELSE, add_someone_else_path

        script = Script.objects.create(code="old-script", name="旧话术")
        old = ScriptVersion.objects.create(script=script, number=1)
        Question.objects.create(
            version=old,
            order=10,
            key="is_applicant",
            kind="yes_no",
            text_zh="您是本人吗？",
            on_fail="end",
            fail_outcome="wrong_number",
        )
        Question.objects.create(version=old, order=20, key="identity", kind="identity", text_zh="身份")
        ScriptVersion.objects.filter(pk=old.pk).update(status="published")
        assert add_someone_else_path(Script, ScriptVersion, Question) == 1
        assert add_someone_else_path(Script, ScriptVersion, Question) == 0  # idempotent
        old.refresh_from_db()
        assert old.status == "retired"
        assert list(old.questions.values_list("key", "on_fail")) == [
            ("is_applicant", "end"),
            ("identity", "continue"),
        ]
        new = script.versions.get(status="published")
        assert new.number == 2
        assert [q.key for q in new.questions.order_by("order")] == [
            "is_applicant",
            *[q.key for q in SOMEONE_ELSE],
            "identity",
        ]
        assert new.publish_errors() == []
