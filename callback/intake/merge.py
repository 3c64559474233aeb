"""The merge: one transaction upserts the staged policies and parties set-based, screens the changed
policies and syncs their callback tasks. A crash rolls it all back; the staging tables vanish with the
connection."""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.utils import timezone

from .. import schedule, screening, sql
from ..models import ContactFlag, Party, Policy
from .policy_rows import StagedParty, StagedPolicy
from .result import ImportResult
from .staging import FLAG as S_FLAG
from .staging import PARTY as S_PARTY
from .staging import POLICY as S_POLICY

_P, _PT = Policy._meta.db_table, Party._meta.db_table
_POLICY_FIELDS = tuple(c for c in StagedPolicy._fields if c not in ("line", "digest"))
_PARTY_FIELDS = StagedParty._fields[1:]
ANALYZE_AFTER_ROWS = 50_000  # changed policies from which the merge refreshes the tables' statistics
MERGE_LOCK = 0x6866_696E  # pg_advisory_xact_lock key of the policy merge ("hfin")


def merge_policies(
    cursor, result: ImportResult, *, dry_run: bool, with_items: bool, unchanged_items: list[tuple[int, str]]
) -> None:
    """Upsert the staged policies and parties, screen them and sync their tasks, in one transaction."""
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        if sql.is_postgres():
            # One import merges at a time, so a policy_no found absent below stays absent until
            # commit and new policies take a plain INSERT. The bulk transaction may trade the
            # commit flush for speed (a crash loses at most the last import, never half of it)
            # and gets memory for its hash joins and sorts.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK])
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        # Statistics for the staging tables, renewed after each UPDATE that changes what joins see
        # (stale ones, e.g. policy_id all NULL, make PostgreSQL plan nested loops over a million rows).
        sql.analyze(cursor, S_POLICY, S_PARTY, S_FLAG)
        cursor.execute(
            f"UPDATE {S_POLICY} SET policy_id = p.id, old_digest = p.row_digest "
            f"FROM {_P} p WHERE p.policy_no = {S_POLICY}.policy_no"
        )
        cursor.execute(f"UPDATE {S_POLICY} SET changed = (old_digest IS NULL OR old_digest <> digest)")
        sql.analyze(cursor, S_POLICY)
        cursor.execute(
            f"SELECT SUM(CASE WHEN policy_id IS NULL THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN policy_id IS NOT NULL AND changed THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN changed THEN 0 ELSE 1 END) FROM {S_POLICY}"
        )
        created, updated, unchanged = (n or 0 for n in cursor.fetchone())
        result.created, result.updated, result.unchanged = created, updated, result.unchanged + unchanged

        screening.prepare_tables(cursor)
        numbers = f"{screening.NUMBERS}"
        # Numbers a changed policy had before: sharing may have ended for the others who have them.
        cursor.execute(
            f"INSERT INTO {numbers} SELECT DISTINCT n.number FROM ({screening.applicant_numbers_sql()}) n "
            f"JOIN {S_POLICY} s ON s.policy_id = n.policy_id WHERE s.changed"
        )
        cols = ", ".join(_POLICY_FIELDS)
        if updated:
            updates = ", ".join(f"{c} = s.{c}" for c in _POLICY_FIELDS[1:])
            cursor.execute(
                f"UPDATE {_P} SET {updates}, row_digest = s.digest, updated_at = %s "
                f"FROM {S_POLICY} s WHERE s.changed AND s.policy_id = {_P}.id",
                [stamp],
            )
        cursor.execute(
            f"INSERT INTO {_P} ({cols}, row_digest, created_at, updated_at) "
            f"SELECT {cols}, digest, %s, %s FROM {S_POLICY} WHERE policy_id IS NULL",
            [stamp, stamp],
        )
        cursor.execute(
            f"UPDATE {S_POLICY} SET policy_id = p.id FROM {_P} p "
            f"WHERE p.policy_no = {S_POLICY}.policy_no AND {S_POLICY}.policy_id IS NULL"
        )
        sql.analyze(cursor, S_POLICY)
        cursor.execute(
            f"DELETE FROM {_PT} WHERE policy_id IN "
            f"(SELECT policy_id FROM {S_POLICY} WHERE changed AND old_digest IS NOT NULL)"
        )
        party_cols = ", ".join(_PARTY_FIELDS)
        cursor.execute(
            f"INSERT INTO {_PT} (policy_id, {party_cols}) SELECT s.policy_id, "
            + ", ".join(f"pt.{c}" for c in _PARTY_FIELDS)
            + f" FROM {S_PARTY} pt JOIN {S_POLICY} s ON s.line = pt.line WHERE s.changed"
        )
        if created + updated >= ANALYZE_AFTER_ROWS:
            # Screening and task sync below join these tables: after a bulk load their statistics
            # (autovacuum has not run yet) would make PostgreSQL plan nested loops over a million
            # rows (shared-number screening 10.9 s → 4.2 s at 1,000,000 policies). ANALYZE sees
            # this transaction's own new rows.
            sql.analyze(cursor, _P, _PT)

        # Screening of the changed policies: their row defects, registry matches, shared numbers.
        changed = sql.PolicyScope.staging(S_POLICY)
        cursor.execute(
            f"INSERT INTO {screening.WANT} SELECT s.policy_id, f.party, f.field, f.code, f.detail "
            f"FROM {S_FLAG} f JOIN {S_POLICY} s ON s.line = f.line WHERE s.changed"
        )
        # The new numbers of the changed policies (their old ones were collected above).
        cursor.execute(
            f"INSERT INTO {numbers} SELECT DISTINCT n.e FROM (SELECT mobile_e164 AS e FROM {S_PARTY} "
            f"WHERE role = 'applicant' AND mobile_e164 <> '' UNION SELECT phone_e164 FROM {S_PARTY} "
            f"WHERE role = 'applicant' AND phone_e164 <> '') n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {numbers} k WHERE k.number = n.e)"
        )
        raised, resolved = screening.screen(cursor, changed, row_codes=True, now=now)
        result.flags_raised.update(raised)
        result.flags_resolved.update(resolved)

        if created + updated and not dry_run:
            # Callback tasks in the same transaction: a policy is never committed without its task.
            started = time.monotonic()
            schedule.sync_tasks(scope=changed, now=now)
            result.seconds["tasks"] = time.monotonic() - started
        if with_items:
            _collect_items(cursor, result, unchanged_items)
        if dry_run:
            transaction.set_rollback(True)


def _collect_items(cursor, result: ImportResult, unchanged_items: list[tuple[int, str]]) -> None:
    cursor.execute(f"SELECT line, policy_no, policy_id, changed, old_digest FROM {S_POLICY}")
    staged = cursor.fetchall()
    ids = dict(
        Policy.objects.filter(policy_no__in=[no for _, no in unchanged_items]).values_list("policy_no", "id")
    )
    staged += [(line, no, ids.get(no), False, None) for line, no in unchanged_items]

    live = {}
    for policy_id, code in ContactFlag.objects.filter(
        policy_id__in=[r[2] for r in staged], status__in=("open", "correction_requested")
    ).values_list("policy_id", "code"):
        live.setdefault(policy_id, set()).add(code)
    for line, policy_no, policy_id, changed, old_digest in staged:
        status = "unchanged" if not changed else "created" if old_digest is None else "updated"
        result.items.append(
            {
                "line": line,
                "policy_no": policy_no,
                "status": status,
                "reasons": [],
                "flags": sorted(live.get(policy_id, ())),
            }
        )
    result.items.sort(key=lambda item: item["line"])
