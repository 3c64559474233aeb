"""The vocabulary of the interchange formats (shared FORMATS.md): codes, Chinese labels, flag codes.

The English code is what Huifang stores; the Chinese label in the `label_zh` map is accepted on
intake too. Labels shown in the UI go through gettext.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductType(models.TextChoices):
    TRADITIONAL = "traditional", _("Traditional")
    PARTICIPATING = "participating", _("Participating")
    UNIVERSAL = "universal", _("Universal")
    INVESTMENT_LINKED = "investment_linked", _("Investment-linked")
    HEALTH = "health", _("Health")
    ANNUITY = "annuity", _("Annuity")
    ACCIDENT = "accident", _("Accident")


class PaymentFrequency(models.TextChoices):
    SINGLE = "single", _("Single premium")
    ANNUAL = "annual", _("Annual")
    SEMIANNUAL = "semiannual", _("Semi-annual")
    QUARTERLY = "quarterly", _("Quarterly")
    MONTHLY = "monthly", _("Monthly")


class Channel(models.TextChoices):
    AGENCY = "agency", _("Agency")
    BANCASSURANCE = "bancassurance", _("Bancassurance")
    BROKER = "broker", _("Broker")
    TELEMARKETING = "telemarketing", _("Telemarketing")
    ONLINE = "online", _("Online")


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Relation(models.TextChoices):
    SELF = "self", _("Self")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    OTHER = "other", _("Other")


class IdType(models.TextChoices):
    ID_CARD = "id_card", _("Resident identity card")
    HOUSEHOLD_REGISTER = "household_register", _("Household register")
    PASSPORT = "passport", _("Passport")
    HK_MACAU_PERMIT = "hk_macau_permit", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card")
    MILITARY = "military", _("Military officer card")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    OTHER = "other", _("Other")


class AgentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    INSURED = "insured", _("Insured")
    BENEFICIARY = "beneficiary", _("Beneficiary")
    SALES = "sales", _("Salesperson and outlet")


class FlagCode(models.TextChoices):
    MISSING_FIELD = "missing_field", _("Required field missing")
    MOBILE_INVALID = "mobile_invalid", _("Invalid mobile number")
    LANDLINE_INVALID = "landline_invalid", _("Invalid landline number")
    ADDRESS_INCOMPLETE = "address_incomplete", _("Incomplete address")
    ID_INVALID = "id_invalid", _("Invalid id number")
    ID_BIRTH_MISMATCH = "id_birth_mismatch", _("Birth date differs from id number")
    ID_GENDER_MISMATCH = "id_gender_mismatch", _("Gender differs from id number")
    RELATION_INCONSISTENT = "relation_inconsistent", _("Relation contradicts the data")
    PHONE_IS_AGENT = "phone_is_agent", _("Phone belongs to a sales agent")
    PHONE_IS_OUTLET = "phone_is_outlet", _("Phone belongs to an outlet")
    PHONE_IS_COMPANY = "phone_is_company", _("Phone is the company's own")
    PHONE_SHARED = "phone_shared", _("Phone shared by different applicants")
    ADDRESS_IS_OUTLET = "address_is_outlet", _("Address is an outlet's or branch's")
    AGENT_UNKNOWN = "agent_unknown", _("Salesperson unknown")
    AGENT_LEFT = "agent_left", _("Salesperson had left")
    AGENT_NAME_MISMATCH = "agent_name_mismatch", _("Salesperson name differs from registry")
    OUTLET_UNKNOWN = "outlet_unknown", _("Outlet unknown")
    CALLBACK_WRONG_NUMBER = "callback_wrong_number", _("Callback reached a wrong number")
    CALLBACK_AGENT_ANSWERED = "callback_agent_answered", _("Callback answered by sales staff")
    CALLBACK_UNREACHABLE = "callback_unreachable", _("Applicant unreachable in the free-look period")
    TERM_UNREADABLE = "term_unreadable", _("Term cannot be read: callback scope unknown")


class QuestionKind(models.TextChoices):
    """What a script question asks for (Question.kind)."""

    YES_NO = "yes_no", _("Yes / no")
    CHOICE = "choice", _("Single choice")
    DATE = "date", _("Date")
    TEXT = "text", _("Free text")
    IDENTITY = "identity", _("Identity check")


class Outcome(models.TextChoices):
    """How an agent closes a call attempt."""

    VERIFIED = "verified", _("Verified")
    VERIFIED_WITH_ISSUES = "verified_with_issues", _("Verified with issues")
    FAILED_IDENTITY = "failed_identity", _("Identity not confirmed")
    REFUSED = "refused", _("Refused")
    WRONG_NUMBER = "wrong_number", _("Wrong number or out of service")
    AGENT_ANSWERED = "agent_answered", _("Answered by sales staff")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    CALLBACK_REQUESTED = "callback_requested", _("Customer asked for a later call")
    HUNG_UP = "hung_up", _("Hung up")


# Chinese labels accepted on intake, as written in FORMATS.md.
LABELS_ZH: dict[type[models.TextChoices], dict[str, str]] = {
    ProductType: {
        "传统型": "traditional",
        "分红型": "participating",
        "万能型": "universal",
        "投资连结型": "investment_linked",
        "健康险": "health",
        "年金": "annuity",
        "意外险": "accident",
    },
    PaymentFrequency: {
        "趸交": "single",
        "年交": "annual",
        "半年交": "semiannual",
        "季交": "quarterly",
        "月交": "monthly",
    },
    Channel: {
        "个险": "agency",
        "银保": "bancassurance",
        "经代": "broker",
        "电销": "telemarketing",
        "网销": "online",
    },
    Gender: {"男": "M", "女": "F"},
    Relation: {"本人": "self", "配偶": "spouse", "子女": "child", "父母": "parent", "其他": "other"},
    IdType: {
        "居民身份证": "id_card",
        "身份证": "id_card",
        "户口簿": "household_register",
        "护照": "passport",
        "港澳居民来往内地通行证": "hk_macau_permit",
        "台湾居民来往大陆通行证": "taiwan_permit",
        "外国人永久居留身份证": "foreign_permanent",
        "军官证": "military",
        "出生医学证明": "birth_certificate",
        "其他": "other",
    },
    AgentStatus: {"在职": "active", "离职": "left"},
}


def parse_choice(enum: type[models.TextChoices], raw: str) -> str | None:
    """The stored code for `raw` (English code or Chinese label), or None when it is neither."""
    value = (raw or "").strip()
    if value in enum.values:
        return value
    if value.lower() in enum.values:
        return value.lower()
    return LABELS_ZH.get(enum, {}).get(value)
