"""The statistics page, its drill-downs, exports and the agent's own figures, on the hand-built data."""

import datetime as dt
import io

import pytest
from django.urls import reverse

from callback.models import AuditEvent

from . import stats_data

MARCH = "preset=custom&basis=receipt&first=2026-03-01&last=2026-03-31"


@pytest.fixture
def data(db):
    return stats_data.build()


def test_agents_get_403_on_supervisor_statistics(agent_client, data):
    for url in ("stats", "stats_export", "task_export", "attempt_export"):
        assert agent_client.get(reverse(url)).status_code == 403


def test_statistics_page_shows_the_known_figures(supervisor_client, data):
    response = supervisor_client.get(f"/stats/?{MARCH}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "By receipt date" in html
    assert 'id="in-time-rate">40.0%' in html
    assert "<svg" in html and "<script" not in html.split("</header>")[1].split("</main>")[0]
    assert "style=" not in html.split("<main")[1]


@pytest.mark.parametrize(
    "by", ["reason", "branch", "salesperson", "channel", "product", "outlet", "agent", "call_channel", "time"]
)
def test_each_breakdown_renders(supervisor_client, data, by):
    response = supervisor_client.get(f"/stats/?{MARCH}&by={by}&unit=week")
    assert response.status_code == 200
    assert "Where verification fails" in response.content.decode()


def test_branch_breakdown_worst_first_with_drilldown(supervisor_client, data):
    html = supervisor_client.get(f"/stats/?{MARCH}&by=branch").content.decode()
    assert html.index("B2 上海分公司") < html.index("B1 北京分公司")
    # The "not verified in time" count of B2 opens the task list with the same filter: two tasks.
    link = (
        "/tasks/?preset=custom&amp;basis=receipt&amp;first=2026-03-01&amp;last=2026-03-31"
        "&amp;branch=B2&amp;result=not_in_time"
    )
    assert link in html
    tasks = supervisor_client.get(link.replace("&amp;", "&")).content.decode()
    assert "PSTATT4" in tasks and "PSTATT5" in tasks and "PSTATT1" not in tasks
    assert "Statistics drill-down" in tasks


def test_calls_drilldown_by_agent(supervisor_client, data):
    a2 = data["a2"].pk
    html = supervisor_client.get(f"/calls/?{MARCH}&agent={a2}").content.decode()
    assert "PSTATT2" in html and "PSTATT7" in html and "PSTATT1" not in html


def test_bad_filters_are_errors_not_500(supervisor_client, data):
    for query in (
        "first=2026-13-01&last=x",
        "first=2026-03-31&last=2026-03-01",
        "first=2020-01-01&last=2026-01-01",
        "agent=abc&by=nonsense",
        "first=2026-03-01",
        "basis=%00",
        "branch=%00",
    ):
        # A NUL byte may be refused outright (400) before the view; anything else shows the page.
        assert supervisor_client.get(f"/stats/?{query}").status_code in (200, 400)
        assert supervisor_client.get(f"/tasks/?basis=receipt&{query}").status_code in (200, 400)
    assert supervisor_client.get("/stats/?first=2026-03-31&last=2026-03-01").status_code == 200
    assert supervisor_client.get(f"/stats/export/?{MARCH}&table=nope").status_code == 400


def test_exports_csv_and_xlsx_are_audited(supervisor_client, supervisor_user, data):
    response = supervisor_client.get(f"/stats/export/?{MARCH}&table=branch")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("key,name,in_scope")
    assert body.splitlines()[1].startswith("B2,B2 上海分公司,4,2,0")
    event = AuditEvent.objects.filter(action="export_stats").latest("at")
    assert event.user == supervisor_user
    assert event.detail["table"] == "branch" and event.detail["filter"]["first"] == "2026-03-01"

    from openpyxl import load_workbook

    response = supervisor_client.get(f"/tasks/export/?{MARCH}&result=in_time&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == ["PSTATT1", "PSTATT2"]
    assert AuditEvent.objects.filter(action="export_tasks", detail__filter__result="in_time").exists()

    response = supervisor_client.get(f"/calls/export/?{MARCH}&calls=failed_calls")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["PSTATT3", "PSTATT7"]
    assert AuditEvent.objects.filter(action="export_calls").exists()


def test_empty_period_shows_dashes(supervisor_client, data):
    html = supervisor_client.get("/stats/?preset=custom&first=2025-01-01&last=2025-01-31").content.decode()
    assert 'id="in-time-rate">—' in html
    assert "Nothing in this period." in html or "No flags on these policies." in html


def test_statistics_page_in_chinese(supervisor_client, data):
    from django.utils import translation

    with translation.override("zh-hans"):
        html = supervisor_client.get(f"/stats/?{MARCH}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "按回执签收日" in html
    assert "按时回访成功" in html


def test_api_gives_the_same_figures(supervisor_client, agent_user, data):
    from django.test import Client

    agent_client = Client()
    agent_client.force_login(agent_user)
    response = supervisor_client.get(f"/api/v1/stats/compliance?{MARCH}")
    assert response.status_code == 200
    body = response.json()
    assert body["in_scope"] == 8 and body["in_time"] == 2 and body["in_time_rate"] == pytest.approx(0.4)
    rows = supervisor_client.get(f"/api/v1/stats/branch?{MARCH}").json()["rows"]
    assert [(r["key"], r["not_in_time"]) for r in rows] == [("B2", 2), ("B1", 1)]
    weeks = supervisor_client.get(f"/api/v1/stats/time?{MARCH}&unit=week").json()["rows"]
    assert weeks[0]["key"] == "2026-02-23"
    assert supervisor_client.get(f"/api/v1/stats/nope?{MARCH}").status_code == 404
    assert (
        supervisor_client.get("/api/v1/stats/compliance?first=2026-03-05&last=2026-03-01").status_code == 400
    )
    assert agent_client.get(f"/api/v1/stats/compliance?{MARCH}").status_code == 403
    schema = supervisor_client.get("/api/schema/").content.decode()
    assert "/api/v1/stats/compliance" in schema and "/api/v1/stats/{table}" in schema


def test_workspace_shows_the_agents_own_figures_only(client, data):
    from django.utils import timezone

    from callback.models import CallAttempt

    a1, a2 = data["a1"], data["a2"]
    now = timezone.now()
    # Today: two calls by a1 (one verified), one by a2 that a1 must never see counted.
    for agent, outcome in ((a1, "verified"), (a1, "no_answer"), (a2, "verified")):
        attempt = CallAttempt.objects.create(task=data["T9"], agent=agent, outcome=outcome)
        CallAttempt.objects.filter(pk=attempt.pk).update(
            started_at=now, ended_at=now + dt.timedelta(seconds=90)
        )
    client.force_login(a1)
    html = client.get("/workspace/").content.decode()
    assert 'id="my-calls-today">2<' in html
    assert "50.0%" in html and "1:30" in html


def test_page_reads_the_rollup_and_says_as_of_when(supervisor_client, data, settings):
    from callback.stats import rollup

    settings.STATS_CACHE_SECONDS = 0
    live = supervisor_client.get(f"/stats/?{MARCH}").content.decode()
    assert "Figures computed at" in live and 'id="in-time-rate">40.0%' in live
    rollup.refresh(full=True)
    data["T1"].delete()  # after the refresh: the page keeps the refreshed figures until the next one
    html = supervisor_client.get(f"/stats/?{MARCH}").content.decode()
    assert "Figures as of" in html and "rebuilt every 10 minutes" in html
    assert 'id="in-time-rate">40.0%' in html
    rollup.refresh(full=True)
    html = supervisor_client.get(f"/stats/?{MARCH}").content.decode()
    assert 'id="in-time-rate">25.0%' in html  # T2 of 4 decided
