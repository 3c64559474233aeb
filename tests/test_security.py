"""Holes found by attacking Huifang as an outsider and as an insider of each role (trust issue #10)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from .factories import PartyFactory
from .factories.scripts import due_task, serving_queue

pytestmark = pytest.mark.django_db


class TestAgentNeverSeesTheIdentityAnswers:
    """The identity check asks the customer's birth date and the last six id characters: an agent's
    pages must not show them (nor the full address), or the check proves nothing."""

    def test_policy_page_of_the_held_task(self, agent_client, agent_user):
        task = due_task(serving_queue(agent_user))
        PartyFactory(policy=task.policy, role="insured", seq=1, name="陈小明", birth_date=dt.date(2010, 1, 1))
        task.holder, task.lease_expires_at = agent_user, timezone.now() + dt.timedelta(minutes=10)
        task.save()
        html = agent_client.get(reverse("policy_detail", args=[task.policy.policy_no])).content.decode()
        assert "陈磊" in html and task.policy.policy_no in html
        for secret in ("1960-09-08", "1960年9月8日", "2010-01-01", "081436", "1436", "建国路57号"):
            assert secret not in html, secret
        assert "河北省邯郸市……" in html

    def test_queue_api_claim(self, agent_user):
        from rest_framework.authtoken.models import Token
        from rest_framework.test import APIClient

        task = due_task(serving_queue(agent_user))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent_user).key}")
        body = client.post("/api/v1/queue/next").content.decode()
        assert task.policy.policy_no in body
        for secret in ("1960-09-08", "081436", "1436", "建国路"):
            assert secret not in body, secret

    def test_workspace(self, agent_client, agent_user):
        task = due_task(serving_queue(agent_user))
        agent_client.post(reverse("workspace_next"))
        html = agent_client.get(reverse("workspace")).content.decode()
        assert task.policy.policy_no in html
        for secret in ("1960-09-08", "081436", "1436", "建国路57号"):
            assert secret not in html, secret

    def test_supervisor_still_sees_birth_date_and_address(self, supervisor_client):
        task = due_task(serving_queue(_user()))
        html = supervisor_client.get(reverse("policy_detail", args=[task.policy.policy_no])).content.decode()
        assert "1960-09-08" in html and "建国路57号" in html


def _user():
    from .factories import UserFactory

    return UserFactory(username="someone")


def _user_form(user, **changes) -> dict:
    """The admin's change form for `user` as submitted, with `changes`."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-11-01",
        "date_joined_1": "09:00:00",
        "groups": [g.pk for g in user.groups.all()],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


class TestAdminRoleCannotEscalate:
    def test_admin_cannot_make_itself_superuser_or_grant_permissions(self, admin_client_, admin_user):
        from django.contrib.auth.models import Permission

        perm = Permission.objects.get(codename="delete_auditevent")
        url = reverse("admin:auth_user_change", args=[admin_user.pk])
        page = admin_client_.get(url).content.decode()
        assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
        admin_client_.post(url, _user_form(admin_user, is_superuser="on", user_permissions=[perm.pk]))
        admin_user.refresh_from_db()
        assert not admin_user.is_superuser and not admin_user.user_permissions.exists()

    def test_admin_assigns_roles_only_and_it_is_audited(self, admin_client_, admin_user, agent_user, roles):
        from django.contrib.auth.models import Group

        from callback.models import AuditEvent

        powerful = Group.objects.create(name="powerful")
        url = reverse("admin:auth_user_change", args=[agent_user.pk])
        assert f'value="{powerful.pk}"' not in admin_client_.get(url).content.decode()
        response = admin_client_.post(url, _user_form(agent_user, groups=[roles["supervisor"].pk]))
        assert response.status_code == 302
        assert set(agent_user.groups.values_list("name", flat=True)) == {"supervisor"}
        event = AuditEvent.objects.get(action="roles_changed")
        assert event.user == admin_user and event.detail["after"] == ["supervisor"]
        admin_client_.post(url, _user_form(agent_user, groups=[powerful.pk]))
        assert not agent_user.groups.filter(name="powerful").exists()

    def test_admin_cannot_touch_a_superuser(self, admin_client_):
        from .factories import UserFactory

        boss = UserFactory(username="root", is_superuser=True, is_staff=True)
        url = reverse("admin:auth_user_change", args=[boss.pk])
        assert 'name="password"' not in admin_client_.get(url).content.decode()  # read only
        assert admin_client_.post(url, _user_form(boss, is_active="")).status_code == 403
        response = admin_client_.post(reverse("admin:auth_user_password_change", args=[boss.pk]), {})
        assert response.status_code == 403
        assert (
            admin_client_.post(reverse("admin:auth_user_delete", args=[boss.pk]), {"post": "yes"}).status_code
            == 403
        )
        boss.refresh_from_db()
        assert boss.is_active

    def test_full_id_access_is_a_superuser_grant_and_audited(self, admin_client_, admin_user, client):
        from callback.models import AuditEvent, StaffProfile

        from .factories import UserFactory

        profile = StaffProfile.objects.create(user=admin_user)
        url = reverse("admin:callback_staffprofile_change", args=[profile.pk])
        admin_client_.post(url, {"user": admin_user.pk, "phone": "", "can_see_full_ids": "on"})
        profile.refresh_from_db()
        assert not profile.can_see_full_ids
        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        client.force_login(root)
        response = client.post(url, {"user": admin_user.pk, "phone": "", "can_see_full_ids": "on"})
        assert response.status_code == 302
        profile.refresh_from_db()
        assert profile.can_see_full_ids
        event = AuditEvent.objects.get(action="full_id_access_granted")
        assert (event.user, event.detail["username"]) == (root, admin_user.username)


ADMIN_SETTINGS = [
    "fallbackrule",
    "ecallbacksettings",
    "phoneonlyrule",
    "smstemplate",
    "freelookrule",
    "retryrule",
]


@pytest.mark.parametrize("model", ADMIN_SETTINGS)
def test_admins_set_what_the_docs_say_they_set(admin_client_, model):
    assert admin_client_.get(reverse(f"admin:callback_{model}_changelist")).status_code == 200
    if model != "ecallbacksettings":  # a single row: added once, then changed
        assert admin_client_.get(reverse(f"admin:callback_{model}_add")).status_code == 200


def test_supervisors_do_not_edit_the_admins_settings(supervisor_client):
    for model in ("ecallbacksettings", "phoneonlyrule", "smstemplate"):
        assert supervisor_client.get(reverse(f"admin:callback_{model}_add")).status_code in (302, 403)


class TestImportsPageNever500s:
    def test_after_a_command_line_import(self, supervisor_client):
        from callback.models import ImportRun

        ImportRun.objects.create(kind="policies", source=ImportRun.Source.COMMAND, filename="x.csv")
        response = supervisor_client.get(reverse("import_list"))
        assert response.status_code == 200 and "x.csv" in response.content.decode()

    @pytest.mark.parametrize(
        "data",
        [{}, {"kind": "policies"}, {"kind": "nonsense"}],
        ids=["empty", "no-file", "bad-kind"],
    )
    def test_invalid_upload_form_is_shown_again(self, supervisor_client, data):
        response = supervisor_client.post(reverse("import_list"), data)
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()

    def test_wrong_file_type(self, supervisor_client):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("policies.exe", b"MZ\x00\x00")
        response = supervisor_client.post(reverse("import_list"), {"kind": "policies", "file": upload})
        assert response.status_code == 200 and "errorlist" in response.content.decode()


def _token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


class TestOddInputIs400:
    @pytest.mark.parametrize(
        "url", ["/calls/?outcome=%00", "/policies/%00/", "/flags/?q=a%00b", "/api/v1/flags?code=%00"]
    )
    def test_nul_in_path_or_query(self, supervisor_client, url):
        assert supervisor_client.get(url).status_code == 400

    def test_nul_in_a_form_post(self, supervisor_client):
        response = supervisor_client.post(
            reverse("flag_action"),
            "action=waive&reason=a%00b",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400

    @pytest.mark.parametrize(
        "url",
        ["/api/v1/policies", "/api/v1/queue/next", "/api/v1/tasks/1/attempts", "/api/v1/tasks/1/heartbeat"],
    )
    def test_json_nested_1000_deep_never_500s(self, admin_user, agent_user, url):
        body = "[" * 1000 + "]" * 1000
        for user in (admin_user, agent_user):
            response = _token_client(user).post(url, body, content_type="application/json")
            assert response.status_code < 500, response.content
            if response.status_code == 400:
                assert "deep" in response.json()["detail"]

    def test_json_nested_1000_deep_is_400(self, admin_user, agent_user):
        task = due_task(serving_queue(agent_user))
        agent = _token_client(agent_user)
        agent.post("/api/v1/queue/next")
        for client, url in (
            (agent, f"/api/v1/tasks/{task.pk}/attempts"),
            (_token_client(admin_user), "/api/v1/policies"),
        ):
            for body in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 100000):
                response = client.post(url, body, content_type="application/json")
                assert response.status_code == 400, (url, response.content[:200])

    def test_json_nul_character(self, agent_user):
        task = due_task(serving_queue(agent_user))
        client = _token_client(agent_user)
        client.post("/api/v1/queue/next")
        response = client.post(
            f"/api/v1/tasks/{task.pk}/attempts", {"outcome": "busy", "notes": "a\x00b"}, format="json"
        )
        assert response.status_code == 400 and "NUL" in response.json()["detail"]


class TestApiTokensAndDocs:
    def test_token_expires(self, agent_user, settings):
        from rest_framework.authtoken.models import Token

        client = _token_client(agent_user)
        assert client.post("/api/v1/queue/next").status_code in (200, 204)
        Token.objects.filter(user=agent_user).update(created=timezone.now() - dt.timedelta(days=31))
        settings.API_TOKEN_LIFETIME_DAYS = 30
        response = client.post("/api/v1/queue/next")
        assert response.status_code == 401 and "expired" in response.json()["detail"].lower()
        assert not Token.objects.filter(user=agent_user).exists()

    def test_password_change_kills_the_token(self, agent_user, client):
        from rest_framework.authtoken.models import Token

        from .factories import PASSWORD

        api = _token_client(agent_user)
        client.force_login(agent_user)
        response = client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "A-new-pass-2026!",
                "new_password2": "A-new-pass-2026!",
            },
        )
        assert response.status_code == 302
        assert not Token.objects.filter(user=agent_user).exists()
        assert api.post("/api/v1/queue/next").status_code == 401

    def test_api_is_throttled(self, agent_user, settings):
        from django.core.cache import cache
        from rest_framework.settings import api_settings
        from rest_framework.throttling import UserRateThrottle

        cache.clear()
        rates = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
        original = UserRateThrottle.THROTTLE_RATES
        UserRateThrottle.THROTTLE_RATES = rates
        try:
            client = _token_client(agent_user)
            codes = [client.post("/api/v1/queue/next").status_code for _ in range(5)]
        finally:
            UserRateThrottle.THROTTLE_RATES = original
        assert codes[-1] == 429 and codes[0] != 429

    @pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
    def test_schema_and_docs_need_login(self, client, agent_client, url):
        from django.test import Client

        assert Client().get(url).status_code in (401, 403)
        assert agent_client.get(url).status_code == 200


class TestAuditGapsClosed:
    def test_script_publish_retire_and_draft_are_audited(self, admin_client_, admin_user):
        from callback.models import AuditEvent
        from verification.models import ScriptVersion

        version = ScriptVersion.objects.filter(status=ScriptVersion.Status.PUBLISHED).first()
        response = admin_client_.post(reverse("script_new_draft", args=[version.pk]))
        assert response.status_code == 302
        draft = ScriptVersion.objects.filter(script=version.script, status=ScriptVersion.Status.DRAFT).get()
        admin_client_.post(reverse("script_publish", args=[draft.pk]))
        admin_client_.post(reverse("script_retire", args=[draft.pk]))
        events = AuditEvent.objects.filter(user=admin_user).exclude(action="login").order_by("pk")
        actions = list(events.values_list("action", flat=True))
        assert actions == ["script_draft_created", "script_published", "script_retired"]
        event = AuditEvent.objects.get(action="script_published")
        assert (event.object_id, event.detail["script"]) == (str(draft.pk), version.script.code)

    def test_web_flag_list_view_is_audited(self, supervisor_client, supervisor_user):
        from callback.models import AuditEvent

        supervisor_client.get(reverse("flag_list"), {"code": "mobile_invalid"})
        event = AuditEvent.objects.get(action="view_flag_list")
        assert event.user == supervisor_user and event.detail["filter"] == {"code": "mobile_invalid"}

    def test_correction_request_refuses_unknown_fields(self, supervisor_user):
        from callback.models import ContactFlag, FlagStatus

        from .factories.flags import flagged_policy

        flag = flagged_policy()
        client = _token_client(supervisor_user)
        response = client.post(
            "/api/v1/flags/request-correction", {"ids": [flag.pk], "reason": "typo"}, format="json"
        )
        assert response.status_code == 400 and "reason" in response.json()["errors"]
        assert ContactFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN
        ok = client.post("/api/v1/flags/request-correction", {"ids": [flag.pk]}, format="json")
        assert ok.status_code == 200


class TestUploadRetention:
    def test_old_uploads_are_deleted_records_stay(self, settings, tmp_path):
        from django.core.management import call_command

        from callback.models import AuditEvent, ImportRun

        settings.MEDIA_ROOT = tmp_path
        settings.UPLOAD_RETENTION_DAYS = 30
        folder = tmp_path / "imports"
        folder.mkdir()
        old_file, new_file, orphan = folder / "old.csv", folder / "new.csv", folder / "orphan.csv"
        for path in (old_file, new_file, orphan):
            path.write_text("policy_no\nP1\n")
        old = ImportRun.objects.create(
            kind="policies", source="web", stored_path="imports/old.csv", status="done"
        )
        ImportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
        ImportRun.objects.create(kind="policies", source="web", stored_path="imports/new.csv", status="done")
        import os

        long_ago = (timezone.now() - dt.timedelta(days=40)).timestamp()
        os.utime(orphan, (long_ago, long_ago))
        call_command("purge_uploads")
        assert not old_file.exists() and not orphan.exists() and new_file.exists()
        old.refresh_from_db()
        assert old.stored_path == "" and ImportRun.objects.count() == 2
        assert AuditEvent.objects.get(action="uploads_purged").detail["files"] == 2


class TestOneThrottleForEveryWayIn:
    """django-axes: the login page, the admin's login and a password change's old password share one
    count per (username, client address), and every failure is audited."""

    def _fail(self, client, url, username="agent1", **extra):
        return client.post(url, {"username": username, "password": "wrong"}, **extra)

    def test_admin_login_is_throttled_and_audited_like_the_login_page(self, client, admin_user, settings):
        from callback.models import AuditEvent

        from .factories import PASSWORD

        settings.LOGIN_FAILURE_LIMIT = 3
        self._fail(client, "/accounts/login/", username="admin1")
        self._fail(client, "/admin/login/", username="admin1")
        self._fail(client, "/admin/login/", username="admin1")
        for url in ("/admin/login/", "/accounts/login/"):
            response = client.post(url, {"username": "admin1", "password": PASSWORD})
            assert response.status_code == 429, url
            assert "Too many failed logins" in response.content.decode()
            assert not response.wsgi_request.user.is_authenticated
        events = AuditEvent.objects.filter(action="login_failed")
        assert events.count() >= 3 and {e.detail["path"] for e in events} >= {
            "/accounts/login/",
            "/admin/login/",
        }

    def test_password_change_old_password_is_throttled(self, agent_client, agent_user, settings):
        from callback.models import AuditEvent

        from .factories import PASSWORD

        settings.LOGIN_FAILURE_LIMIT = 3
        url = reverse("password_change")
        form = {"new_password1": "A-new-pass-2026!", "new_password2": "A-new-pass-2026!"}
        for _ in range(3):
            assert agent_client.post(url, {"old_password": "guess", **form}).status_code in (200, 429)
        response = agent_client.post(url, {"old_password": PASSWORD, **form})
        assert response.status_code == 429
        agent_user.refresh_from_db()
        assert agent_user.check_password(PASSWORD)
        assert AuditEvent.objects.filter(action="login_failed", detail__username="agent1").count() >= 3

    def test_failures_behind_one_proxy_do_not_lock_out_the_call_centre(self, client, agent_user, settings):
        from .factories import PASSWORD, UserFactory

        settings.LOGIN_FAILURE_LIMIT = 3
        settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
        UserFactory(username="colleague", role="agent")
        proxy = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
        for _ in range(4):  # someone guessing at agent1 through the centre's proxy
            self._fail(client, "/accounts/login/", **proxy)
        ok = client.post("/accounts/login/", {"username": "colleague", "password": PASSWORD}, **proxy)
        assert ok.status_code == 302  # a colleague behind the same proxy still logs in
        other_desk = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.10"}
        from django.test import Client

        response = Client().post(
            "/accounts/login/", {"username": "agent1", "password": PASSWORD}, **other_desk
        )
        assert response.status_code == 302  # agent1 at their own desk is not locked out either

    def test_proxy_header_only_believed_from_a_trusted_proxy(self, rf, settings):
        from callback.audit import client_ip

        settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
        forged = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert client_ip(forged) == "198.51.100.7"
        proxied = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.6")
        assert client_ip(proxied) == "203.0.113.9"
        broken = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")
        assert client_ip(broken) == "10.0.0.5"


class TestContentSecurityPolicy:
    def test_pages_send_a_strict_policy(self, agent_client):
        response = agent_client.get(reverse("home"), follow=True)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy

    def test_no_inline_script_or_style_in_templates(self):
        import re
        from pathlib import Path

        from django.conf import settings

        offenders = []
        for folder in [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]:
            for path in folder.rglob("*.html"):
                text = path.read_text(encoding="utf-8")
                if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|hx-on", text):
                    offenders.append(str(path))
        assert offenders == []


def test_bad_api_tokens_are_audited_and_locked_per_token(agent_user, settings):
    from rest_framework.test import APIClient

    from callback.models import AuditEvent

    settings.LOGIN_FAILURE_LIMIT = 3
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    codes = [bad.post("/api/v1/queue/next").status_code for _ in range(5)]
    assert codes[:2] == [401, 401] and codes[-1] == 429
    assert "Too many" in bad.post("/api/v1/queue/next").json()["detail"]
    assert (
        AuditEvent.objects.filter(action="login_failed", detail__username="api-token:00000000").count() >= 3
    )
    assert _token_client(agent_user).post("/api/v1/queue/next").status_code in (200, 204)  # others work
