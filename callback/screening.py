"""Screening: validator results and registry matches become ContactFlags (FORMATS.md flag codes).

Two halves:
- `row_defects` judges one policy's own fields with the validators (missing fields, malformed
  phones, ids and addresses, contradicting relations). Pure Python; intake calls it per row and
  `rescreen_policy` for a single edited policy.
- The registry codes and `phone_shared` are set-based SQL: joins and GROUP BYs over the normalised
  columns (Party.mobile_e164 / phone_e164 / address_key, RegistryPhone), so a million policies screen
  in a few statements. The same SQL runs on PostgreSQL and SQLite.

Reconciling is idempotent: a wanted flag already live (open or correction requested) or waived for
the same policy, party, field and code is not raised again; a live flag the screening no longer
wants is resolved "corrected by import". Callback codes (callback_*) are never touched here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from verification import validators
from verification.vocab import FlagCode, IdType, PartyRole, Relation

from .models import Agent, ContactFlag, Outlet, Party, Policy, RegistryPhone
from .sql import analyze, create_temp_table

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
    FlagCode.AGENT_NAME_MISMATCH,
    FlagCode.OUTLET_UNKNOWN,
)
SHARED_CODES = (FlagCode.PHONE_SHARED,)
TERM_CODES = (FlagCode.TERM_UNREADABLE,)
SCREENING_CODES = ROW_CODES + REGISTRY_CODES + SHARED_CODES
# Id types whose number is the resident id number (a household register carries the same number).
RESIDENT_ID_TYPES = (IdType.ID_CARD, IdType.HOUSEHOLD_REGISTER)
OUTLET_CHANNELS = ("bancassurance", "broker")

APPLICANT, INSURED, BENEFICIARY, SALES = (r.value for r in PartyRole)

# --- one policy's own fields ---------------------------------------------------------------------


def _person_defects(
    party: str, person: dict, *, today: dt.date, out: list, required: bool, field_suffix=""
) -> None:
    """Missing-field and id rules for one person. `person`: name, gender, birth_date, id_type, id_no."""
    if required:
        for field in ("name", "gender", "birth_date", "id_type", "id_no"):
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
    _person_defects(APPLICANT, applicant, today=today, out=out, required=True)
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
        _person_defects(INSURED, insured, today=today, out=out, required=relation != Relation.SELF)
        out.extend(_relation_defects(relation, applicant, insured))
    for seq, person in enumerate(beneficiaries):
        suffix = f"#{seq + 1}"
        if person.get("malformed"):
            out.append((BENEFICIARY, "beneficiaries" + suffix, FlagCode.MISSING_FIELD, "unreadable entry"))
            continue
        if not person.get("name"):
            out.append((BENEFICIARY, "name" + suffix, FlagCode.MISSING_FIELD, "blank"))
        _person_defects(BENEFICIARY, person, today=today, out=out, required=False, field_suffix=suffix)
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


# --- set-based screening -------------------------------------------------------------------------

WANT = "hf_screen_want"
SCOPE = "hf_screen_scope"
NUMBERS = "hf_screen_numbers"
FRESH = "hf_screen_fresh"
ANALYZE_AFTER_FLAGS = 10_000  # flags raised at once from which the flag table's statistics are refreshed

_P, _PT, _F = Policy._meta.db_table, Party._meta.db_table, ContactFlag._meta.db_table
_AG, _OU, _RP = Agent._meta.db_table, Outlet._meta.db_table, RegistryPhone._meta.db_table


def prepare_tables(cursor) -> None:
    """The temporary tables of one screening run (per connection)."""
    for name in (WANT, FRESH):
        create_temp_table(
            cursor,
            name,
            "policy_id bigint, party varchar(12), field varchar(40), code varchar(32), detail varchar(300)",
        )
    create_temp_table(cursor, SCOPE, "policy_id bigint PRIMARY KEY")
    create_temp_table(cursor, NUMBERS, "number varchar(20) PRIMARY KEY")


def _applicant_numbers_sql() -> str:
    return (
        f"SELECT policy_id, 'mobile' AS field, mobile_e164 AS number, id_no FROM {_PT} "
        f"WHERE role = 'applicant' AND mobile_e164 <> '' "
        f"UNION ALL SELECT policy_id, 'phone', phone_e164, id_no FROM {_PT} "
        f"WHERE role = 'applicant' AND phone_e164 <> ''"
    )


def want_registry_flags(cursor) -> None:
    """Registry codes for the policies in the scope table, into the want table."""
    analyze(cursor, SCOPE)
    for owner, code in (
        ("agent", FlagCode.PHONE_IS_AGENT),
        ("outlet", FlagCode.PHONE_IS_OUTLET),
        ("company", FlagCode.PHONE_IS_COMPANY),
    ):
        # The policy's own agent or outlet is the worse case and the detail says so.
        own = "p.agent_code" if owner == "agent" else "p.outlet_code" if owner == "outlet" else "''"
        for field in ("mobile", "phone"):
            cursor.execute(
                f"INSERT INTO {WANT} SELECT pt.policy_id, 'applicant', '{field}', %s, "
                f"MIN(r.owner_code) || CASE WHEN MAX(CASE WHEN r.owner_code = {own} THEN 1 ELSE 0 END) = 1 "
                f"THEN ' (this policy''s own)' ELSE '' END "
                f"FROM {SCOPE} s JOIN {_PT} pt ON pt.policy_id = s.policy_id AND pt.role = 'applicant' "
                f"JOIN {_RP} r ON r.number = pt.{field}_e164 AND r.owner_kind = %s "
                f"JOIN {_P} p ON p.id = s.policy_id WHERE pt.{field}_e164 <> '' GROUP BY pt.policy_id",
                [code.value, owner],
            )
    cursor.execute(
        f"INSERT INTO {WANT} SELECT pt.policy_id, 'applicant', 'address', %s, MIN(o.outlet_code) "
        f"FROM {_PT} pt JOIN {SCOPE} s ON s.policy_id = pt.policy_id "
        f"JOIN {_OU} o ON o.address_key = pt.address_key AND o.address_key <> '' "
        f"WHERE pt.role = 'applicant' AND pt.address_key <> '' GROUP BY pt.policy_id",
        [FlagCode.ADDRESS_IS_OUTLET.value],
    )
    cursor.execute(
        f"INSERT INTO {WANT} SELECT p.id, 'sales', 'agent_code', %s, "
        f"CASE WHEN p.agent_code = '' THEN 'blank' ELSE p.agent_code || ' not in registry' END "
        f"FROM {_P} p JOIN {SCOPE} s ON s.policy_id = p.id LEFT JOIN {_AG} a ON a.agent_code = p.agent_code "
        f"WHERE a.id IS NULL",
        [FlagCode.AGENT_UNKNOWN.value],
    )
    cursor.execute(
        f"INSERT INTO {WANT} SELECT p.id, 'sales', 'agent_name', %s, "
        f"'registry: ' || a.name || ' / policy: ' || p.agent_name "
        f"FROM {_P} p JOIN {SCOPE} s ON s.policy_id = p.id JOIN {_AG} a ON a.agent_code = p.agent_code "
        f"WHERE a.name <> p.agent_name",
        [FlagCode.AGENT_NAME_MISMATCH.value],
    )
    cursor.execute(
        f"INSERT INTO {WANT} SELECT p.id, 'sales', 'outlet_code', %s, "
        f"CASE WHEN p.outlet_code = '' THEN 'blank' ELSE p.outlet_code || ' not in registry' END "
        f"FROM {_P} p JOIN {SCOPE} s ON s.policy_id = p.id "
        f"LEFT JOIN {_OU} o ON o.outlet_code = p.outlet_code "
        f"WHERE p.channel IN ('bancassurance', 'broker') AND o.id IS NULL",
        [FlagCode.OUTLET_UNKNOWN.value],
    )


def want_shared_flags(cursor, *, threshold: int) -> str:
    """`phone_shared` for every applicant number in the numbers table; returns the scope SQL for it."""
    analyze(cursor, NUMBERS)
    numbers = _applicant_numbers_sql()
    cursor.execute(
        f"INSERT INTO {WANT} SELECT n.policy_id, 'applicant', n.field, %s, "
        f"'shared by ' || CAST(g.people AS varchar(12)) || ' applicants' "
        f"FROM ({numbers}) n JOIN (SELECT n2.number, COUNT(DISTINCT n2.id_no) AS people FROM ({numbers}) n2 "
        f"JOIN {NUMBERS} k ON k.number = n2.number WHERE n2.id_no <> '' GROUP BY n2.number "
        f"HAVING COUNT(DISTINCT n2.id_no) >= %s) g ON g.number = n.number",
        [FlagCode.PHONE_SHARED.value, threshold],
    )
    return (
        f"SELECT policy_id FROM {SCOPE} UNION SELECT n.policy_id FROM ({numbers}) n "
        f"JOIN {NUMBERS} k ON k.number = n.number"
    )


def reconcile(cursor, *, codes: Iterable[str], scope_sql: str, now: dt.datetime) -> tuple[Counter, Counter]:
    """Make the live flags of `codes` on the policies of `scope_sql` equal to the want table.

    Returns (raised per code, resolved per code).
    """
    codes = [str(c) for c in codes]
    # The NOT EXISTS probes below look flags up in the want table by key: indexed, so that they stay
    # cheap whatever PostgreSQL believes about the flag table (right after a bulk import, before
    # autovacuum, it can believe there are no flags and plan a nested loop: 6 minutes for a registry
    # change at a million policies).
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {WANT}_key ON {WANT} (policy_id, code, field, party)")
    analyze(cursor, WANT)
    marks = ", ".join(["%s"] * len(codes))
    stamp = connection.ops.adapt_datetimefield_value(now)
    same_key = "f.policy_id = w.policy_id AND f.party = w.party AND f.field = w.field AND f.code = w.code"
    fresh = (
        f"FROM (SELECT policy_id, party, field, code, MIN(detail) AS detail FROM {WANT} "
        f"WHERE code IN ({marks}) GROUP BY policy_id, party, field, code) w "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_F} f WHERE {same_key} "
        f"AND f.status IN ('open', 'correction_requested', 'waived'))"
    )
    # The flags to raise are collected first: an INSERT that reads the flag table it writes can be
    # planned as a scan of its own growing heap (quadratic: 34 s for 68,000 flags).
    cursor.execute(f"DELETE FROM {FRESH}")
    cursor.execute(
        f"INSERT INTO {FRESH} SELECT w.policy_id, w.party, w.field, w.code, w.detail {fresh}", codes
    )
    cursor.execute(f"SELECT code, COUNT(*) FROM {FRESH} GROUP BY code")
    raised = Counter(dict(cursor.fetchall()))
    stale = (
        f"FROM {_F} f WHERE f.status IN ('open', 'correction_requested') AND f.code IN ({marks}) "
        f"AND f.policy_id IN ({scope_sql}) "
        f"AND NOT EXISTS (SELECT 1 FROM {WANT} w WHERE {same_key})"
    )
    cursor.execute(f"SELECT f.code, COUNT(*) {stale} GROUP BY f.code", codes)
    resolved = Counter(dict(cursor.fetchall()))
    if resolved:
        cursor.execute(
            f"UPDATE {_F} SET status = 'resolved', closed_at = %s, close_reason = %s "
            f"WHERE id IN (SELECT f.id {stale})",
            [stamp, CORRECTED_BY_IMPORT, *codes],
        )
    if raised:
        cursor.execute(
            f"INSERT INTO {_F} (policy_id, party, field, code, detail, status, raised_at, close_reason) "
            f"SELECT policy_id, party, field, code, SUBSTR(detail, 1, 300), 'open', %s, '' FROM {FRESH}",
            [stamp],
        )
        if sum(raised.values()) >= ANALYZE_AFTER_FLAGS:
            analyze(cursor, _F)  # the next screening must not plan on "no flags" (see above)
    return raised, resolved


def _fill_scope(cursor, policy_ids: Iterable[int] | None) -> None:
    if policy_ids is None:
        cursor.execute(f"INSERT INTO {SCOPE} SELECT id FROM {_P}")
        return
    ids = list(policy_ids)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        cursor.executemany(
            f"INSERT INTO {SCOPE} (policy_id) VALUES (%s) ON CONFLICT DO NOTHING", [(i,) for i in chunk]
        )


def _fill_numbers_of_scope(cursor) -> None:
    cursor.execute(
        f"INSERT INTO {NUMBERS} SELECT DISTINCT n.number FROM ({_applicant_numbers_sql()}) n "
        f"JOIN {SCOPE} s ON s.policy_id = n.policy_id WHERE NOT EXISTS "
        f"(SELECT 1 FROM {NUMBERS} k WHERE k.number = n.number)"
    )


@transaction.atomic
def rescreen(
    *, policy_ids: Iterable[int] | None = None, extra_numbers: Iterable[str] = (), row_codes: bool = False
) -> dict[str, dict[str, int]]:
    """Re-screen policies against the registries and for shared phones (all policies when None).

    `extra_numbers` are numbers whose sharing may have changed (e.g. a party's old number).
    With `row_codes`, each policy's own fields are judged again too (a single edit; not for bulk).
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        prepare_tables(cursor)
        _fill_scope(cursor, policy_ids)
        if row_codes:
            _want_row_flags_from_db(cursor, policy_ids)
        want_registry_flags(cursor)
        _fill_numbers_of_scope(cursor)
        for number in set(extra_numbers) - {""}:
            cursor.execute(f"INSERT INTO {NUMBERS} (number) VALUES (%s) ON CONFLICT DO NOTHING", [number])
        shared_scope = want_shared_flags(cursor, threshold=settings.PHONE_SHARED_THRESHOLD)
        codes = REGISTRY_CODES + (ROW_CODES if row_codes else ())
        raised, resolved = reconcile(cursor, codes=codes, scope_sql=f"SELECT policy_id FROM {SCOPE}", now=now)
        raised2, resolved2 = reconcile(cursor, codes=SHARED_CODES, scope_sql=shared_scope, now=now)
    return {"flags_raised": dict(raised + raised2), "flags_resolved": dict(resolved + resolved2)}


def _want_row_flags_from_db(cursor, policy_ids: Iterable[int] | None) -> None:
    """Row defects of stored policies (a single edit, re-screen after a form or admin change)."""
    policies = Policy.objects.prefetch_related("parties")
    if policy_ids is not None:
        policies = policies.filter(id__in=list(policy_ids))
    rows = []
    for policy in policies.iterator(chunk_size=500):
        for party, field, code, detail in policy_row_defects(policy):
            rows.append((policy.id, party, field, str(code), detail[:300]))
    if rows:
        cursor.executemany(f"INSERT INTO {WANT} VALUES (%s, %s, %s, %s, %s)", rows)


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


# --- registries ----------------------------------------------------------------------------------


def registry_numbers(*, kind: str, row) -> set[str]:
    """The normalised numbers a registry row carries."""
    if kind == RegistryPhone.Owner.AGENT:
        raw = [row.mobile, *row.phones.split(";")]
    elif kind == RegistryPhone.Owner.OUTLET:
        raw = row.phones.split(";")
    else:
        raw = [row.number]
    return {n for n in (validators.normalize_phone(r) for r in raw) if n}


def owner_code(kind: str, row) -> str:
    if kind == RegistryPhone.Owner.AGENT:
        return row.agent_code
    if kind == RegistryPhone.Owner.OUTLET:
        return row.outlet_code
    return row.normalized


def sync_registry_phones(*, kind: str, rows: Iterable, deleted_codes: Iterable[str] = ()) -> set[str]:
    """Rebuild RegistryPhone for these registry rows; returns every number added or removed."""
    touched: set[str] = set()
    rows = list(rows)
    codes = [owner_code(kind, r) for r in rows] + list(deleted_codes)
    for start in range(0, len(codes), 2000):
        chunk = codes[start : start + 2000]
        old = RegistryPhone.objects.filter(owner_kind=kind, owner_code__in=chunk)
        touched.update(old.values_list("number", flat=True))
        old.delete()
    new = []
    for row in rows:
        for number in registry_numbers(kind=kind, row=row):
            new.append(RegistryPhone(number=number, owner_kind=kind, owner_code=owner_code(kind, row)))
            touched.add(number)
    RegistryPhone.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return touched


def policies_affected_by_registry(
    *,
    numbers: Iterable[str] = (),
    agent_codes: Iterable[str] = (),
    outlet_codes: Iterable[str] = (),
    address_keys: Iterable[str] = (),
) -> set[int]:
    """Policies whose registry flags may change: by applicant number, agent, outlet or address."""
    ids: set[int] = set()
    numbers, address_keys = list(set(numbers) - {""}), list(set(address_keys) - {""})
    agent_codes, outlet_codes = list(set(agent_codes)), list(set(outlet_codes))
    applicants = Party.objects.filter(role=APPLICANT)
    # `.exclude(column="")` repeats the partial indexes' condition (Party.Meta) so that they are used.
    for start in range(0, max(len(numbers), 1), 2000):
        chunk = numbers[start : start + 2000]
        if chunk:
            for column in ("mobile_e164", "phone_e164"):
                found = applicants.filter(**{f"{column}__in": chunk}).exclude(**{column: ""})
                ids.update(found.values_list("policy_id", flat=True))
    if address_keys:
        found = applicants.filter(address_key__in=address_keys).exclude(address_key="")
        ids.update(found.values_list("policy_id", flat=True))
    if agent_codes:
        ids.update(Policy.objects.filter(agent_code__in=agent_codes).values_list("id", flat=True))
    if outlet_codes:
        ids.update(Policy.objects.filter(outlet_code__in=outlet_codes).values_list("id", flat=True))
    return ids


def rescreen_registry_change(*, kind: str, rows: Iterable = (), deleted: Iterable = ()) -> dict:
    """After registry rows were saved or deleted: rebuild their numbers and re-screen what they touch."""
    rows, deleted = list(rows), list(deleted)
    numbers = sync_registry_phones(kind=kind, rows=rows, deleted_codes=[owner_code(kind, r) for r in deleted])
    everything = rows + deleted
    affected = policies_affected_by_registry(
        numbers=numbers,
        agent_codes=[r.agent_code for r in everything] if kind == RegistryPhone.Owner.AGENT else (),
        outlet_codes=[r.outlet_code for r in everything] if kind == RegistryPhone.Owner.OUTLET else (),
        address_keys=[r.address_key for r in everything]
        + [getattr(r, "_old_address_key", "") for r in everything]
        if kind == RegistryPhone.Owner.OUTLET
        else (),
    )
    if not affected:
        return {"flags_raised": {}, "flags_resolved": {}, "policies": 0}
    result = rescreen(policy_ids=affected)
    result["policies"] = len(affected)
    return result
