"""Small database helpers shared by the set-based modules (intake, screening, task sync)."""

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def analyze(cursor, *tables: str) -> None:
    """Statistics for tables just filled in bulk (temporary tables are never seen by autovacuum): without
    them PostgreSQL guesses their size and plans nested loops over a million rows."""
    if is_postgres():
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
