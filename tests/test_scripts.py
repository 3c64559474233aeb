"""Verification scripts: placeholders, every question kind, branching, identity, publishing, selection,
and the immutability of published versions."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from verification import scripts
from verification.default_scripts import default_scripts
from verification.models import Question, Script, ScriptVersion
from verification.scripts import QuestionSpec as Q
from verification.scripts import ScriptError
from verification.vocab import FlagCode, Outcome

CONTEXT = {"applicant_name": "陈磊", "product_name": "国寿福终身寿险", "premium": "5,000.00", "term": "终身"}


class TestPlaceholders:
    def test_known_placeholders_are_filled_from_the_policy(self):
        text = "您好，请问是{applicant_name}吗？您投保的{product_name}每期保费{premium}元，保险期间{term}。"
        assert (
            scripts.render(text, CONTEXT)
            == "您好，请问是陈磊吗？您投保的国寿福终身寿险每期保费5,000.00元，保险期间终身。"
        )

    def test_a_value_the_policy_lacks_shows_as_a_dash_not_an_error(self):
        assert scripts.render("销售人员{agent_name}", {"agent_name": ""}) == "销售人员——"
        assert scripts.render("热线{insurer_hotline}", {}) == "热线——"

    def test_unknown_placeholder_is_rejected_with_the_known_ones_listed(self):
        with pytest.raises(ScriptError) as exc:
            scripts.check_placeholders("请问是{applicant_nmae}吗？")
        assert "{applicant_nmae}" in str(exc.value)
        assert "applicant_name" in str(exc.value)

    @pytest.mark.parametrize("text", ["保费{premium", "保费}元", "{premium:.2f}", "{0}", "{}"])
    def test_malformed_braces_are_rejected(self, text):
        with pytest.raises(ScriptError):
            scripts.check_placeholders(text)

    def test_every_placeholder_has_a_value_in_the_documented_list(self):
        for name in (
            "applicant_name",
            "product_name",
            "product_type",
            "premium",
            "payment_frequency",
            "payment_years",
            "term",
            "agent_name",
            "free_look_end",
            "insurer_hotline",
        ):
            assert name in scripts.PLACEHOLDERS


class TestQuestionKinds:
    def test_yes_no_passes_on_yes_by_default_and_accepts_shortcuts(self):
        q = Q("signed", "yes_no", "是否本人签名？")
        assert scripts.evaluate(q, "yes").passed is True
        assert scripts.evaluate(q, "Y").value == "yes"
        result = scripts.evaluate(q, "n")
        assert (result.value, result.passed) == ("no", False)
        with pytest.raises(ScriptError):
            scripts.evaluate(q, "maybe")

    def test_yes_no_can_pass_on_no(self):
        q = Q("agent_present", "yes_no", "回访时销售人员是否在旁？", passing_answers=["no"])
        assert scripts.evaluate(q, "no").passed and not scripts.evaluate(q, "yes").passed

    def test_single_choice_by_label_or_by_number_key(self):
        q = Q(
            "received",
            "choice",
            "是否收到保单？",
            choices=["纸质", "电子", "未收到"],
            passing_answers=["纸质", "电子"],
        )
        assert scripts.evaluate(q, "电子").passed
        assert scripts.evaluate(q, "3").value == "未收到" and not scripts.evaluate(q, "3").passed
        with pytest.raises(ScriptError):
            scripts.evaluate(q, "7")

    def test_date_is_parsed_as_people_type_it(self):
        q = Q("received_on", "date", "哪天收到保单？")
        for typed in ("2026-11-20", "2026/11/20", "20261120", "2026年11月20日"):
            assert scripts.evaluate(q, typed).value == "2026-11-20"
        with pytest.raises(ScriptError):
            scripts.evaluate(q, "2026-02-30")

    def test_free_text_is_kept_as_said(self):
        q = Q("questions", "text", "还有疑问吗？", required=False)
        assert scripts.evaluate(q, "  想确认一下保单贷款  ").value == "想确认一下保单贷款"
        with pytest.raises(ScriptError):
            scripts.evaluate(q, "   ")


class TestIdentityCheck:
    REFERENCE = {"birth_date": dt.date(1960, 9, 8), "id_no": "13042619600908143x"}
    QUESTION = Q("identity", "identity", "请说出生日期和身份证后六位。", choices=["birth_date", "id_last6"])

    def test_match_when_what_the_customer_stated_agrees_with_the_policy(self):
        result = scripts.evaluate(
            self.QUESTION, {"birth_date": "1960年9月8日", "id_last6": "08143X"}, identity=self.REFERENCE
        )
        assert result.passed
        assert result.value == {"result": "match", "parts": {"birth_date": True, "id_last6": True}}

    def test_mismatch_says_which_part_without_revealing_the_id_number(self):
        result = scripts.evaluate(
            self.QUESTION, {"birth_date": "1960-09-08", "id_last6": "081430"}, identity=self.REFERENCE
        )
        assert not result.passed
        assert result.value == {"result": "mismatch", "parts": {"birth_date": True, "id_last6": False}}
        assert "143X" not in str(result) and "143x" not in str(result)

    def test_every_part_must_be_stated(self):
        with pytest.raises(ScriptError):
            scripts.evaluate(
                self.QUESTION, {"birth_date": "1960-09-08", "id_last6": ""}, identity=self.REFERENCE
            )
        with pytest.raises(ScriptError):
            scripts.evaluate(self.QUESTION, "19600908", identity=self.REFERENCE)

    def test_a_policy_without_an_id_number_never_matches(self):
        result = scripts.evaluate(
            self.QUESTION,
            {"birth_date": "1960-09-08", "id_last6": "000000"},
            identity={"birth_date": dt.date(1960, 9, 8), "id_no": ""},
        )
        assert not result.passed


def answer(key, passed, value=None):
    return {"key": key, "answer": value, "passed": passed, "text": key}


BRANCHING = [
    Q("identity", "identity", "身份", on_fail="end", fail_outcome="failed_identity"),
    Q(
        "phone_own",
        "yes_no",
        "号码是本人的吗？",
        on_fail="flag",
        fail_flag="callback_wrong_number",
        flag_field="mobile",
    ),
    Q("understood", "yes_no", "是否了解？", on_fail="follow_up", follow_up_key="understood_explained"),
    Q("understood_explained", "yes_no", "说明后清楚了吗？", is_follow_up=True),
    Q("signed", "yes_no", "是否本人签名？"),
    Q("remarks", "text", "其他意见", required=False),
]


class TestBranching:
    def test_questions_are_read_in_order_and_follow_ups_skipped_when_answers_pass(self):
        state = scripts.walk(BRANCHING, [answer("identity", True), answer("phone_own", True)])
        assert state.current_key == "understood"
        done = scripts.walk(
            BRANCHING, [answer(k, True) for k in ("identity", "phone_own", "understood", "signed", "remarks")]
        )
        assert done.complete and done.all_passed and done.suggested_outcome == "verified"
        assert [s.question.key for s in done.steps] == [
            "identity",
            "phone_own",
            "understood",
            "signed",
            "remarks",
        ]

    def test_failing_answer_that_ends_the_call_names_the_outcome(self):
        state = scripts.walk(BRANCHING, [answer("identity", False), answer("phone_own", True)])
        assert state.ended_with == "failed_identity" and state.ended_by == "identity"
        assert not state.allows("verified") and not state.allows("verified_with_issues")
        assert state.allows("failed_identity") and state.allows("no_answer")
        assert [s.question.key for s in state.steps] == ["identity"]

    def test_failing_answer_that_raises_a_flag_goes_on(self):
        state = scripts.walk(BRANCHING, [answer("identity", True), answer("phone_own", False)])
        assert state.current_key == "understood"
        assert [(q.key, q.fail_flag) for q, _ in state.flags] == [("phone_own", "callback_wrong_number")]

    def test_failing_answer_goes_to_its_follow_up_which_then_decides(self):
        given = [answer("identity", True), answer("phone_own", True), answer("understood", False)]
        assert scripts.walk(BRANCHING, given).current_key == "understood_explained"
        cleared = scripts.walk(
            BRANCHING,
            given + [answer("understood_explained", True), answer("signed", True), answer("remarks", True)],
        )
        assert cleared.all_passed
        still = scripts.walk(
            BRANCHING,
            given + [answer("understood_explained", False), answer("signed", True), answer("remarks", True)],
        )
        assert still.complete and not still.all_passed and still.issues == ["understood_explained"]
        assert still.allows("verified_with_issues") and not still.allows("verified")

    def test_verified_needs_every_question_answered(self):
        state = scripts.walk(BRANCHING, [answer("identity", True)])
        assert not state.allows("verified") and not state.allows("verified_with_issues")
        assert state.suggested_outcome == ""

    def test_an_answer_to_a_question_off_the_path_is_ignored(self):
        state = scripts.walk(BRANCHING, [answer("identity", True), answer("understood_explained", False)])
        assert state.current_key == "phone_own" and not state.issues


class TestConfirmingAnswer:
    """The answers of a customer who confirms everything (the demo's verified calls, the tests' closings)."""

    IDENTITY = {"birth_date": dt.date(1960, 9, 8), "id_no": "130426196009081436"}
    TODAY = dt.date(2026, 11, 25)

    @pytest.mark.parametrize("spec", default_scripts(), ids=lambda spec: spec["code"])
    def test_confirming_every_question_of_a_default_script_verifies_the_call(self, spec):
        questions = spec["questions"]
        by_key = {q.key: q for q in questions}
        entries: list[dict] = []
        state = scripts.walk(questions, entries)
        while not state.complete and not state.ended_with:
            question = by_key[state.current_key]
            stated = scripts.confirming_answer(question, identity=self.IDENTITY, today=self.TODAY)
            result = scripts.evaluate(question, stated, identity=self.IDENTITY)
            entries.append({"key": question.key, "answer": result.value, "passed": result.passed})
            state = scripts.walk(questions, entries)
        assert state.all_passed and state.suggested_outcome == "verified"

    def test_a_question_that_passes_on_no_is_confirmed_with_no(self):
        question = Q("agent_present", "yes_no", "回访时销售人员是否在旁？", passing_answers=["no"])
        assert scripts.confirming_answer(question, identity=self.IDENTITY, today=self.TODAY) == "no"
        assert scripts.evaluate(question, "no").passed


class TestPublishing:
    def test_default_scripts_are_publishable(self):
        for spec in default_scripts():
            assert (
                scripts.publish_errors(spec["questions"], outcomes=Outcome.values, flags=FlagCode.values)
                == []
            )

    def test_no_identity_check_unknown_placeholder_and_branch_to_nowhere_are_named(self):
        errors = scripts.publish_errors(
            [
                Q("greeting", "yes_no", "请问是{applicant_nmae}吗？"),
                Q("understood", "yes_no", "了解吗？", on_fail="follow_up", follow_up_key="explain_again"),
            ]
        )
        text = "\n".join(errors)
        assert "identity check" in text
        assert "{applicant_nmae}" in text
        assert "explain_again" in text

    def test_incomplete_rules_are_refused(self):
        errors = scripts.publish_errors(
            [
                Q("identity", "identity", "身份"),
                Q("ends", "yes_no", "？", on_fail="end"),
                Q("flags", "yes_no", "？", on_fail="flag"),
                Q("pick", "choice", "？", choices=["甲"], passing_answers=["乙"]),
                Q("orphan", "yes_no", "？", is_follow_up=True),
            ],
            outcomes=Outcome.values,
            flags=FlagCode.values,
        )
        assert len(errors) == 5

    def test_a_loop_of_follow_ups_is_refused(self):
        errors = scripts.publish_errors(
            [
                Q("identity", "identity", "身份"),
                Q("a", "yes_no", "？", on_fail="follow_up", follow_up_key="b"),
                Q("b", "yes_no", "？", on_fail="follow_up", follow_up_key="c", is_follow_up=True),
                Q("c", "yes_no", "？", on_fail="follow_up", follow_up_key="b", is_follow_up=True),
            ]
        )
        assert any("loop" in e for e in errors)


def rule(code, product_types=(), channels=(), min_age=None, max_age=None):
    return SimpleNamespace(
        code=code,
        product_types=list(product_types),
        channels=list(channels),
        min_age=min_age,
        max_age=max_age,
    )


class TestSelection:
    SCRIPTS = [
        rule("general"),
        rule("banca", channels=["bancassurance"]),
        rule("not-guaranteed", product_types=["participating", "universal", "investment_linked"]),
        rule("senior", min_age=60),
        rule("banca-senior", channels=["bancassurance"], min_age=60),
    ]

    @pytest.mark.parametrize(
        "product_type,channel,age,expected",
        [
            ("traditional", "agency", 40, "general"),
            ("traditional", "bancassurance", 40, "banca"),
            ("universal", "agency", 40, "not-guaranteed"),
            ("traditional", "agency", 60, "senior"),
            ("traditional", "agency", 59, "general"),
            ("traditional", "bancassurance", 72, "banca-senior"),
            ("traditional", "agency", None, "general"),
        ],
    )
    def test_most_specific_applicable_script_wins(self, product_type, channel, age, expected):
        chosen = scripts.select_script(self.SCRIPTS, product_type=product_type, channel=channel, age=age)
        assert chosen.code == expected

    def test_nothing_applies_means_no_script(self):
        only_banca = [rule("banca", channels=["bancassurance"])]
        assert scripts.select_script(only_banca, product_type="health", channel="agency", age=30) is None

    def test_default_scripts_cover_every_combination_of_extras(self):
        defaults = [
            SimpleNamespace(**{k: v for k, v in s.items() if k != "questions"}, max_age=None)
            for s in default_scripts()
        ]
        by_code = {s["code"]: s for s in default_scripts()}
        chosen = scripts.select_script(
            defaults, product_type="participating", channel="bancassurance", age=66
        )
        keys = [q.key for q in by_code[chosen.code]["questions"]]
        for needed in (
            "identity",
            "phone_own",
            "address_own",
            "signed_personally",
            "risk_statement_copied",
            "policy_received",
            "terms_read",
            "product_understood",
            "premium_understood",
            "not_a_deposit",
            "returns_not_guaranteed",
            "free_look_known",
            "senior_understood",
            "family_present",
        ):
            assert needed in keys
        plain = scripts.select_script(defaults, product_type="health", channel="agency", age=35)
        assert plain.code == "free-look"
        assert "not_a_deposit" not in [q.key for q in by_code["free-look"]["questions"]]

    def test_age_is_counted_in_whole_years(self):
        assert scripts.age_on(dt.date(1966, 11, 26), dt.date(2026, 11, 25)) == 59
        assert scripts.age_on(dt.date(1966, 11, 25), dt.date(2026, 11, 25)) == 60


@pytest.mark.django_db
class TestImmutability:
    def make_draft(self):
        script = Script.objects.create(code="test", name="测试话术")
        version = ScriptVersion.objects.create(script=script, number=1)
        Question.objects.create(
            version=version,
            order=10,
            key="identity",
            kind="identity",
            text_zh="请说出生日期。",
            on_fail="end",
            fail_outcome="failed_identity",
        )
        Question.objects.create(
            version=version, order=20, key="premium", kind="yes_no", text_zh="每期保费{premium}元，清楚吗？"
        )
        return version

    def test_unknown_placeholder_is_refused_when_the_admin_saves(self):
        version = self.make_draft()
        question = Question(
            version=version, order=30, key="bad", kind="yes_no", text_zh="请问是{applicant}吗？"
        )
        with pytest.raises(ValidationError) as exc:
            question.full_clean()
        assert "{applicant}" in str(exc.value)
        with pytest.raises(ValidationError):
            question.save()

    def test_published_version_cannot_change_and_editing_makes_a_new_draft(self, admin_user):
        version = self.make_draft()
        version.publish(user=admin_user)
        question = version.questions.get(key="premium")
        question.text_zh = "改过的文字"
        with pytest.raises(ValidationError):
            question.save()
        with pytest.raises(ValidationError):
            question.delete()
        with pytest.raises(ValidationError):
            Question.objects.create(version=version, order=30, key="extra", kind="yes_no", text_zh="？")
        version.number = 9
        with pytest.raises(ValidationError):
            version.save()

        draft = version.new_draft()
        assert (draft.number, draft.status) == (2, "draft")
        edited = draft.questions.get(key="premium")
        edited.text_zh = "改过的文字"
        edited.save()
        assert version.questions.get(key="premium").text_zh == "每期保费{premium}元，清楚吗？"
        draft.publish(user=admin_user)
        version.refresh_from_db()
        assert (version.status, draft.status) == ("retired", "published")

    def test_unpublishable_draft_stays_a_draft_with_clear_errors(self):
        script = Script.objects.create(code="no-identity", name="缺少身份核验")
        version = ScriptVersion.objects.create(script=script, number=1)
        Question.objects.create(
            version=version,
            order=10,
            key="q",
            kind="yes_no",
            text_zh="？",
            on_fail="follow_up",
            follow_up_key="nowhere",
        )
        with pytest.raises(ValidationError) as exc:
            version.publish()
        assert "identity" in str(exc.value) and "nowhere" in str(exc.value)
        version.refresh_from_db()
        assert version.status == "draft"

    def test_default_scripts_are_installed_and_published(self):
        published = ScriptVersion.objects.filter(status="published", script__code__startswith="free-look")
        assert published.count() == 8
        assert all(v.publish_errors() == [] for v in published)
