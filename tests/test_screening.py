"""Screening: every FORMATS.md flag code raised when it should be, and not when it should not."""

import pytest
from django.test import override_settings

from callback import intake, screening
from callback.models import Agent, ContactFlag, FlagStatus, Party

from .factories.intake import (
    import_rows,
    live_codes,
    register_agent,
    register_company_number,
    register_outlet,
    row,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def registries(db):
    register_agent()
    register_agent(code="A000003", name="孙勇", mobile="15805831819")
    register_outlet()
    register_company_number()
    register_company_number("0311-85201234", "河北分公司总机")


def codes_for(**overrides) -> set[str]:
    import_rows(row(**overrides))
    return live_codes()


class TestMissingField:
    @pytest.mark.parametrize(
        "field",
        [
            "applicant_name",
            "applicant_gender",
            "applicant_birth_date",
            "applicant_id_type",
            "applicant_id_no",
            "applicant_address",
            "insured_relation",
        ],
    )
    def test_blank_required_field(self, registries, field):
        assert "missing_field" in codes_for(**{field: ""})

    def test_no_phone_at_all(self, registries):
        assert codes_for(applicant_mobile="", applicant_phone="") == {"missing_field"}

    def test_insured_fields_required_unless_self(self, registries):
        assert "missing_field" in codes_for(insured_relation="spouse")
        flag = ContactFlag.objects.get(code="missing_field", field="name")
        assert flag.party == "insured"

    def test_negative_self_with_blank_insured(self, registries):
        assert codes_for() == set()

    def test_negative_landline_only_is_a_contact_phone(self, registries):
        assert codes_for(applicant_mobile="", applicant_phone="010-62345678") == set()

    def test_unreadable_gender_is_reported(self, registries):
        assert "missing_field" in codes_for(applicant_gender="X")
        assert ContactFlag.objects.get(field="gender").detail == "unreadable: X"


class TestMobileInvalid:
    def test_too_short(self, registries):
        assert codes_for(applicant_mobile="1801220165") == {"mobile_invalid"}

    def test_unassigned_range(self, registries):
        assert codes_for(applicant_mobile="12345678901") == {"mobile_invalid"}

    @pytest.mark.parametrize("mobile", ["+86 150 2051 3739", "015020513739", "8615020513739"])
    def test_negative_prefixes_and_spaces(self, registries, mobile):
        assert codes_for(applicant_mobile=mobile) == set()


class TestLandlineInvalid:
    def test_without_area_code(self, registries):
        assert codes_for(applicant_phone="31130789") == {"landline_invalid"}

    def test_too_few_digits(self, registries):
        assert codes_for(applicant_phone="021-12345") == {"landline_invalid"}

    def test_negative_with_area_code(self, registries):
        assert codes_for(applicant_phone="020-81903561") == set()


class TestAddressIncomplete:
    @pytest.mark.parametrize("address", ["解放大道88号", "北京市海淀区", "陕西省西安市雁塔区"])
    def test_incomplete(self, registries, address):
        assert codes_for(applicant_address=address) == {"address_incomplete"}

    @pytest.mark.parametrize(
        "address", ["河北省邯郸市涉县索堡镇索堡村", "上海市浦东新区滨江大道17号1栋484室"]
    )
    def test_negative_village_and_municipality(self, registries, address):
        assert codes_for(applicant_address=address) == set()


class TestIdChecks:
    def test_id_invalid_check_digit(self, registries):
        assert codes_for(applicant_id_no="130426196009081437") == {"id_invalid"}

    def test_id_invalid_length(self, registries):
        assert codes_for(applicant_id_no="13042619600908143") == {"id_invalid"}

    def test_negative_other_id_type_is_not_checked(self, registries):
        assert codes_for(applicant_id_type="passport", applicant_id_no="E12345678") == set()

    def test_birth_mismatch(self, registries):
        assert codes_for(applicant_birth_date="1960-09-09") == {"id_birth_mismatch"}

    @pytest.mark.parametrize("date", ["1960/09/08", "19600908"])
    def test_negative_birth_written_other_ways(self, registries, date):
        assert codes_for(applicant_birth_date=date) == set()

    def test_gender_mismatch(self, registries):
        assert codes_for(applicant_gender="F") == {"id_gender_mismatch"}

    def test_negative_gender_in_chinese(self, registries):
        assert codes_for(applicant_gender="男") == set()


class TestRelationInconsistent:
    def test_self_with_a_different_person(self, registries):
        assert codes_for(
            insured_name="林艳",
            insured_gender="M",
            insured_birth_date="1947-08-29",
            insured_id_type="id_card",
            insured_id_no="32010219470829371X",
        ) == {"relation_inconsistent"}

    def test_child_older_than_applicant(self, registries):
        assert codes_for(
            insured_relation="child",
            insured_name="林艳",
            insured_gender="M",
            insured_birth_date="1947-08-29",
            insured_id_type="id_card",
            insured_id_no="32010219470829371X",
        ) == {"relation_inconsistent"}

    def test_negative_parent_older_and_self_repeated(self, registries):
        assert (
            codes_for(
                insured_relation="父母",
                insured_name="林艳",
                insured_gender="M",
                insured_birth_date="1947-08-29",
                insured_id_type="id_card",
                insured_id_no="32010219470829371X",
            )
            == set()
        )
        assert (
            codes_for(
                insured_name="陈磊",
                insured_gender="M",
                insured_birth_date="1960-09-08",
                insured_id_type="id_card",
                insured_id_no="130426196009081436",
            )
            == set()
        )


class TestRegistryMatches:
    def test_phone_is_agent_and_own_agent_detail(self, registries):
        assert codes_for(agent_code="A000003", agent_name="孙勇", applicant_mobile="158 0583 1819") == {
            "phone_is_agent"
        }
        assert "this policy's own" in ContactFlag.objects.get(code="phone_is_agent").detail

    def test_phone_is_other_agent(self, registries):
        assert codes_for(applicant_mobile="+86 158 0583 1819") == {"phone_is_agent"}
        assert ContactFlag.objects.get(code="phone_is_agent").detail == "A000003"

    def test_phone_is_outlet(self, registries):
        assert codes_for(applicant_phone="010-32341057") == {"phone_is_outlet"}

    def test_phone_is_company_hotline_and_switchboard(self, registries):
        assert codes_for(applicant_mobile="95519") == {"phone_is_company", "mobile_invalid"}
        assert codes_for(applicant_mobile="", applicant_phone="0311 85201234") == {"phone_is_company"}

    def test_address_is_outlet(self, registries):
        assert codes_for(applicant_address="北京市海淀区中山路347号24栋2334室") == {"address_is_outlet"}

    def test_negative_other_numbers_and_addresses(self, registries):
        assert codes_for(applicant_phone="010-32341058", applicant_address="北京市海淀区中山路348号") == set()

    def test_agent_unknown(self, registries):
        assert codes_for(agent_code="A999999") == {"agent_unknown"}
        assert codes_for(agent_code="") == {"agent_unknown"}

    def test_agent_name_mismatch(self, registries):
        assert codes_for(agent_name="李超") == {"agent_name_mismatch"}

    def test_outlet_unknown(self, registries):
        assert codes_for(channel="bancassurance") == {"outlet_unknown"}
        assert codes_for(channel="经代", outlet_code="O99999") == {"outlet_unknown"}

    def test_negative_outlet_known_or_not_needed(self, registries):
        assert codes_for(channel="银保", outlet_code="O00001") == set()
        assert codes_for(channel="agency", outlet_code="") == set()


class TestPhoneShared:
    def people(self, count, phone="010-71197935"):
        ids = ["130426196009081436", "110105195801079501", "140105197803231823", "320102198310224085"]
        births = ["1960-09-08", "1958-01-07", "1978-03-23", "1983-10-22"]
        genders = ["M", "F", "F", "F"]
        return [
            row(
                policy_no=f"PS{i}",
                applicant_mobile="",
                applicant_phone=phone,
                applicant_id_no=ids[i],
                applicant_birth_date=births[i],
                applicant_gender=genders[i],
            )
            for i in range(count)
        ]

    def test_three_different_applicants(self, registries):
        import_rows(*self.people(3))
        assert all(live_codes(f"PS{i}") == {"phone_shared"} for i in range(3))

    def test_negative_two_applicants(self, registries):
        import_rows(*self.people(2))
        assert live_codes("PS0") == live_codes("PS1") == set()

    def test_negative_same_person_on_three_policies(self, registries):
        import_rows(*[row(policy_no=f"PS{i}") for i in range(3)])
        assert live_codes("PS0") == set()

    @override_settings(PHONE_SHARED_THRESHOLD=4)
    def test_threshold_is_a_setting(self, registries):
        import_rows(*self.people(3))
        assert live_codes("PS0") == set()
        import_rows(*self.people(4))
        assert live_codes("PS0") == {"phone_shared"}

    def test_correcting_one_resolves_the_others(self, registries):
        import_rows(*self.people(3))
        corrected = self.people(3)
        corrected[2]["applicant_phone"] = "010-62345678"
        import_rows(*corrected)
        assert live_codes("PS0") == set()
        assert ContactFlag.objects.filter(code="phone_shared", status=FlagStatus.RESOLVED).count() == 3


class TestIdempotence:
    def test_rescreen_raises_nothing_twice(self, registries):
        import_rows(row(applicant_mobile="1801220165", agent_name="李超"))
        before = ContactFlag.objects.count()
        result = screening.rescreen()
        assert ContactFlag.objects.count() == before
        assert result["flags_raised"] == {}

    def test_waived_defect_is_not_raised_again(self, registries):
        import_rows(row(agent_name="李超"))
        ContactFlag.objects.update(status=FlagStatus.WAIVED, close_reason="branch confirmed")
        import_rows(row(agent_name="李超", premium="6000.00"))
        assert live_codes() == set()

    def test_callback_flags_are_left_alone(self, registries):
        import_rows(row())
        policy_id = ContactFlag.objects.model.policy.field.related_model.objects.get().id
        ContactFlag.objects.create(
            policy_id=policy_id, party="applicant", field="mobile", code="callback_unreachable"
        )
        import_rows(row(premium="7000.00"))
        assert live_codes() == {"callback_unreachable"}


class TestRegistryRescreen:
    def test_newly_registered_agent_mobile_flags_existing_policies(self, registries):
        import_rows(row(applicant_mobile="13912345678"))
        assert live_codes() == set()
        register_agent(code="A000777", name="新人", mobile="139 1234 5678")
        assert live_codes() == {"phone_is_agent"}

    def test_agent_number_change_resolves(self, registries):
        import_rows(row(applicant_mobile="15805831819"))
        agent = Agent.objects.get(agent_code="A000003")
        agent.mobile = "13000000001"
        agent.save()
        screening.rescreen_registry_change(kind="agent", rows=[agent])
        assert live_codes() == set()
        flag = ContactFlag.objects.get(code="phone_is_agent")
        assert flag.status == FlagStatus.RESOLVED and flag.close_reason == "corrected by import"

    def test_deleting_an_agent_makes_its_policies_unknown(self, registries):
        import_rows(row())
        agent = Agent.objects.get(agent_code="A000001")
        agent.delete()
        screening.rescreen_registry_change(kind="agent", deleted=[agent])
        assert live_codes() == {"agent_unknown"}

    def test_rescreen_single_policy_row_codes(self, registries):
        import_rows(row())
        from callback.models import Party

        Party.objects.filter(role="applicant").update(mobile="123")
        screening.rescreen(policy_ids=list(Party.objects.values_list("policy_id", flat=True)), row_codes=True)
        assert live_codes() == {"mobile_invalid"}


class TestBeneficiaries:
    """A designated beneficiary needs name, gender, birth date, id type and number (FORMATS.md)."""

    def test_gender_and_birth_date_required_where_the_id_type_does_not_carry_them(self, registries):
        import_rows(row(beneficiaries="王芳|passport|E12345678|spouse|100"))
        missing = set(
            ContactFlag.objects.filter(code="missing_field", party="beneficiary").values_list(
                "field", flat=True
            )
        )
        assert missing == {"gender#1", "birth_date#1"}

    def test_given_gender_and_birth_date_satisfy_the_rule(self, registries):
        assert codes_for(beneficiaries="王芳|passport|E12345678|spouse|100|F|1962-03-04") == set()

    def test_a_resident_id_carries_them(self, registries):
        assert codes_for(beneficiaries="王芳|id_card|130104199504135189|child|100") == set()
        party = Party.objects.get(role="beneficiary")
        assert (party.gender, party.birth_date.isoformat()) == ("F", "1995-04-13")

    def test_stated_gender_is_checked_against_the_id(self, registries):
        codes = codes_for(beneficiaries="王芳|id_card|130104199504135189|child|100|M|1995-04-13")
        assert codes == {"id_gender_mismatch"}

    def test_id_type_and_number_required(self, registries):
        import_rows(row(beneficiaries="王芳|||child|100|F|1995-04-13"))
        missing = set(ContactFlag.objects.filter(code="missing_field").values_list("field", flat=True))
        assert missing == {"id_type#1", "id_no#1"}


class TestIdNumbersOfTheFirstGeneration:
    def test_a_fifteen_digit_number_is_flagged_with_its_reason(self, registries):
        import_rows(row(applicant_id_no="130426600908143"))
        flag = ContactFlag.objects.get(code="id_invalid")
        assert (flag.field, flag.detail) == ("id_no", "first_generation")


class TestAgentLeft:
    """`agent_left`: the registry says the salesperson left, and the policy was issued after `left_on`
    (or `left_on` is blank). `left_on` is an optional column of the agents file."""

    def import_agents(self, tmp_path, **values):
        agent = {"agent_code": "A000001", "name": "徐磊", "mobile": "18628898923", "phones": ""}
        agent |= {"branch_code": "B1101", "channel": "agency", "outlet_code": "", "status": "active"}
        agent |= values
        path = write_csv(tmp_path / "agents.csv", [agent], columns=list(agent))
        return intake.import_registry(kind="agents", path=path)

    def test_policy_issued_after_the_agent_left(self, tmp_path):
        result = self.import_agents(tmp_path, status="left", left_on="2026-11-01")
        assert result.unknown_columns == [] and Agent.objects.get().left_on.isoformat() == "2026-11-01"
        assert codes_for(issue_date="2026-11-03") == {"agent_left"}
        assert ContactFlag.objects.get(code="agent_left").detail == "A000001 left on 2026-11-01"

    def test_policy_issued_before_the_agent_left(self, tmp_path):
        self.import_agents(tmp_path, status="left", left_on="2026/11/05")
        assert codes_for(issue_date="2026-11-03") == set()

    def test_left_without_a_date(self, tmp_path):
        self.import_agents(tmp_path, status="left", left_on="")
        assert codes_for() == {"agent_left"}

    def test_registry_change_flags_the_policies_already_imported(self, tmp_path):
        self.import_agents(tmp_path)
        assert codes_for(issue_date="2026-11-03") == set()
        result = self.import_agents(tmp_path, status="left", left_on="2026-11-02")
        assert result.flags_raised == {"agent_left": 1} and live_codes() == {"agent_left"}

    def test_unreadable_left_on_rejects_the_row(self, tmp_path):
        result = self.import_agents(tmp_path, status="left", left_on="soon")
        assert result.rejected == 1 and not Agent.objects.exists()
