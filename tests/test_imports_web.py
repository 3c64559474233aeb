"""Upload page, live progress, admin re-screening and the policies API."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from callback.models import Agent, ContactFlag, ImportRun, Policy

from .factories.intake import BASE_ROW, live_codes, register_agent, row

pytestmark = pytest.mark.django_db


def csv_bytes(*rows, columns=None) -> bytes:
    import csv

    columns = columns or list(BASE_ROW)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
def media(tmp_path):
    # With Redis, django-rq enqueues on commit: the tests wrap uploads in django_capture_on_commit_callbacks.
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


class TestUploadPage:
    def test_agent_is_refused(self, agent_client):
        assert agent_client.get(reverse("import_list")).status_code == 403

    def test_upload_runs_the_import_and_shows_the_report(
        self, supervisor_client, media, django_capture_on_commit_callbacks
    ):
        register_agent()
        upload = SimpleUploadedFile(
            "day.csv",
            csv_bytes(
                row(), row(policy_no="", applicant_mobile="1"), row(policy_no="PT2", applicant_mobile="123")
            ),
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = supervisor_client.post(reverse("import_list"), {"kind": "policies", "file": upload})
        run = ImportRun.objects.get()
        assert response.status_code == 302 and response.url == reverse("import_detail", args=[run.pk])
        assert run.status == "done" and run.source == "web" and run.created == 2 and run.rejected == 1
        assert (media / run.stored_path).is_file() and run.stored_path.startswith("imports/")
        page = supervisor_client.get(response.url).content.decode()
        assert "no policy_no" in page and "mobile_invalid" in page
        listing = supervisor_client.get(reverse("import_list")).content.decode()
        assert "day.csv" in listing

    def test_missing_column_is_shown_as_the_failure(
        self, admin_client_, media, django_capture_on_commit_callbacks
    ):
        upload = SimpleUploadedFile(
            "bad.csv", csv_bytes(row(), columns=[c for c in BASE_ROW if c != "policy_no"])
        )
        with django_capture_on_commit_callbacks(execute=True):
            admin_client_.post(reverse("import_list"), {"kind": "policies", "file": upload})
        run = ImportRun.objects.get()
        assert run.status == "failed" and "policy_no" in run.error
        assert "policy_no" in admin_client_.get(reverse("import_detail", args=[run.pk])).content.decode()
        assert not Policy.objects.exists()

    def test_registry_upload(self, supervisor_client, media, django_capture_on_commit_callbacks):
        data = (
            "agent_code,name,mobile,phones,branch_code,channel,outlet_code,status\n"
            "A1,王芳,13800138000,,B1,agency,,active\n"
        )
        upload = SimpleUploadedFile("agents.csv", data.encode("gb18030"))
        with django_capture_on_commit_callbacks(execute=True):
            supervisor_client.post(reverse("import_list"), {"kind": "agents", "file": upload})
        assert Agent.objects.get().name == "王芳"

    def test_wrong_file_type_is_a_form_error(self, supervisor_client, media):
        upload = SimpleUploadedFile("notes.pdf", b"%PDF")
        response = supervisor_client.post(reverse("import_list"), {"kind": "policies", "file": upload})
        assert response.status_code == 200 and not ImportRun.objects.exists()

    def test_progress_polls_while_running_and_stops_when_done(self, supervisor_client):
        run = ImportRun.objects.create(
            kind="policies",
            source="web",
            filename="big.csv",
            status="running",
            rows_read=5000,
            report={"phase": "reading", "progress_done": 50, "progress_total": 100},
        )
        url = reverse("import_detail", args=[run.pk])
        partial = supervisor_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert (
            'hx-trigger="every 1s"' in partial and 'data-progress="50"' in partial and "<html" not in partial
        )
        run.status = "done"
        run.save()
        assert "hx-trigger" not in supervisor_client.get(url, HTTP_HX_REQUEST="true").content.decode()


class TestAdmin:
    def test_saving_an_agent_in_admin_rescreens(self, client, admin_user):
        from django.contrib.auth.models import User

        superuser = User.objects.create_superuser("root", password="x")
        client.force_login(superuser)
        register_agent()
        from .factories.intake import import_rows

        import_rows(row(applicant_mobile="13912345678"))
        response = client.post(
            reverse("admin:callback_agent_add"),
            {
                "agent_code": "A000778",
                "name": "新人",
                "mobile": "13912345678",
                "phones": "",
                "branch_code": "B1101",
                "channel": "agency",
                "outlet_code": "",
                "status": "active",
            },
        )
        assert response.status_code == 302
        assert live_codes() == {"phone_is_agent"}
        agent = Agent.objects.get(agent_code="A000778")
        client.post(reverse("admin:callback_agent_delete", args=[agent.pk]), {"post": "yes"})
        assert live_codes() == set()

    def test_policy_admin_shows_parties(self, client):
        from django.contrib.auth.models import User

        from .factories.intake import import_rows

        client.force_login(User.objects.create_superuser("root", password="x"))
        import_rows(row())
        page = client.get(reverse("admin:callback_policy_change", args=[Policy.objects.get().pk]))
        assert page.status_code == 200 and "陈磊" in page.content.decode()


@pytest.fixture
def api(supervisor_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=supervisor_user).key}")
    return client


class TestPoliciesApi:
    url = "/api/v1/policies"

    def test_batch_answers_per_item(self, api):
        register_agent()
        response = api.post(
            self.url,
            {
                "policies": [
                    row(),
                    row(policy_no="PT2", applicant_mobile="12"),
                    row(policy_no="", premium="1"),
                ]
            },
            format="json",
        )
        assert response.status_code == 200, response.content
        items = response.json()["items"]
        assert [i["status"] for i in items] == ["created", "created", "rejected"]
        assert items[1]["flags"] == ["mobile_invalid"] and items[2]["reasons"] == ["no policy_no"]
        again = api.post(self.url, [row(premium="6000.00")], format="json").json()
        assert again["items"][0]["status"] == "updated" and Policy.objects.count() == 2
        same = api.post(self.url, [row(policy_no="PT2", applicant_mobile="12")], format="json").json()
        assert same["items"] == [
            {
                "index": 0,
                "policy_no": "PT2",
                "status": "unchanged",
                "reasons": [],
                "flags": ["mobile_invalid"],
            }
        ]

    def test_numbers_are_accepted_as_text(self, api):
        response = api.post(
            self.url, [{**row(), "premium": 5000, "applicant_mobile": 15020513739}], format="json"
        )
        assert response.status_code == 200 and response.json()["created"] == 1

    @pytest.mark.parametrize(
        "body,field",
        [
            ({"policies": [{**BASE_ROW, "colour": "red"}]}, "colour"),
            ({"policies": [{**BASE_ROW, "premium": {"a": 1}}]}, "premium"),
            ({"policies": []}, "policies"),
            ({"policies": "nope"}, "policies"),
            ({"nothing": 1}, "policies"),
        ],
    )
    def test_bad_fields_are_400_with_the_field(self, api, body, field):
        response = api.post(self.url, body, format="json")
        assert response.status_code == 400
        assert field in str(response.json()["errors"])
        assert not Policy.objects.exists()

    def test_malformed_json_is_400(self, api):
        response = api.post(self.url, "{not json", content_type="application/json")
        assert response.status_code == 400 and response.json()["detail"]

    def test_agents_and_anonymous_are_refused(self, agent_user):
        client = APIClient()
        assert client.post(self.url, [row()], format="json").status_code in (401, 403)
        client.force_authenticate(agent_user)
        assert client.post(self.url, [row()], format="json").status_code == 403

    def test_schema_generates(self, client, supervisor_client):
        response = supervisor_client.get("/api/schema/")
        assert response.status_code == 200 and b"/api/v1/policies" in response.content

    def test_flags_raised_in_response_match_database(self, api):
        api.post(self.url, [row(agent_code="A404")], format="json")
        assert set(ContactFlag.objects.values_list("code", flat=True)) == {"agent_unknown"}

    def test_a_crash_leaves_the_run_failed_not_running(self, api, monkeypatch):
        # The API's batch goes through the run service like an upload: a crash in the merge (here
        # the task sync failing) rolls the batch back and ends its run `failed` with the error.
        from callback import schedule

        def crash(**kwargs):
            raise RuntimeError("database went away")

        monkeypatch.setattr(schedule, "sync_tasks", crash)
        with pytest.raises(RuntimeError):
            api.post(self.url, [row()], format="json")
        run = ImportRun.objects.get(source=ImportRun.Source.API)
        assert run.status == "failed" and "database went away" in run.error and run.finished_at
        assert not Policy.objects.exists()


def test_imports_list_shows_imports_nobody_started_by_hand(supervisor_client):
    # A nightly command import has no user: the list once failed on it (bench/pages.py found it).
    ImportRun.objects.create(kind="policies", source=ImportRun.Source.COMMAND, filename="nightly.csv")
    html = supervisor_client.get(reverse("import_list")).content.decode()
    assert "nightly.csv" in html


def test_a_run_whose_process_died_is_failed_by_the_sweep_not_left_running(supervisor_client):
    import datetime as dt

    from django.utils import timezone

    from callback import intake
    from callback.models import ImportStatus
    from callback.sweep import sweep

    now = timezone.now()
    dead = intake.create_run(kind="policies", source="command", filename="killed.csv")
    alive = intake.create_run(kind="policies", source="command", filename="busy.csv")
    ImportRun.objects.filter(pk=dead.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=now - dt.timedelta(minutes=31)
    )
    ImportRun.objects.filter(pk=alive.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=now - dt.timedelta(minutes=5)
    )
    assert sweep(now=now).imports_interrupted == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, alive.status) == (ImportStatus.FAILED, ImportStatus.RUNNING)
    page = supervisor_client.get(reverse("import_detail", args=[dead.pk])).content.decode()
    assert "Import the file again" in page
