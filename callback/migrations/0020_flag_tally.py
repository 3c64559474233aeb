"""The flag tally (callback/flag_tally.py): triggers that keep signed counts of flags per code, status,
branch and channel on every change of a flag or of its policy's branch or channel, and the tally of
the flags already there. The SQL is written here, as migrations are snapshots."""

from django.db import migrations, models

_COLUMNS = "code, status, branch_code, branch_name, channel"
_POLICY = "JOIN callback_policy p ON p.id = d.policy_id"


def _rebuild_sql() -> str:
    """The tally from the flags as they are."""
    return (
        f"INSERT INTO callback_flagtally ({_COLUMNS}, n) SELECT d.code, d.status, p.branch_code, "
        f"p.branch_name, p.channel, COUNT(*) FROM callback_contactflag d {_POLICY} "
        "GROUP BY d.code, d.status, p.branch_code, p.branch_name, p.channel"
    )


def _pg_delta(rows: str) -> str:
    """Signed counts of `rows` (code, status, policy_id, n), per tally key."""
    return (
        f"INSERT INTO callback_flagtally ({_COLUMNS}, n) SELECT d.code, d.status, p.branch_code, "
        f"p.branch_name, p.channel, SUM(d.n) FROM ({rows}) d {_POLICY} "
        "GROUP BY d.code, d.status, p.branch_code, p.branch_name, p.channel HAVING SUM(d.n) <> 0"
    )


_PG_POLICY_MOVED = (
    f"INSERT INTO callback_flagtally ({_COLUMNS}, n) SELECT f.code, f.status, x.branch_code, x.branch_name, "
    "x.channel, SUM(x.n) FROM (SELECT o.id, o.branch_code, o.branch_name, o.channel, -1 AS n FROM old_rows o "
    "JOIN new_rows w ON w.id = o.id WHERE (o.branch_code, o.branch_name, o.channel) IS DISTINCT FROM "
    "(w.branch_code, w.branch_name, w.channel) UNION ALL SELECT w.id, w.branch_code, w.branch_name, w.channel, 1 "
    "FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE (o.branch_code, o.branch_name, o.channel) IS "
    "DISTINCT FROM (w.branch_code, w.branch_name, w.channel)) x JOIN callback_contactflag f ON f.policy_id = x.id "
    "GROUP BY f.code, f.status, x.branch_code, x.branch_name, x.channel HAVING SUM(x.n) <> 0"
)


def _pg_trigger(name: str, table: str, event: str, referencing: str, body: str) -> list[str]:
    return [
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


# Statement-level triggers with transition tables: an import raising 100,000 flags writes one
# aggregate per statement, not 100,000 rows.
PG_TRIGGERS = [
    *_pg_trigger(
        "flagtally_insert",
        "callback_contactflag",
        "INSERT",
        "NEW TABLE AS new_rows",
        _pg_delta("SELECT code, status, policy_id, 1 AS n FROM new_rows"),
    ),
    *_pg_trigger(
        "flagtally_delete",
        "callback_contactflag",
        "DELETE",
        "OLD TABLE AS old_rows",
        _pg_delta("SELECT code, status, policy_id, -1 AS n FROM old_rows"),
    ),
    *_pg_trigger(
        "flagtally_update",
        "callback_contactflag",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _pg_delta(
            "SELECT code, status, policy_id, 1 AS n FROM new_rows "
            "UNION ALL SELECT code, status, policy_id, -1 FROM old_rows"
        ),
    ),
    *_pg_trigger(
        "flagtally_policy_moved",
        "callback_policy",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _PG_POLICY_MOVED,
    ),
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS flagtally_insert ON callback_contactflag",
    "DROP TRIGGER IF EXISTS flagtally_delete ON callback_contactflag",
    "DROP TRIGGER IF EXISTS flagtally_update ON callback_contactflag",
    "DROP TRIGGER IF EXISTS flagtally_policy_moved ON callback_policy",
    "DROP FUNCTION IF EXISTS flagtally_insert()",
    "DROP FUNCTION IF EXISTS flagtally_delete()",
    "DROP FUNCTION IF EXISTS flagtally_update()",
    "DROP FUNCTION IF EXISTS flagtally_policy_moved()",
]


def _sqlite_row(flag: str, sign: int) -> str:
    return (
        f"INSERT INTO callback_flagtally ({_COLUMNS}, n) SELECT {flag}.code, {flag}.status, p.branch_code, "
        f"p.branch_name, p.channel, {sign} FROM callback_policy p WHERE p.id = {flag}.policy_id;"
    )


def _sqlite_policy(policy: str, sign: int) -> str:
    return (
        f"INSERT INTO callback_flagtally ({_COLUMNS}, n) SELECT f.code, f.status, {policy}.branch_code, "
        f"{policy}.branch_name, {policy}.channel, {sign} * COUNT(*) FROM callback_contactflag f "
        f"WHERE f.policy_id = {policy}.id GROUP BY f.code, f.status HAVING COUNT(*) > 0;"
    )


# SQLite has row-level triggers only (the embedded default: demo and small installations).
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER flagtally_insert AFTER INSERT ON callback_contactflag BEGIN {_sqlite_row('NEW', 1)} END",
    f"CREATE TRIGGER flagtally_delete AFTER DELETE ON callback_contactflag BEGIN {_sqlite_row('OLD', -1)} END",
    "CREATE TRIGGER flagtally_update AFTER UPDATE ON callback_contactflag WHEN OLD.code IS NOT NEW.code "
    "OR OLD.status IS NOT NEW.status OR OLD.policy_id IS NOT NEW.policy_id "
    f"BEGIN {_sqlite_row('OLD', -1)} {_sqlite_row('NEW', 1)} END",
    "CREATE TRIGGER flagtally_policy_moved AFTER UPDATE ON callback_policy WHEN OLD.branch_code IS NOT "
    "NEW.branch_code OR OLD.branch_name IS NOT NEW.branch_name OR OLD.channel IS NOT NEW.channel "
    f"BEGIN {_sqlite_policy('OLD', -1)} {_sqlite_policy('NEW', 1)} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS flagtally_insert",
    "DROP TRIGGER IF EXISTS flagtally_delete",
    "DROP TRIGGER IF EXISTS flagtally_update",
    "DROP TRIGGER IF EXISTS flagtally_policy_moved",
]


def install(apps, schema_editor) -> None:
    """Triggers for this database, and the tally of the flags already there."""
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in [*(PG_TRIGGERS if postgres else SQLITE_TRIGGERS), "DELETE FROM callback_flagtally", _rebuild_sql()]:
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor) -> None:
    for sql in PG_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('callback', '0019_stats_rollup'),
    ]

    operations = [
        migrations.CreateModel(
            name='TaskFacts',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('window_start', models.DateField(null=True)),
                ('window_end', models.DateField(null=True)),
                ('status', models.CharField(max_length=20)),
                ('outcome', models.CharField(max_length=32)),
                ('closed_at', models.DateTimeField(null=True)),
                ('deadline', models.DateTimeField(null=True)),
                ('first_at', models.DateTimeField(null=True)),
                ('calls', models.IntegerField()),
                ('contacts', models.IntegerField()),
                ('verified_calls', models.IntegerField()),
                ('failed_calls', models.IntegerField()),
                ('refusals', models.IntegerField()),
                ('handled', models.IntegerField()),
                ('handling', models.DurationField(null=True)),
            ],
            options={
                'db_table': 'stats_task_facts',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='FlagTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=32)),
                ('status', models.CharField(max_length=24)),
                ('branch_code', models.CharField(max_length=20)),
                ('branch_name', models.CharField(max_length=100)),
                ('channel', models.CharField(max_length=16)),
                ('n', models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
