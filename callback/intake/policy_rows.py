"""One row of a policies file → the rows staged for it: pure Python, no database (worker processes run
it). The staged rows are named tuples whose fields are the staging tables' columns, in order."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from django.utils.translation import gettext as _

from verification import terms, validators
from verification.vocab import (
    Channel,
    Gender,
    IdType,
    PaymentFrequency,
    ProductType,
    Relation,
    parse_choice,
)

from .. import screening
from ..models import FLAG_DETAIL_LENGTH
from .files import nul_in_row

POLICY_COLUMNS = (
    "policy_no",
    "product_code",
    "product_name",
    "product_type",
    "term_years",
    "premium",
    "payment_frequency",
    "payment_years",
    "channel",
    "branch_code",
    "branch_name",
    "agent_code",
    "agent_name",
    "outlet_code",
    "issue_date",
    "receipt_date",
    "applicant_name",
    "applicant_gender",
    "applicant_birth_date",
    "applicant_id_type",
    "applicant_id_no",
    "applicant_mobile",
    "applicant_phone",
    "applicant_address",
    "insured_relation",
    "insured_name",
    "insured_gender",
    "insured_birth_date",
    "insured_id_type",
    "insured_id_no",
    "beneficiaries",
)


class StagedPolicy(NamedTuple):
    """A row of the policy staging table; every field but `line` and `digest` is a Policy column."""

    line: int
    policy_no: str
    digest: str
    product_code: str
    product_name: str
    product_type: str
    term_years: str | None
    whole_life: bool
    premium: str | None
    payment_frequency: str
    payment_years: int | None
    channel: str
    branch_code: str
    branch_name: str
    agent_code: str
    agent_name: str
    outlet_code: str
    issue_date: str
    receipt_date: str | None
    in_scope: bool


class StagedParty(NamedTuple):
    """A row of the party staging table; every field but `line` is a Party column."""

    line: int
    role: str
    seq: int
    name: str
    gender: str
    birth_date: str | None
    id_type: str
    id_no: str
    mobile: str = ""
    mobile_e164: str = ""
    phone: str = ""
    phone_e164: str = ""
    address: str = ""
    address_key: str = ""
    relation: str = ""
    share_percent: str | None = None


class StagedFlag(NamedTuple):
    """A row defect found while parsing: a flag the policy should have."""

    line: int
    party: str
    field: str
    code: str
    detail: str


@dataclass(slots=True)
class ParsedPolicy:
    line: int
    policy_no: str
    digest: str
    policy: StagedPolicy
    parties: list[StagedParty]
    flags: list[StagedFlag]


_DATE_RE = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})")


@lru_cache(maxsize=100_000)
def parse_date(text: str) -> str | None | bool:
    """ISO text for YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; None when blank; False when not a date."""
    text = text.strip()
    if not text:
        return None
    match = _DATE_RE.fullmatch(text.split(" ")[0].split("T")[0])
    if not match or (text.isdigit() and len(text) != 8):
        return False
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return False


def _decimal(text: str, *, max_value: Decimal) -> str | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= max_value:
        return None
    return str(value.quantize(Decimal("0.01")))


def _small_int(text: str) -> int | None:
    text = text.strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() and int(text) <= 32767 else None


@lru_cache(maxsize=256)
def choice(enum, raw: str) -> str:
    """The code of `raw` in `enum` (code or Chinese label), or blank."""
    return parse_choice(enum, raw) or ""


PERSON_FIELDS = screening.PERSON_FIELDS
_APPLICANT_COLUMNS = tuple(f"applicant_{f}" for f in PERSON_FIELDS)
_INSURED_COLUMNS = tuple(f"insured_{f}" for f in PERSON_FIELDS)


def _person(row: dict[str, str], columns: tuple[str, ...]) -> dict:
    """A person from its five columns (name, gender, birth_date, id_type, id_no) of `row`."""
    return _person_of(*(row.get(c, "").strip() for c in columns))


def _person_of(raw_name: str, raw_gender: str, raw_birth: str, raw_type: str, raw_id: str) -> dict:
    birth = parse_date(raw_birth)
    person = {
        "name": raw_name[:100],
        "gender": choice(Gender, raw_gender),
        "birth_date": birth or "",
        "id_type": choice(IdType, raw_type),
        "id_no": raw_id.replace(" ", "").upper()[:40],
    }
    # What was written but could not be read is reported in the flag, never silently dropped.
    if raw_gender and not person["gender"]:
        person["raw_gender"] = raw_gender
    if raw_birth and birth is False:
        person["raw_birth_date"] = raw_birth
    if raw_type and not person["id_type"]:
        person["raw_id_type"] = raw_type
    return person


def _beneficiaries(text: str) -> list[dict]:
    """`name|id_type|id_no|relation|share_percent`, optionally `|gender|birth_date`, `;`-separated.

    For a resident id (the number carries them) a gender and birth date not given are read from the
    number (FORMATS.md).
    """
    people = []
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        parts = [p.strip() for p in entry.split("|")]
        if not 5 <= len(parts) <= 7:
            people.append({"malformed": True, "name": entry[:100], "relation": "", "share": None})
            continue
        name, id_type, id_no, relation, share, gender, birth = parts + [""] * (7 - len(parts))
        person = _person_of(name, gender, birth, id_type, id_no)
        if person["id_type"] in screening.RESIDENT_ID_TYPES and not (gender and birth):
            check = validators.check_resident_id(person["id_no"])
            if check.ok:
                person["gender"] = person["gender"] or check.gender
                person["birth_date"] = person["birth_date"] or check.birth_date.isoformat()
        person["relation"] = choice(Relation, relation)
        person["share"] = _decimal(share.rstrip("%"), max_value=Decimal(1000))
        people.append(person)
    return people


def _staged_person(line: int, role: str, seq: int, person: dict) -> StagedParty:
    return StagedParty(
        line=line,
        role=role,
        seq=seq,
        name=person.get("name", ""),
        gender=person.get("gender", ""),
        birth_date=person.get("birth_date") or None,
        id_type=person.get("id_type", ""),
        id_no=person.get("id_no", ""),
    )


def identify_row(row: dict[str, str]) -> tuple[str, str] | str:
    """(policy_no, digest of the row) — or why the row cannot be identified or placed (FORMATS.md)."""
    get = row.get
    joined = "\x1f".join([get(c, "") for c in POLICY_COLUMNS])
    if "\x00" in joined:  # PostgreSQL text cannot hold it: the line is rejected, not the whole run
        return nul_in_row()
    policy_no = row.get("policy_no", "").strip()
    if not policy_no:
        return _("no policy_no")
    if len(policy_no) > 40:
        return _("policy_no longer than 40 characters")
    if not parse_date(row.get("issue_date", "")):
        return _("issue_date is not a date: %(value)s") % {"value": row.get("issue_date", "") or _("blank")}
    return policy_no, hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


def parse_policy_row(
    line: int, row: dict[str, str], *, today: dt.date, digest: str = ""
) -> ParsedPolicy | str:
    """One row of a policies file → staged values and its row defects, or the reason to reject it."""
    identity = (row.get("policy_no", "").strip(), digest) if digest else identify_row(row)
    if isinstance(identity, str):
        return identity
    policy_no, digest = identity
    get = row.get
    issue = parse_date(get("issue_date", ""))

    # "至70岁" runs to the insured's age: the insured's birth date, or the applicant's when they are
    # the same person (relation self, or blank with no insured columns).
    insured_birth = parse_date(get("insured_birth_date", ""))
    if not insured_birth and choice(Relation, get("insured_relation", "").strip()) in ("", Relation.SELF):
        insured_birth = parse_date(get("applicant_birth_date", ""))
    reading = terms.read_term(
        get("term_years", ""),
        insured_birth=dt.date.fromisoformat(insured_birth) if insured_birth else None,
        issue_date=dt.date.fromisoformat(issue) if issue else None,
    )
    whole_life, term = reading.whole_life, (str(reading.years) if reading.years is not None else None)
    receipt = parse_date(get("receipt_date", "")) or None
    policy = StagedPolicy(
        line=line,
        policy_no=policy_no,
        digest=digest,
        product_code=get("product_code", "")[:40],
        product_name=get("product_name", "")[:200],
        product_type=choice(ProductType, get("product_type", "")),
        term_years=term,
        whole_life=whole_life,
        premium=_decimal(get("premium", ""), max_value=Decimal(10**12)),
        payment_frequency=choice(PaymentFrequency, get("payment_frequency", "")),
        payment_years=_small_int(get("payment_years", "")),
        channel=choice(Channel, get("channel", "")),
        branch_code=get("branch_code", "").strip()[:20],
        branch_name=get("branch_name", "")[:100],
        agent_code=get("agent_code", "").strip()[:40],
        agent_name=get("agent_name", "").strip()[:100],
        outlet_code=get("outlet_code", "").strip()[:40],
        issue_date=issue,
        receipt_date=receipt,
        in_scope=reading.in_scope,  # in scope: term over one year, whole life included
    )

    applicant = _person(row, _APPLICANT_COLUMNS)
    mobile, phone = get("applicant_mobile", "").strip(), get("applicant_phone", "").strip()
    address = get("applicant_address", "").strip()
    mobile_check = validators.check_mobile(mobile) if mobile else None
    phone_check = validators.check_landline(phone) if phone else None
    address_check = validators.check_address(address) if address else None
    applicant.update(mobile=mobile, phone=phone, address=address)

    raw_relation = get("insured_relation", "").strip()
    relation = choice(Relation, raw_relation)
    insured = _person(row, _INSURED_COLUMNS)
    has_insured = any(insured[k] for k in PERSON_FIELDS)
    beneficiaries = _beneficiaries(get("beneficiaries", ""))
    defects = screening.row_defects(
        applicant=applicant,
        insured=insured if (has_insured or (relation and relation != Relation.SELF)) else None,
        relation=relation,
        raw_relation=raw_relation,
        beneficiaries=beneficiaries,
        mobile_check=mobile_check,
        phone_check=phone_check,
        address_check=address_check,
        today=today,
    )

    def norm(raw: str, check: validators.Check | None) -> str:
        if check is not None and check.ok:
            return check.value
        return validators.normalize_phone(raw) if raw else ""

    parties = [
        _staged_person(line, "applicant", 0, applicant)._replace(
            mobile=mobile[:40],
            mobile_e164=norm(mobile, mobile_check),
            phone=phone[:40],
            phone_e164=norm(phone, phone_check),
            address=address[:300],
            address_key=address_check.value if address_check else validators.address_key(address),
            relation="self",
        )
    ]
    # "May be blank when insured_relation is self": then the applicant party is the insured too, and
    # no copy of it is stored (half the party rows of a typical file). A blank relation keeps its row.
    if has_insured or relation != Relation.SELF:
        parties.append(_staged_person(line, "insured", 0, insured)._replace(relation=relation))
    for seq, person in enumerate(beneficiaries):
        parties.append(
            _staged_person(line, "beneficiary", seq, person)._replace(
                relation=person["relation"], share_percent=person["share"]
            )
        )
    defects += screening.term_defects(problem=reading.problem)
    flags = [
        StagedFlag(line, party, field, str(code), text[:FLAG_DETAIL_LENGTH])
        for party, field, code, text in defects
    ]
    return ParsedPolicy(line, policy_no, digest, policy, parties, flags)
