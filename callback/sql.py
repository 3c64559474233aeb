"""Small database helpers shared by the set-based modules (intake, screening, task sync, the claim)."""

from django.db import connection


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
