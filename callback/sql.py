"""Small database helpers shared by the set-based modules (intake, screening, task sync, the claim)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from .models import Policy


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def create_temp_table(cursor, name: str, columns: str) -> None:
    """A fresh temporary table (per connection; one left by an earlier run on this connection goes)."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} ({columns})")


def insert_rows(cursor, table: str, rows: list[tuple], columns: tuple[str, ...] = ()) -> None:
    """Bulk-insert rows (all the table's columns in order, unless `columns` names them): COPY on
    PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    names = f" ({', '.join(columns)})" if columns else ""
    if is_postgres():
        with cursor.cursor.copy(f"COPY {table}{names} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(rows[0]))
        cursor.executemany(f"INSERT INTO {table}{names} VALUES ({marks})", rows)


def analyze(cursor, *tables: str) -> None:
    """Statistics for tables just filled in bulk (temporary tables are never seen by autovacuum): without
    them PostgreSQL guesses their size and plans nested loops over a million rows."""
    if is_postgres():
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


@dataclass(frozen=True)
class PolicyScope:
    """The policies a set-based step (screening, task sync) covers: the changed rows of an intake staging
    table, the given ids, or every policy. Made from a table name or ids, never from SQL text: its SQL is
    built here, the name quoted and the ids passed as parameters."""

    staging_table: str = ""
    ids: tuple[int, ...] | None = None  # with no staging table: None is every policy

    @classmethod
    def staging(cls, table_name: str) -> PolicyScope:
        """The policies of a staging table's changed rows (its columns `policy_id` and `changed`)."""
        return cls(staging_table=table_name)

    @classmethod
    def policies(cls, ids: Iterable[int] | None = None) -> PolicyScope:
        """The policies `ids`; every policy when None."""
        return cls(ids=None if ids is None else tuple(dict.fromkeys(ids)))

    @property
    def is_staged(self) -> bool:
        return bool(self.staging_table)

    def select_sql(self) -> str:
        """A subquery of the scope's policy ids, for a staging table or every policy (ids are inserted)."""
        if self.ids is not None:
            raise ValueError("a scope of ids is inserted into a table (insert_into), not selected")
        if self.is_staged:
            return f"SELECT policy_id FROM {connection.ops.quote_name(self.staging_table)} WHERE changed"
        return f"SELECT id FROM {connection.ops.quote_name(Policy._meta.db_table)}"

    def insert_into(self, cursor, table: str, *, chunk: int = 5000) -> None:
        """The scope's policy ids into `table`, whose only column is a primary key `policy_id`."""
        target = connection.ops.quote_name(table)
        if self.ids is None:
            cursor.execute(f"INSERT INTO {target} (policy_id) {self.select_sql()}")
            return
        for start in range(0, len(self.ids), chunk):
            cursor.executemany(
                f"INSERT INTO {target} (policy_id) VALUES (%s) ON CONFLICT DO NOTHING",
                [(pk,) for pk in self.ids[start : start + chunk]],
            )
