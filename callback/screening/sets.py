"""Set-based screening: registry codes and `phone_shared` as joins and GROUP BYs over the normalised
columns (Party.mobile_e164 / phone_e164 / address_key, RegistryPhone), so a million policies screen in
a few statements, on PostgreSQL and SQLite alike.

A screening run works in per-connection temporary tables: SCOPE (the policies screened), WANT (the
flags they should have), NUMBERS (numbers whose sharing may have changed). The caller fills SCOPE,
NUMBERS and the row flags into WANT — from staging (intake's merge) or from ids (`rescreen`) — and
`screen` does the rest. Reconciling is idempotent: a wanted flag already live (open or correction
requested) or waived is not raised again; a live flag no longer wanted is resolved "corrected by
import". Callback codes (callback_*) are never touched here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from verification.vocab import FlagCode

from ..models import FLAG_DETAIL_LENGTH, Agent, ContactFlag, Outlet, Party, Policy, RegistryPhone
from ..sql import PolicyScope, analyze, create_temp_table
from .rules import (
    CORRECTED_BY_IMPORT,
    OUTLET_CHANNELS,
    REGISTRY_CODES,
    ROW_CODES,
    SHARED_CODES,
    policy_row_defects,
)

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
            f"policy_id bigint, party varchar(12), field varchar(40), code varchar(32), "
            f"detail varchar({FLAG_DETAIL_LENGTH})",
        )
    create_temp_table(cursor, SCOPE, "policy_id bigint PRIMARY KEY")
    create_temp_table(cursor, NUMBERS, "number varchar(20) PRIMARY KEY")


def applicant_numbers_sql() -> str:
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
        f"INSERT INTO {WANT} SELECT p.id, 'sales', 'agent_code', %s, "
        f"CASE WHEN a.left_on IS NULL THEN p.agent_code || ' has left' "
        f"ELSE p.agent_code || ' left on ' || CAST(a.left_on AS varchar(10)) END "
        f"FROM {_P} p JOIN {SCOPE} s ON s.policy_id = p.id JOIN {_AG} a ON a.agent_code = p.agent_code "
        f"WHERE a.status = 'left' AND (a.left_on IS NULL OR p.issue_date > a.left_on)",
        [FlagCode.AGENT_LEFT.value],
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
        f"WHERE p.channel IN (%s, %s) AND o.id IS NULL",
        [FlagCode.OUTLET_UNKNOWN.value, *OUTLET_CHANNELS],
    )


def want_shared_flags(cursor, *, threshold: int) -> str:
    """`phone_shared` for every applicant number in the numbers table; returns the scope SQL for it."""
    analyze(cursor, NUMBERS)
    numbers = applicant_numbers_sql()
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
            f"SELECT policy_id, party, field, code, SUBSTR(detail, 1, {FLAG_DETAIL_LENGTH}), 'open', %s, '' "
            f"FROM {FRESH}",
            [stamp],
        )
        if sum(raised.values()) >= ANALYZE_AFTER_FLAGS:
            analyze(cursor, _F)  # the next screening must not plan on "no flags" (see above)
    return raised, resolved


def _fill_numbers_of_scope(cursor) -> None:
    cursor.execute(
        f"INSERT INTO {NUMBERS} SELECT DISTINCT n.number FROM ({applicant_numbers_sql()}) n "
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
    scope = PolicyScope.policies(policy_ids)
    with connection.cursor() as cursor:
        prepare_tables(cursor)
        if row_codes:
            _want_row_flags_from_db(cursor, scope.ids)
        for number in set(extra_numbers) - {""}:
            cursor.execute(f"INSERT INTO {NUMBERS} (number) VALUES (%s) ON CONFLICT DO NOTHING", [number])
        raised, resolved = screen(cursor, scope, row_codes=row_codes, now=now)
    return {"flags_raised": dict(raised), "flags_resolved": dict(resolved)}


def screen(cursor, scope: PolicyScope, *, row_codes: bool, now: dt.datetime) -> tuple[Counter, Counter]:
    """Screen the policies of `scope`: the registry codes, `phone_shared` for the numbers whose sharing
    may have changed, and (with `row_codes`) the row flags the caller put into WANT; reconcile them with
    the live flags. The numbers are those the caller put into NUMBERS and, for stored policies, the
    scope's own (a staged scope's caller knows its old and new numbers, and the merge has replaced them).

    Returns (raised per code, resolved per code). The one sequence behind a re-screen and an import.
    """
    scope.insert_into(cursor, SCOPE)
    if not scope.is_staged:
        _fill_numbers_of_scope(cursor)
    want_registry_flags(cursor)
    shared_scope = want_shared_flags(cursor, threshold=settings.PHONE_SHARED_THRESHOLD)
    codes = REGISTRY_CODES + (ROW_CODES if row_codes else ())
    raised, resolved = reconcile(cursor, codes=codes, scope_sql=f"SELECT policy_id FROM {SCOPE}", now=now)
    raised2, resolved2 = reconcile(cursor, codes=SHARED_CODES, scope_sql=shared_scope, now=now)
    return raised + raised2, resolved + resolved2


def _want_row_flags_from_db(cursor, policy_ids: Iterable[int] | None) -> None:
    """Row defects of stored policies (a single edit, re-screen after a form or admin change)."""
    policies = Policy.objects.prefetch_related("parties")
    if policy_ids is not None:
        policies = policies.filter(id__in=list(policy_ids))
    rows = []
    for policy in policies.iterator(chunk_size=500):
        for party, field, code, detail in policy_row_defects(policy):
            rows.append((policy.id, party, field, str(code), detail[:FLAG_DETAIL_LENGTH]))
    if rows:
        cursor.executemany(f"INSERT INTO {WANT} VALUES (%s, %s, %s, %s, %s)", rows)
