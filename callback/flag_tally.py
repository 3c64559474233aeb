"""The flag list's counts by code, status, branch and channel, from the tally the database keeps.

Counting a million flags three times for the flag list's chips took most of a second per filter. The
tally (`FlagTally`) holds signed counts per (code, status, branch, channel), written by triggers on
every insert, update and delete of a flag and on every change of a policy's branch or channel
(migration 0020 installs them, for PostgreSQL and for SQLite): the counts are exact at every moment,
whichever way a flag changed. The sweep merges the rows (`compact`) so that they stay a few thousand.
"""

from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum

from .models import FlagTally

# Filters the tally answers (the others — salesperson, outlet, dates, policy number — need the flags).
TALLY_FILTERS = {"code": "code", "status": "status", "branch": "branch_code", "channel": "channel"}

_COLUMNS = "code, status, branch_code, branch_name, channel"


def answers(filters: Mapping[str, Any]) -> bool:
    return all(key in TALLY_FILTERS for key, value in filters.items() if value not in (None, ""))


def counts(filters: Mapping[str, Any], top_branches: int) -> dict[str, list]:
    """The flag list's counts (as `flags._facet_counts` returns them), from the tally."""

    def tally(*, leave_out: str = ""):
        rows = FlagTally.objects.all()
        for key, column in TALLY_FILTERS.items():
            if key != leave_out and filters.get(key):
                rows = rows.filter(**{column: filters[key]})
        return rows.order_by()

    by_code = tally(leave_out="code").values("code").annotate(total=Sum("n")).filter(total__gt=0)
    by_status = tally(leave_out="status").values("status").annotate(total=Sum("n")).filter(total__gt=0)
    by_branch = (
        tally()
        .values("branch_code", "branch_name")
        .annotate(total=Sum("n"))
        .filter(total__gt=0)
        .order_by("-total", "branch_code")[:top_branches]
    )
    return {
        "by_code": sorted(((r["code"], r["total"]) for r in by_code), key=lambda cn: (-cn[1], cn[0])),
        "by_status": {r["status"]: r["total"] for r in by_status},
        "by_branch": [(r["branch_code"], r["branch_name"], r["total"]) for r in by_branch],
    }


@transaction.atomic
def compact() -> int:
    """Merge the rows of each key that has more than one (or adds up to nothing) into one: the keys
    whose flags changed since the last run; the others are left as they are (the sweep runs this every
    minute). Safe beside the triggers: rows written meanwhile by other transactions are not seen, so
    not deleted, and stay. Returns the number of rows left."""
    table = FlagTally._meta.db_table
    merged = (
        f"SELECT {_COLUMNS}, SUM(n) AS n FROM {table} GROUP BY {_COLUMNS} HAVING COUNT(*) > 1 OR SUM(n) = 0"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement: one snapshot for what is read and deleted
            cursor.execute(
                f"WITH merged AS ({merged}), "
                f"gone AS (DELETE FROM {table} WHERE ({_COLUMNS}) IN (SELECT {_COLUMNS} FROM merged) "
                f"RETURNING {_COLUMNS}, n) "
                f"INSERT INTO {table} ({_COLUMNS}, n) SELECT {_COLUMNS}, SUM(n) FROM gone "
                f"GROUP BY {_COLUMNS} HAVING SUM(n) <> 0"
            )
        else:  # SQLite: one writer at a time, so the statements cannot interleave with a trigger
            cursor.execute(f"CREATE TEMP TABLE flag_tally_merged AS {merged}")
            cursor.execute(
                f"DELETE FROM {table} WHERE ({_COLUMNS}) IN (SELECT {_COLUMNS} FROM flag_tally_merged)"
            )
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}, n) "
                f"SELECT {_COLUMNS}, n FROM flag_tally_merged WHERE n <> 0"
            )
            cursor.execute("DROP TABLE flag_tally_merged")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]
