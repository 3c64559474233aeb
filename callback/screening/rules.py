"""Screening's row rules: one policy's own fields judged with the validators (missing fields,
malformed phones, ids and addresses, contradicting relations) as (party, field, code, detail). Pure
Python over plain values: intake calls it per row, a single edit through `policy_row_defects`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from verification import validators
from verification.vocab import Channel, FlagCode, IdType, PartyRole, Relation

from ..models import Party, Policy

CORRECTED_BY_IMPORT = "corrected by import"
ROW_CODES = (
    FlagCode.TERM_UNREADABLE,
    FlagCode.MISSING_FIELD,
    FlagCode.MOBILE_INVALID,
    FlagCode.LANDLINE_INVALID,
    FlagCode.ADDRESS_INCOMPLETE,
    FlagCode.ID_INVALID,
    FlagCode.ID_BIRTH_MISMATCH,
    FlagCode.ID_GENDER_MISMATCH,
    FlagCode.RELATION_INCONSISTENT,
)
REGISTRY_CODES = (
    FlagCode.PHONE_IS_AGENT,
    FlagCode.PHONE_IS_OUTLET,
    FlagCode.PHONE_IS_COMPANY,
    FlagCode.ADDRESS_IS_OUTLET,
    FlagCode.AGENT_UNKNOWN,
    FlagCode.AGENT_LEFT,
    FlagCode.AGENT_NAME_MISMATCH,
    FlagCode.OUTLET_UNKNOWN,
)
SHARED_CODES = (FlagCode.PHONE_SHARED,)
# Id types whose number is the resident id number (a household register carries the same number).
RESIDENT_ID_TYPES = (IdType.ID_CARD, IdType.HOUSEHOLD_REGISTER)
# Channels whose policies must name a known outlet.
OUTLET_CHANNELS = (Channel.BANCASSURANCE.value, Channel.BROKER.value)

APPLICANT, INSURED, BENEFICIARY = (
    PartyRole.APPLICANT.value,
    PartyRole.INSURED.value,
    PartyRole.BENEFICIARY.value,
)
PERSON_FIELDS = ("name", "gender", "birth_date", "id_type", "id_no")

# --- one policy's own fields ---------------------------------------------------------------------


def _person_defects(
    party: str, person: dict, *, today: dt.date, out: list, required: Iterable[str], field_suffix=""
) -> None:
    """Missing-field and id rules for one person. `person`: name, gender, birth_date, id_type, id_no;
    `required`: the fields that must not be blank."""
    for field in required:
        if not person.get(field):
            detail = f"unreadable: {person['raw_' + field]}" if person.get("raw_" + field) else "blank"
            out.append((party, field + field_suffix, FlagCode.MISSING_FIELD, detail))
    id_no = person.get("id_no")
    if id_no and person.get("id_type") in RESIDENT_ID_TYPES:
        check = validators.check_resident_id(id_no, today=today)
        if not check.ok:
            out.append((party, "id_no" + field_suffix, FlagCode.ID_INVALID, check.reason))
            return
        birth = person.get("birth_date")
        if birth and check.birth_date.isoformat() != birth:
            out.append(
                (
                    party,
                    "birth_date" + field_suffix,
                    FlagCode.ID_BIRTH_MISMATCH,
                    f"id {check.birth_date.isoformat()} / stated {birth}",
                )
            )
        gender = person.get("gender")
        if gender and check.gender != gender:
            out.append(
                (
                    party,
                    "gender" + field_suffix,
                    FlagCode.ID_GENDER_MISMATCH,
                    f"id {check.gender} / stated {gender}",
                )
            )


def row_defects(
    *,
    applicant: dict,
    insured: dict | None,
    relation: str,
    raw_relation: str = "",
    beneficiaries: Iterable[dict] = (),
    mobile_check: validators.Check | None = None,
    phone_check: validators.Check | None = None,
    address_check: validators.Check | None = None,
    today: dt.date | None = None,
) -> list[tuple[str, str, str, str]]:
    """Every defect of one policy's customer fields as (party, field, code, detail).

    Persons are dicts of name, gender ("M"/"F"), birth_date (ISO text), id_type, id_no, and for the
    applicant mobile, phone, address; `raw_<field>` holds what was written when it could not be read.
    Checks already made by the caller (intake normalises phones once) can be passed in.
    """
    today = today or timezone.localdate()
    out: list[tuple[str, str, str, str]] = []
    _person_defects(APPLICANT, applicant, today=today, out=out, required=PERSON_FIELDS)
    mobile, phone = applicant.get("mobile", ""), applicant.get("phone", "")
    if not mobile and not phone:
        out.append((APPLICANT, "mobile", FlagCode.MISSING_FIELD, "no mobile or landline"))
    if mobile:
        check = mobile_check or validators.check_mobile(mobile)
        if not check.ok:
            out.append((APPLICANT, "mobile", FlagCode.MOBILE_INVALID, check.reason))
    if phone:
        check = phone_check or validators.check_landline(phone)
        if not check.ok:
            out.append((APPLICANT, "phone", FlagCode.LANDLINE_INVALID, check.reason))
    address = applicant.get("address", "")
    if not address:
        out.append((APPLICANT, "address", FlagCode.MISSING_FIELD, "blank"))
    else:
        check = address_check or validators.check_address(address)
        if not check.ok:
            out.append((APPLICANT, "address", FlagCode.ADDRESS_INCOMPLETE, f"no {check.reason}"))

    if not relation:
        detail = f"unreadable: {raw_relation}" if raw_relation else "blank"
        out.append((INSURED, "relation", FlagCode.MISSING_FIELD, detail))
    if insured is not None:
        required = PERSON_FIELDS if relation != Relation.SELF else ()
        _person_defects(INSURED, insured, today=today, out=out, required=required)
        out.extend(_relation_defects(relation, applicant, insured))
    for seq, person in enumerate(beneficiaries):
        suffix = f"#{seq + 1}"
        if person.get("malformed"):
            out.append((BENEFICIARY, "beneficiaries" + suffix, FlagCode.MISSING_FIELD, "unreadable entry"))
            continue
        # A designated beneficiary's name, id type and number, and gender and birth date unless the id
        # type carries them (FORMATS.md).
        carries = person.get("id_type") in RESIDENT_ID_TYPES
        required = PERSON_FIELDS if not carries else ("name", "id_type", "id_no")
        _person_defects(BENEFICIARY, person, today=today, out=out, required=required, field_suffix=suffix)
    return out


def _relation_defects(relation: str, applicant: dict, insured: dict) -> list[tuple[str, str, str, str]]:
    """The stated relation against the data: `self` is the applicant; a child is younger, a parent older."""
    found = []
    a_id, i_id = applicant.get("id_no", "").upper(), insured.get("id_no", "").upper()
    a_birth, i_birth = applicant.get("birth_date"), insured.get("birth_date")
    if relation == Relation.SELF:
        differs = [
            field
            for field in ("id_no", "name", "birth_date", "gender")
            if insured.get(field)
            and applicant.get(field)
            and str(insured[field]).upper() != str(applicant[field]).upper()
        ]
        if differs:
            found.append(
                (
                    INSURED,
                    "relation",
                    FlagCode.RELATION_INCONSISTENT,
                    "self but different " + ", ".join(differs),
                )
            )
    elif relation:
        if a_id and a_id == i_id:
            found.append(
                (INSURED, "relation", FlagCode.RELATION_INCONSISTENT, f"{relation} with the applicant's id")
            )
        elif a_birth and i_birth:
            if relation == Relation.CHILD and i_birth <= a_birth:
                found.append(
                    (INSURED, "relation", FlagCode.RELATION_INCONSISTENT, "child not younger than applicant")
                )
            elif relation == Relation.PARENT and i_birth >= a_birth:
                found.append(
                    (INSURED, "relation", FlagCode.RELATION_INCONSISTENT, "parent not older than applicant")
                )
    return found


def _person(party: Party | None) -> dict:
    if party is None:
        return {}
    return {
        "name": party.name,
        "gender": party.gender,
        "birth_date": party.birth_date.isoformat() if party.birth_date else "",
        "id_type": party.id_type,
        "id_no": party.id_no,
        "mobile": party.mobile,
        "phone": party.phone,
        "address": party.address,
    }


def term_defects(*, problem: str) -> list[tuple[str, str, str, str]]:
    """`term_unreadable` when the term could not be read (FORMATS.md): the callback scope is unknown,
    so the policy is reported instead of silently falling out of scope. On the policy's own data,
    named with the applicant (the policyholder) as the party."""
    return [(APPLICANT, "term_years", FlagCode.TERM_UNREADABLE, problem)] if problem else []


def policy_row_defects(policy: Policy) -> list[tuple[str, str, str, str]]:
    """`row_defects` of a stored policy and its parties."""
    parties = list(policy.parties.all())
    applicant = next((p for p in parties if p.role == APPLICANT), None)
    insured = next((p for p in parties if p.role == INSURED), None)
    beneficiaries = [_person(p) for p in sorted(parties, key=lambda p: p.seq) if p.role == BENEFICIARY]
    # A stored policy keeps no term text: neither a term nor whole life means it could not be read.
    unread = policy.term_years is None and not policy.whole_life
    return row_defects(
        applicant=_person(applicant),
        insured=_person(insured) if insured else None,
        # No insured row: the applicant is the insured (intake stores no copy for relation `self`).
        relation=insured.relation if insured else Relation.SELF,
        beneficiaries=beneficiaries,
    ) + term_defects(problem="blank or unreadable" if unread else "")
