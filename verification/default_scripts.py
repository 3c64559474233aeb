"""The default free-look callback scripts, loaded by migration 0003 (and by tests that flush the db).

What a free-look callback must confirm (《人身保险客户信息真实性管理暂行办法》 and the sales-conduct
rules): the applicant in person; phone and address are the applicant's own; the applicant signed the
documents personally; received the policy; read the terms; understands the product, term, premium,
frequency and payment years; knows the free-look right and the loss on surrender after it. Extra
questions for bancassurance (insurance, not a deposit or wealth product), for participating,
universal and investment-linked products (returns are not guaranteed; risk statement copied by hand)
and for applicants aged 60 or more (understood the sale; whether a family member was present).

Every combination of the three extras is its own script, so the most specific one always carries all
the questions a policy needs.
"""

from itertools import combinations

from .scripts import QuestionSpec

Q = QuestionSpec

END_IDENTITY = {"on_fail": "end", "fail_outcome": "failed_identity"}


def explained(key: str) -> QuestionSpec:
    """The follow-up to a "do you understand" question: the agent explains, then asks again."""
    return Q(
        f"{key}_explained",
        "yes_no",
        "我再为您说明一下：……（请按条款和产品说明书向客户解释）。经过刚才的说明，请问您现在清楚了吗？",
        "Let me explain again: … (explain from the terms and the product description). "
        "Is it clear to you now?",
        is_follow_up=True,
    )


def understood(key: str, zh: str, en: str) -> list[QuestionSpec]:
    return [Q(key, "yes_no", zh, en, on_fail="follow_up", follow_up_key=f"{key}_explained"), explained(key)]


OPENING = [
    Q(
        "is_applicant",
        "yes_no",
        "您好，我是保险公司客服中心的回访专员{caller_name}。请问您是{applicant_salutation}（{applicant_name}）本人吗？",
        "Hello, this is {caller_name}, callback officer of the insurer's service centre. "
        "Am I speaking with {applicant_name} in person?",
        on_fail="end",
        fail_outcome="wrong_number",
    ),
    Q(
        "identity",
        "identity",
        "为了保护您的信息安全，请您说一下您的出生日期和身份证号码的后六位。",
        "To protect your information, please tell me your date of birth and the last six characters of "
        "your id number.",
        choices=["birth_date", "id_last6"],
        **END_IDENTITY,
    ),
    Q(
        "phone_own",
        "yes_no",
        "我们现在拨打的是您投保时留的联系电话，请问这个号码是您本人在使用吗？",
        "We are calling the number you gave when you applied. Is this number your own?",
        on_fail="flag",
        fail_flag="callback_wrong_number",
        flag_field="mobile",
    ),
    Q(
        "address_own",
        "yes_no",
        "请问您投保时填写的联系地址是您本人的地址吗？",
        "Is the contact address on your application your own address?",
        on_fail="flag",
        fail_flag="address_is_outlet",
        flag_field="address",
    ),
    Q(
        "signed_personally",
        "yes_no",
        "请问投保单、保单回执、风险提示书和需求分析问卷是否都由您本人亲笔签名？",
        "Did you sign the application, the policy receipt, the risk notice and the needs-analysis "
        "questionnaire yourself?",
    ),
]
RISK_STATEMENT = [
    Q(
        "risk_statement_copied",
        "yes_no",
        "请问投保单上的风险提示语句是否由您本人亲笔抄录？",
        "Did you copy the risk statement on the application in your own hand?",
    ),
]
MIDDLE = [
    Q(
        "policy_received",
        "choice",
        "请问您是否已经收到保险合同？是纸质保单还是电子保单？",
        "Have you received the policy? On paper or electronically?",
        choices=["已收到纸质保单", "已收到电子保单", "尚未收到"],
        passing_answers=["已收到纸质保单", "已收到电子保单"],
    ),
    Q(
        "terms_read",
        "yes_no",
        "请问您是否已经阅读了保险条款和产品说明书？",
        "Have you read the policy terms and the product description?",
    ),
    *understood(
        "product_understood",
        "您投保的是{product_name}，属于{product_type}产品，保险期间为{term}。请问您是否了解该产品的保险责任和责任免除？",
        "You bought {product_name}, a {product_type} product, covering {term}. Do you understand what it "
        "covers and what it excludes?",
    ),
    *understood(
        "premium_understood",
        "您的保费为每期{premium}元，交费方式为{payment_frequency}，交费年期为{payment_years}年。请问您是否清楚？",
        "Your premium is CNY {premium} per payment, paid {payment_frequency}, for {payment_years} years. "
        "Is that clear to you?",
    ),
]
BANCASSURANCE = understood(
    "not_a_deposit",
    "请问您是否清楚，您购买的是保险产品，不是银行存款，也不是银行理财产品？",
    "Do you know that you bought an insurance product, not a bank deposit and not a wealth-management "
    "product?",
)
NOT_GUARANTEED = understood(
    "returns_not_guaranteed",
    "您购买的是{product_type}产品，其分红、结算利益或投资收益是不确定的，不保证收益。请问您是否清楚？",
    "Your product is {product_type}: its dividends, credited interest or investment returns are not "
    "guaranteed. Is that clear to you?",
)
FREE_LOOK = understood(
    "free_look_known",
    "您的保单有{free_look_days}天犹豫期，至{free_look_end}止。犹豫期内退保，我们退还您已交的保费；"
    "犹豫期过后退保，只能退还保单的现金价值，可能会有一定损失。请问您是否清楚？",
    "Your policy has a free-look period of {free_look_days} days, until {free_look_end}. If you cancel in it "
    "you get your premium back; after it, only the cash value, which may mean a loss. Is that clear to you?",
)
SENIOR = [
    Q(
        "senior_understood",
        "yes_no",
        "请问销售人员向您介绍这款产品时，您是否都听清楚、理解了？",
        "When the salesperson presented the product, did you hear and understand everything?",
    ),
    Q(
        "family_present",
        "choice",
        "请问投保时是否有您的家人在场？",
        "Was a member of your family present when you applied?",
        choices=["有家人在场", "没有家人在场"],
        required=False,
    ),
]
CLOSING = [
    Q(
        "customer_questions",
        "text",
        "请问您对这份保单还有其他疑问或意见吗？（请记录客户原话，没有请填“无”）如有疑问，可拨打客服热线{insurer_hotline}。",
        "Do you have any other question about this policy? (Write down what the customer said, or “none”.) "
        "Our hotline is {insurer_hotline}.",
        required=False,
    ),
]

# The back book's contact-verification campaign (通知 二(三)): no free-look questions; confirm the
# applicant, that the phone and address on file are their own and current, and record corrections.
CONTACT_VERIFICATION_CODE = "contact-verification"
CONTACT_VERIFICATION = [
    *OPENING[:4],  # the applicant in person, identity, phone and address their own
    Q(
        "contact_current",
        "yes_no",
        "请问您现在的手机号码和联系地址还是我们系统中登记的这些吗？",
        "Are your mobile number and contact address still the ones we have on file?",
        on_fail="follow_up",
        follow_up_key="contact_correction",
    ),
    Q(
        "contact_correction",
        "text",
        "请您告诉我们您现在的手机号码和联系地址，我们会为您更新。（请记录客户提供的新联系方式）",
        "Please tell us your current mobile number and address and we will update them. "
        "(Write down the new contact data.)",
        is_follow_up=True,
        required=False,
    ),
    *CLOSING,
]


def contact_verification_script() -> dict:
    return {
        "code": CONTACT_VERIFICATION_CODE,
        "name": "客户信息核实（存量保单）",
        "product_types": [],
        "channels": [],
        "min_age": None,
        "purpose": "contact_verification",
        "questions": [
            QuestionSpec(**{**q.__dict__, "order": (i + 1) * 10}) for i, q in enumerate(CONTACT_VERIFICATION)
        ],
    }


EXTRAS = {
    "banca": {"channels": ["bancassurance"], "name": "银保"},
    "not-guaranteed": {
        "product_types": ["participating", "universal", "investment_linked"],
        "name": "分红/万能/投连",
    },
    "senior": {"min_age": 60, "name": "60岁及以上"},
}


def questions_for(extras: tuple[str, ...]) -> list[QuestionSpec]:
    questions = list(OPENING)
    if "not-guaranteed" in extras:
        questions += RISK_STATEMENT
    questions += MIDDLE
    if "banca" in extras:
        questions += BANCASSURANCE
    if "not-guaranteed" in extras:
        questions += NOT_GUARANTEED
    questions += FREE_LOOK
    if "senior" in extras:
        questions += SENIOR
    questions += CLOSING
    return [QuestionSpec(**{**q.__dict__, "order": (i + 1) * 10}) for i, q in enumerate(questions)]


def default_scripts() -> list[dict]:
    """Each default script: code, name, applicability and questions."""
    result = []
    names = list(EXTRAS)
    for size in range(len(names) + 1):
        for extras in combinations(names, size):
            rule = {"product_types": [], "channels": [], "min_age": None}
            for extra in extras:
                rule.update({k: v for k, v in EXTRAS[extra].items() if k != "name"})
            label = " · ".join(EXTRAS[e]["name"] for e in extras) or "通用"
            result.append(
                {
                    "code": "-".join(("free-look", *extras)) if extras else "free-look",
                    "name": f"犹豫期回访（{label}）",
                    **rule,
                    "questions": questions_for(extras),
                }
            )
    return result


def install(Script, ScriptVersion, Question, *, published_at=None, specs: list[dict] | None = None) -> int:
    """Create the default scripts that do not exist yet, each with a published version 1.

    Takes the model classes so the data migration can pass its historical models. Returns how many
    scripts it created. Without `specs`: the free-look scripts and, once the model has a purpose, the
    contact-verification script.
    """
    if specs is None:
        has_purpose = any(f.name == "purpose" for f in Script._meta.get_fields())
        specs = default_scripts() + ([contact_verification_script()] if has_purpose else [])
    created = 0
    for spec in specs:
        if Script.objects.filter(code=spec["code"]).exists():
            continue
        extra = {"purpose": spec["purpose"]} if "purpose" in spec else {}
        script = Script.objects.create(
            code=spec["code"],
            name=spec["name"],
            product_types=spec["product_types"],
            channels=spec["channels"],
            min_age=spec["min_age"],
            **extra,
        )
        version = ScriptVersion.objects.create(script=script, number=1, status="draft")
        Question.objects.bulk_create(
            [
                Question(
                    version=version,
                    order=q.order,
                    key=q.key,
                    kind=q.kind,
                    text_zh=q.text_zh,
                    text_en=q.text_en,
                    choices=q.choices,
                    passing_answers=q.passing_answers,
                    on_fail=q.on_fail,
                    fail_outcome=q.fail_outcome,
                    fail_flag=q.fail_flag,
                    flag_field=q.flag_field,
                    follow_up_key=q.follow_up_key,
                    is_follow_up=q.is_follow_up,
                    required=q.required,
                )
                for q in spec["questions"]
            ]
        )
        # Published through a queryset update: the model's immutability guard is for later edits.
        ScriptVersion.objects.filter(pk=version.pk).update(status="published", published_at=published_at)
        created += 1
    return created
