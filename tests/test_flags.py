"""Supervisors working through contact flags: list, filters, counts, bulk steps, policy page, API."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from callback.flags import (
    FlagActionError,
    flag_facets,
    flag_list,
    masked_detail,
    request_correction,
    resolve_flag,
    waive_flags,
)
from callback.models import AuditEvent, ContactFlag, FlagStatus
from callback.roles import ADMIN, AGENT, SUPERVISOR
from verification.vocab import Channel, FlagCode, PartyRole

from .factories import CallbackTaskFactory, PartyFactory, PolicyFactory, StaffProfileFactory, UserFactory
from .factories.flags import ContactFlagFactory, flagged_policy

pytestmark = pytest.mark.django_db

FULL_ID = "130426196009081436"


def _raised(flag, when: dt.datetime) -> ContactFlag:
    ContactFlag.objects.filter(pk=flag.pk).update(raised_at=when)
    flag.refresh_from_db()
    return flag


def _beijing(y, m, d, h=12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, h), timezone.get_default_timezone())


@pytest.fixture
def supervisor(supervisor_user):
    return supervisor_user


@pytest.fixture
def revealer(client):
    user = UserFactory(username="super-full", role=SUPERVISOR)
    StaffProfileFactory(user=user, can_see_full_ids=True)
    client.force_login(user)
    return user


class TestFlagListSelector:
    def test_each_filter_narrows_the_list(self):
        a = flagged_policy(
            code=FlagCode.MOBILE_INVALID,
            branch_code="B1101",
            channel=Channel.AGENCY,
            agent_code="A000001",
            policy_no="P-BJ-0001",
        )
        b = flagged_policy(
            code=FlagCode.PHONE_IS_AGENT,
            branch_code="B3101",
            channel=Channel.BANCASSURANCE,
            agent_code="A000002",
            policy_no="P-SH-0002",
        )
        ContactFlag.objects.filter(pk=b.pk).update(status=FlagStatus.WAIVED)
        assert set(flag_list(filters={"code": "phone_is_agent"})) == {b}
        assert set(flag_list(filters={"status": "open"})) == {a}
        assert set(flag_list(filters={"branch": "B1101"})) == {a}
        assert set(flag_list(filters={"channel": "bancassurance"})) == {b}
        assert set(flag_list(filters={"agent": "A000002"})) == {b}
        assert set(flag_list(filters={"q": "sh-00"})) == {b}
        assert set(flag_list(filters={"code": "", "status": None})) == {a, b}

    def test_date_range_is_inclusive_in_beijing_time(self):
        early = _raised(flagged_policy(), _beijing(2026, 11, 1, 0))  # 00:00 Beijing = previous day in UTC
        late = _raised(flagged_policy(), _beijing(2026, 11, 3, 23))
        outside = _raised(flagged_policy(), _beijing(2026, 11, 4, 0))
        got = set(flag_list(filters={"raised_from": dt.date(2026, 11, 1), "raised_to": dt.date(2026, 11, 3)}))
        assert got == {early, late}
        assert outside not in got

    def test_facets_count_by_code_status_and_branch(self):
        for _ in range(3):
            flagged_policy(code=FlagCode.MOBILE_INVALID, branch_code="B1101", branch_name="北京市分公司")
        flagged_policy(code=FlagCode.ID_INVALID, branch_code="B3101", branch_name="上海市分公司")
        facets = flag_facets(filters={"code": "id_invalid"})
        # by code ignores the code filter, so the other codes stay visible to click on
        assert {r["code"]: r["n"] for r in facets["by_code"]} == {"mobile_invalid": 3, "id_invalid": 1}
        assert {r["status"]: r["n"] for r in facets["by_status"]}["open"] == 1
        assert facets["by_branch"] == [{"branch": "B3101", "name": "上海市分公司", "n": 1}]

    def test_masked_detail_hides_phone_and_id_numbers_but_not_dates(self):
        text = masked_detail(f"+8613800138000 shared; id {FULL_ID}; born 1960-09-08")
        assert "13800138000" not in text and FULL_ID not in text
        assert text.startswith("+86138****8000 shared")
        assert "1436" in text and "1960-09-08" in text


class TestLifecycle:
    def test_request_correction_records_who_and_when(self, supervisor):
        flag = flagged_policy()
        result = request_correction(flags=[flag], user=supervisor)
        flag.refresh_from_db()
        assert result.changed == [flag.pk] and not result.refused
        assert flag.status == FlagStatus.CORRECTION_REQUESTED
        assert flag.correction_requested_by == supervisor and flag.correction_requested_at is not None
        event = AuditEvent.objects.get(action="flag_request_correction")
        assert event.user == supervisor and event.detail["flags"] == [flag.pk]

    def test_request_correction_only_from_open(self, supervisor):
        open_flag, waived = flagged_policy(), flagged_policy()
        ContactFlag.objects.filter(pk=waived.pk).update(status=FlagStatus.WAIVED)
        result = request_correction(flags=ContactFlag.objects.all(), user=supervisor)
        assert result.changed == [open_flag.pk]
        assert [r["id"] for r in result.refused] == [waived.pk]
        assert ContactFlag.objects.get(pk=waived.pk).status == FlagStatus.WAIVED

    def test_waive_needs_a_reason(self, supervisor):
        flag = flagged_policy()
        with pytest.raises(FlagActionError):
            waive_flags(flags=[flag], user=supervisor, reason="   ")
        assert ContactFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN

    def test_waive_from_open_and_correction_requested_not_from_resolved(self, supervisor):
        a, b, c = flagged_policy(), flagged_policy(), flagged_policy()
        request_correction(flags=[b], user=supervisor)
        ContactFlag.objects.filter(pk=c.pk).update(status=FlagStatus.RESOLVED)
        result = waive_flags(flags=[a, b, c], user=supervisor, reason="客户确认号码属实")
        assert sorted(result.changed) == sorted([a.pk, b.pk])
        assert [r["id"] for r in result.refused] == [c.pk]
        b.refresh_from_db()
        assert (b.status, b.closed_by, b.close_reason) == (FlagStatus.WAIVED, supervisor, "客户确认号码属实")
        assert b.correction_requested_by == supervisor  # the earlier step is kept

    def test_resolve_by_hand_and_refused_when_closed(self, supervisor):
        flag = flagged_policy()
        resolve_flag(flag=flag, user=supervisor, reason="分公司已电话核实并更正")
        assert flag.status == FlagStatus.RESOLVED and flag.closed_by == supervisor
        with pytest.raises(FlagActionError):
            resolve_flag(flag=flag, user=supervisor, reason="again")
        assert AuditEvent.objects.filter(action="flag_resolve").count() == 1

    def test_nothing_selected_is_an_error(self, supervisor):
        with pytest.raises(FlagActionError):
            request_correction(flags=[], user=supervisor)


class TestFlagListPage:
    def test_supervisor_sees_flags_with_masked_phone_and_counts(self, supervisor_client):
        flag = flagged_policy(policy_no="P-LIST-1")
        ContactFlag.objects.filter(pk=flag.pk).update(detail="13800138000 is the agent's mobile")
        page = supervisor_client.get(reverse("flag_list"))
        html = page.content.decode()
        assert page.status_code == 200
        assert "P-LIST-1" in html and "陈磊" in html
        assert "13800138000" not in html and "138****8000" in html
        assert 'href="/policies/P-LIST-1/"' in html
        assert "Export CSV" in html or "导出" in html

    def test_admin_sees_the_list_but_cannot_waive(self, admin_client_):
        flag = flagged_policy()
        assert admin_client_.get(reverse("flag_list")).status_code == 200
        response = admin_client_.post(
            reverse("flag_action"), {"action": "waive", "flag": [flag.pk], "reason": "x"}
        )
        assert response.status_code == 403
        assert ContactFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN

    def test_agents_are_refused(self, agent_client):
        assert agent_client.get(reverse("flag_list")).status_code == 403
        assert agent_client.get(reverse("flag_export")).status_code == 403

    def test_filters_from_the_query_string(self, supervisor_client):
        flagged_policy(policy_no="P-KEEP", branch_code="B4401")
        flagged_policy(policy_no="P-DROP", branch_code="B1101")
        html = supervisor_client.get(reverse("flag_list"), {"branch": "B4401"}).content.decode()
        assert "P-KEEP" in html and "P-DROP" not in html

    @pytest.mark.parametrize(
        "params",
        [
            {"code": "no_such_code"},
            {"status": "<script>"},
            {"raised_from": "yesterday", "raised_to": "2026-13-45"},
            {"raised_from": "2026-11-05", "raised_to": "2026-11-01"},
            {"page": "abc"},
            {"page": "99999"},
            {"branch": "B" * 500, "agent": "x" * 500, "q": "'; drop table"},
            {"channel": ["agency", "broker"]},
        ],
    )
    def test_junk_query_parameters_never_500(self, supervisor_client, params):
        flagged_policy()
        response = supervisor_client.get(reverse("flag_list"), params)
        assert response.status_code == 200

    def test_bad_filter_shows_an_error(self, supervisor_client):
        html = supervisor_client.get(reverse("flag_list"), {"raised_from": "yesterday"}).content.decode()
        assert 'class="errorlist"' in html

    def test_query_count_does_not_grow_with_the_page(self, supervisor_client, django_assert_max_num_queries):
        for _ in range(30):
            flagged_policy()
        with django_assert_max_num_queries(14):
            assert supervisor_client.get(reverse("flag_list")).status_code == 200

    def test_paginated(self, supervisor_client):
        policy = PolicyFactory()
        for i in range(55):
            ContactFlagFactory(policy=policy, field=f"f{i}")
        first = supervisor_client.get(reverse("flag_list"))
        assert len(first.context["page"].object_list) == 50
        second = supervisor_client.get(reverse("flag_list"), {"page": 2})
        assert len(second.context["page"].object_list) == 5

    def test_bulk_request_correction(self, supervisor_client, supervisor):
        a, b = flagged_policy(), flagged_policy()
        response = supervisor_client.post(
            reverse("flag_action"),
            {"action": "request_correction", "flag": [a.pk, b.pk], "next": "/flags/?status=open"},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == "/flags/?status=open"
        assert set(ContactFlag.objects.values_list("status", flat=True)) == {FlagStatus.CORRECTION_REQUESTED}
        assert "2" in str(list(response.context["messages"])[0])

    def test_bulk_waive_without_reason_or_selection_is_a_clear_error(self, supervisor_client):
        flag = flagged_policy()
        no_reason = supervisor_client.post(
            reverse("flag_action"), {"action": "waive", "flag": [flag.pk]}, follow=True
        )
        assert [m.level_tag for m in no_reason.context["messages"]] == ["error"]
        nothing = supervisor_client.post(
            reverse("flag_action"), {"action": "waive", "reason": "ok"}, follow=True
        )
        messages = [str(m) for m in nothing.context["messages"]]
        assert len(messages) == 1 and messages[0] != str(list(no_reason.context["messages"])[0])
        assert ContactFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN

    def test_bulk_waive_with_reason(self, supervisor_client, supervisor):
        flag = flagged_policy()
        supervisor_client.post(
            reverse("flag_action"), {"action": "waive", "flag": [flag.pk], "reason": "号码经核实为本人"}
        )
        flag.refresh_from_db()
        assert (flag.status, flag.closed_by, flag.close_reason) == (
            FlagStatus.WAIVED,
            supervisor,
            "号码经核实为本人",
        )

    def test_junk_action_posts_never_500(self, supervisor_client):
        for data in (
            {},
            {"action": "explode", "flag": ["1"]},
            {"action": "waive", "flag": ["abc"], "reason": "x"},
            {"action": "waive", "flag": ["999999"], "reason": "x"},
            {"action": "waive", "reason": "x" * 1000, "flag": ["1"]},
        ):
            response = supervisor_client.post(reverse("flag_action"), data)
            assert response.status_code == 302

    def test_next_cannot_leave_the_site(self, supervisor_client):
        flag = flagged_policy()
        response = supervisor_client.post(
            reverse("flag_action"),
            {"action": "request_correction", "flag": [flag.pk], "next": "https://evil.example/"},
        )
        assert response["Location"] == reverse("flag_list")

    def test_web_export_csv_uses_current_filter_and_is_audited(self, supervisor_client, supervisor):
        flagged_policy(policy_no="P-EXP-1", code=FlagCode.ID_INVALID)
        flagged_policy(policy_no="P-EXP-2", code=FlagCode.MOBILE_INVALID)
        response = supervisor_client.get(reverse("flag_export"), {"code": "id_invalid", "format": "csv"})
        body = b"".join(response.streaming_content).decode("utf-8")
        assert body.startswith("\ufeffpolicy_no,party,field,code,detail,status,raised_at")
        assert "P-EXP-1" in body and "P-EXP-2" not in body
        event = AuditEvent.objects.get(action="export_flags")
        assert event.user == supervisor and event.detail["filter"] == {"code": "id_invalid"}

    def test_web_export_xlsx(self, supervisor_client):
        from io import BytesIO

        from openpyxl import load_workbook

        flagged_policy(policy_no="P-X-1")
        response = supervisor_client.get(reverse("flag_export"), {"format": "xlsx"})
        sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:7] == ("policy_no", "party", "field", "code", "detail", "status", "raised_at")
        assert rows[1][0] == "P-X-1"


class TestPolicyPage:
    def _policy(self):
        policy = PolicyFactory(policy_no="P-DETAIL-1")
        applicant = PartyFactory(policy=policy)
        PartyFactory(
            policy=policy,
            role=PartyRole.BENEFICIARY,
            seq=1,
            name="陈小明",
            id_no="110101201001011234",
            mobile="",
            share_percent=100,
            relation="child",
        )
        return policy, applicant

    def test_ids_and_phones_masked_except_last_four(self, supervisor_client):
        policy, _ = self._policy()
        html = supervisor_client.get(reverse("policy_detail", args=[policy.policy_no])).content.decode()
        assert FULL_ID not in html and "**************1436" in html
        assert "110101201001011234" not in html and "陈小明" in html
        assert "13800138000" not in html
        assert "Show full id" not in html and "显示完整" not in html  # this supervisor may not reveal

    def test_permitted_user_reveals_and_it_is_audited(self, client, revealer):
        policy, applicant = self._policy()
        page = client.get(reverse("policy_detail", args=[policy.policy_no])).content.decode()
        assert FULL_ID not in page  # masked until asked for
        url = reverse("reveal_party", args=[policy.policy_no, applicant.pk])
        assert url in page
        html = client.post(url).content.decode()
        assert FULL_ID in html and "110101201001011234" not in html
        event = AuditEvent.objects.get(action="reveal_id")
        assert (event.user, event.object_type, event.object_id) == (revealer, "party", str(applicant.pk))
        assert event.detail["policy_no"] == "P-DETAIL-1"
        fragment = client.post(url, HTTP_HX_REQUEST="true").content.decode()
        assert FULL_ID in fragment and "13800138000" in fragment and "<html" not in fragment
        assert AuditEvent.objects.filter(action="reveal_id").count() == 2

    def test_reveal_refused_without_permission(self, supervisor_client):
        policy, applicant = self._policy()
        response = supervisor_client.post(reverse("reveal_party", args=[policy.policy_no, applicant.pk]))
        assert response.status_code == 403
        assert not AuditEvent.objects.filter(action="reveal_id").exists()

    def test_reveal_of_a_party_of_another_policy_is_404(self, client, revealer):
        policy, _ = self._policy()
        other = PartyFactory()
        assert client.post(reverse("reveal_party", args=[policy.policy_no, other.pk])).status_code == 404

    def test_viewing_a_policy_is_audited(self, supervisor_client, supervisor):
        policy, _ = self._policy()
        supervisor_client.get(reverse("policy_detail", args=[policy.policy_no]))
        assert AuditEvent.objects.filter(
            action="view_policy", user=supervisor, object_id=str(policy.pk)
        ).exists()

    def test_agents_are_refused_unless_they_hold_the_task(self, agent_client, agent_user):
        policy, _ = self._policy()
        url = reverse("policy_detail", args=[policy.policy_no])
        assert agent_client.get(url).status_code == 403
        task = CallbackTaskFactory(policy=policy)
        assert agent_client.get(url).status_code == 403
        task.holder, task.lease_expires_at = agent_user, timezone.now() + dt.timedelta(minutes=10)
        task.save()
        page = agent_client.get(url)
        assert page.status_code == 200 and FULL_ID not in page.content.decode()
        assert (
            agent_client.post(
                reverse("reveal_party", args=[policy.policy_no, policy.parties.first().pk])
            ).status_code
            == 403
        )

    def test_flags_with_history_and_actions(self, supervisor_client, supervisor):
        policy, _ = self._policy()
        flag = ContactFlagFactory(policy=policy, code=FlagCode.PHONE_IS_AGENT, detail="A000001")
        waived = ContactFlagFactory(
            policy=policy, code=FlagCode.ADDRESS_INCOMPLETE, field="applicant_address"
        )
        request_correction(flags=[waived], user=supervisor)
        waive_flags(flags=[waived], user=supervisor, reason="地址为乡村地址,已核实")
        html = supervisor_client.get(reverse("policy_detail", args=[policy.policy_no])).content.decode()
        assert "A000001" in html and "地址为乡村地址,已核实" in html and "测试" in html
        assert html.count('name="action" value="waive"') == 1  # only the live flag can still be acted on
        supervisor_client.post(
            reverse("flag_action"),
            {
                "action": "resolve",
                "flag": [flag.pk],
                "reason": "已更正",
                "next": reverse("policy_detail", args=[policy.policy_no]),
            },
        )
        flag.refresh_from_db()
        assert flag.status == FlagStatus.RESOLVED

    def test_task_summary_when_there_is_one(self, supervisor_client):
        policy, _ = self._policy()
        url = reverse("policy_detail", args=[policy.policy_no])
        assert supervisor_client.get(url).context["task"] is None
        CallbackTaskFactory(policy=policy, attempts=2)
        assert supervisor_client.get(url).context["task"].attempts == 2

    def test_unknown_policy_is_404(self, supervisor_client):
        assert supervisor_client.get(reverse("policy_detail", args=["NOPE"])).status_code == 404


class TestFlagsApi:
    @pytest.fixture
    def api(self, client, supervisor_user):
        token = Token.objects.create(user=supervisor_user)
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
        return client

    def test_list_with_filters_and_masking(self, api):
        keep = flagged_policy(policy_no="P-API-1", code=FlagCode.PHONE_SHARED, branch_code="B4403")
        ContactFlag.objects.filter(pk=keep.pk).update(detail="+8613800138000 given by 3 applicants")
        flagged_policy(policy_no="P-API-2", code=FlagCode.ID_INVALID)
        data = api.get("/api/v1/flags", {"code": "phone_shared", "branch": "B4403"}).json()
        assert data["count"] == 1
        item = data["results"][0]
        assert (item["policy_no"], item["code"], item["status"], item["applicant_name"]) == (
            "P-API-1",
            "phone_shared",
            "open",
            "陈磊",
        )
        assert "13800138000" not in item["detail"]
        assert AuditEvent.objects.filter(action="api_list_flags").exists()

    def test_paginated(self, api):
        policy = PolicyFactory()
        for i in range(7):
            ContactFlagFactory(policy=policy, field=f"f{i}")
        data = api.get("/api/v1/flags", {"page_size": 5, "page": 2}).json()
        assert data["count"] == 7 and len(data["results"]) == 2

    @pytest.mark.parametrize(
        "params,field",
        [
            ({"code": "nope"}, "code"),
            ({"status": "closed"}, "status"),
            ({"raised_from": "soon"}, "raised_from"),
            ({"raised_from": "2026-11-05", "raised_to": "2026-11-01"}, "raised_to"),
            ({"page": "abc"}, "page"),
            ({"page_size": "0"}, "page_size"),
            ({"channel": "fax"}, "channel"),
        ],
    )
    def test_bad_filters_are_400_with_field_messages(self, api, params, field):
        response = api.get("/api/v1/flags", params)
        assert response.status_code == 400
        assert field in response.json()["errors"]

    def test_agents_are_refused_and_anonymous_must_authenticate(self, client, agent_user):
        assert client.get("/api/v1/flags").status_code == 401
        token = Token.objects.create(user=agent_user)
        assert client.get("/api/v1/flags", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403

    def test_request_correction_and_waive(self, api):
        a, b = flagged_policy(), flagged_policy()
        first = api.post(
            "/api/v1/flags/request-correction", {"ids": [a.pk, 999999]}, content_type="application/json"
        )
        assert first.status_code == 200
        assert first.json()["changed"] == [a.pk] and first.json()["refused"][0]["id"] == 999999
        second = api.post(
            "/api/v1/flags/waive", {"ids": [a.pk, b.pk], "reason": "已核实"}, content_type="application/json"
        )
        assert sorted(second.json()["changed"]) == sorted([a.pk, b.pk])
        again = api.post("/api/v1/flags/request-correction", {"ids": [a.pk]}, content_type="application/json")
        assert again.json()["changed"] == [] and again.json()["refused"][0]["status"] == "waived"

    @pytest.mark.parametrize(
        "url,body,field",
        [
            ("/api/v1/flags/waive", {"ids": [1]}, "reason"),
            ("/api/v1/flags/waive", {"ids": [1], "reason": "  "}, "reason"),
            ("/api/v1/flags/request-correction", {"ids": []}, "ids"),
            ("/api/v1/flags/request-correction", {"ids": ["x"]}, "ids"),
            ("/api/v1/flags/request-correction", {}, "ids"),
        ],
    )
    def test_bad_action_bodies_are_400(self, api, url, body, field):
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == 400 and field in response.json()["errors"]

    def test_malformed_json_is_400(self, api):
        response = api.post("/api/v1/flags/waive", "{not json", content_type="application/json")
        assert response.status_code == 400

    def test_admin_may_read_but_not_act(self, client, admin_user):
        token = Token.objects.create(user=admin_user)
        auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        assert client.get("/api/v1/flags", **auth).status_code == 200
        response = client.post(
            "/api/v1/flags/request-correction", {"ids": [1]}, content_type="application/json", **auth
        )
        assert response.status_code == 403

    def test_schema_documents_the_flag_endpoints(self, supervisor_client):
        schema = supervisor_client.get("/api/schema/", {"format": "json"}).json()
        assert {"/api/v1/flags", "/api/v1/flags/waive", "/api/v1/flags/request-correction"} <= set(
            schema["paths"]
        )
        params = {p["name"] for p in schema["paths"]["/api/v1/flags"]["get"]["parameters"]}
        assert {"code", "status", "branch", "channel", "agent", "raised_from", "raised_to", "page"} <= params


def test_demo_step_works_some_flags_and_is_idempotent(supervisor_user):
    from collections import Counter

    from callback.demo import flags as demo_flags

    for _ in range(12):
        flagged_policy()
    users = {"supervisor": supervisor_user}
    demo_flags.seed(users)
    first = Counter(ContactFlag.objects.values_list("status", flat=True))
    demo_flags.seed(users)
    assert Counter(ContactFlag.objects.values_list("status", flat=True)) == first
    assert first == {"open": 4, "correction_requested": 5, "waived": 2, "resolved": 1}
    assert ContactFlag.objects.filter(status=FlagStatus.WAIVED).exclude(close_reason="").count() == 2


def test_demo_step_without_flags_does_nothing(supervisor_user):
    from callback.demo import flags as demo_flags

    demo_flags.seed({"supervisor": supervisor_user})
    assert not ContactFlag.objects.exists()


def test_roles_used_here_exist(roles):
    assert set(roles) == {AGENT, SUPERVISOR, ADMIN}
