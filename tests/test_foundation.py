import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from callback.models import Party, Policy
from callback.roles import ADMIN, AGENT, SUPERVISOR

from .factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


class TestSettingsFromEnvironment:
    def test_production_settings_pass_deploy_check(self, tmp_path):
        env = {
            "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "huifang.example.com",
            "HUIFANG_VAR_DIR": str(tmp_path),
        }
        result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_missing_secret_key_outside_debug_is_refused(self, tmp_path):
        result = run_manage("check", env={"HUIFANG_VAR_DIR": str(tmp_path)})
        assert result.returncode != 0
        assert "SECRET_KEY" in result.stderr

    def test_database_url_and_redis_url_are_read(self, tmp_path):
        code = (
            "from django.conf import settings as s; "
            "db = s.DATABASES['default']; "
            "print(db['ENGINE'], db['NAME'], s.REDIS_URL, s.CACHES['default']['BACKEND'])"
        )
        env = {
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": "postgres://u@db.internal:5432/huifang_prod",
            "REDIS_URL": "redis://cache.internal:6379/2",
            "HUIFANG_VAR_DIR": str(tmp_path),
        }
        result = run_manage("shell", "-v", "0", "-c", code, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "django.db.backends.postgresql",
            "huifang_prod",
            "redis://cache.internal:6379/2",
            "django.core.cache.backends.redis.RedisCache",
        ]

    def test_embedded_default_is_sqlite_under_var(self, tmp_path):
        env = {"DJANGO_DEBUG": "1", "HUIFANG_VAR_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": ""}
        code = (
            "from django.conf import settings as s; print(s.DATABASES['default']['NAME'], repr(s.REDIS_URL))"
        )
        result = run_manage("shell", "-v", "0", "-c", code, env=env)
        assert result.stdout.split() == [str(tmp_path / "huifang.sqlite3"), "''"]


@pytest.mark.django_db
class TestRolesAndNavigation:
    @pytest.mark.parametrize(
        "role,visible,hidden",
        [
            (AGENT, [], ["/admin/"]),
            (SUPERVISOR, [], ["/admin/"]),
            (ADMIN, ["/admin/"], []),
        ],
    )
    def test_each_role_sees_its_navigation(self, client, role, visible, hidden):
        user = UserFactory(username=f"nav-{role}", role=role, is_staff=role == ADMIN)
        client.force_login(user)
        page = client.get(reverse("home"), follow=True)
        assert page.status_code == 200
        html = page.content.decode()
        for href in visible:
            assert f'href="{href}"' in html
        for href in hidden:
            assert f'href="{href}"' not in html

    def test_groups_carry_permissions_after_migrate(self, roles):
        assert roles[SUPERVISOR].permissions.filter(codename="view_contactflag").exists()
        assert roles[SUPERVISOR].permissions.filter(codename="export_contactflag").exists()
        assert not roles[AGENT].permissions.filter(codename="view_policy").exists()
        assert roles[ADMIN].permissions.filter(codename="change_script").exists()
        assert not roles[SUPERVISOR].permissions.filter(codename="change_script").exists()

    def test_agent_is_refused_django_admin(self, agent_client):
        response = agent_client.get("/admin/")
        assert response.status_code == 302  # the admin login, never the site


@pytest.mark.django_db
class TestLogin:
    def test_login_page_renders_in_chinese_by_default(self, client, settings):
        settings.LANGUAGE_CODE = "zh-hans"  # the project's default (tests otherwise run in English)
        page = client.get(reverse("login"))
        assert page.status_code == 200
        assert "登录回访系统" in page.content.decode()

    def test_login_page_renders_in_english(self, client):
        page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
        assert "Log in to Huifang" in page.content.decode()

    def test_login_and_logout(self, client, agent_user):
        response = client.post(reverse("login"), {"username": "agent1", "password": PASSWORD})
        assert response.status_code == 302
        assert client.get(reverse("home"), follow=True).wsgi_request.user.is_authenticated
        client.post(reverse("logout"))
        assert client.get(reverse("home")).status_code == 302  # back to the login page

    def test_wrong_password_is_refused(self, client, agent_user):
        response = client.post(reverse("login"), {"username": "agent1", "password": "nope"})
        assert response.status_code == 200
        assert not response.wsgi_request.user.is_authenticated

    @override_settings(LOGIN_FAILURE_LIMIT=3)
    def test_repeated_failures_lock_the_account_even_with_the_right_password(self, client, agent_user):
        for _ in range(3):
            client.post(reverse("login"), {"username": "agent1", "password": "nope"})
        response = client.post(reverse("login"), {"username": "agent1", "password": PASSWORD})
        assert not response.wsgi_request.user.is_authenticated
        assert (
            "Too many failed logins" in response.content.decode()
            or "登录失败次数过多" in response.content.decode()
        )

    def test_anonymous_user_is_sent_to_login(self, client):
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
class TestSeedDemo:
    @override_settings(DEBUG=True)
    def test_seed_demo_twice_gives_the_same_counts(self):
        call_command("seed_demo", stdout=open(os.devnull, "w"))
        first = (User.objects.count(), Policy.objects.count(), Party.objects.count())
        call_command("seed_demo", stdout=open(os.devnull, "w"))
        assert (User.objects.count(), Policy.objects.count(), Party.objects.count()) == first
        assert first[1] > 0
        assert User.objects.get(username="agent").check_password("huifang-demo")
        assert User.objects.get(username="supervisor").groups.filter(name=SUPERVISOR).exists()

    @override_settings(DEBUG=False)
    def test_seed_demo_refuses_without_debug(self):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            call_command("seed_demo", stdout=open(os.devnull, "w"))
        assert not User.objects.filter(username="agent").exists()


@pytest.mark.django_db
def test_language_switcher_changes_the_page_language(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")}, follow=True)
    assert "Log in to Huifang" in response.content.decode()
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("login")}, follow=True
    )
    assert "Log in to Huifang" not in response.content.decode()


@pytest.mark.django_db
def test_django_admin_policy_page_masks_party_ids(client):
    from .factories import PartyFactory

    admin = UserFactory(username="admin-mask", role=ADMIN, is_staff=True)
    client.force_login(admin)
    party = PartyFactory(id_no="130426196009081436", mobile="13800138000")
    page = client.get(reverse("admin:callback_policy_change", args=[party.policy_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "130426196009081436" not in html and "**************1436" in html
    assert "13800138000" not in html
