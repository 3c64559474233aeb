"""Intake benchmark: 1,000,000 policies with their registries, on PostgreSQL, in one run.

    DJANGO_DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/hf_intake_bench \
        .venv/bin/python -m bench.intake [--rows 1000000] [--ie-rows 20000]  # --ie-rows 0: skip it

Measures (1) a raw COPY of the generated CSV into a staging table (the baseline), (2) Huifang's import
+ screening of the same file, (3) the storage floor: the rows the import wrote, INSERTed once more into
empty copies of their tables with the same indexes (what storing them costs, before any parsing or
screening), (4) django-import-export importing the first 20,000 rows into an equivalent flat model (a
bench-only table, not in the app's migrations). Prints ratios and the peak
memory of this process (resource.getrusage).
"""

import argparse
import csv
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402

from callback import intake  # noqa: E402
from callback.demo import data as demo_data  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def generate(rows: int) -> Path:
    """Stream the files to bench/out (reused when already generated with the same row count)."""
    OUT.mkdir(exist_ok=True)
    policies = OUT / f"policies_{rows}.csv"
    agents, outlets = demo_data.agent_rows(2000), demo_data.outlet_rows(500)
    for name, columns, data in (
        ("agents", demo_data.AGENT_COLUMNS, agents),
        ("outlets", demo_data.OUTLET_COLUMNS, outlets),
        ("company_numbers", demo_data.COMPANY_COLUMNS, demo_data.company_rows()),
    ):
        with open(OUT / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(data)
    if policies.exists():
        return policies
    tmp = policies.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=demo_data.POLICY_COLUMNS)
        writer.writeheader()
        today = dt.date(2026, 11, 25)
        for row in demo_data.policy_rows(
            rows, today=today, seed=4242, agents=agents, outlets=outlets, prefix="PB"
        ):
            writer.writerow(row)
    tmp.rename(policies)
    return policies


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE callback_contactflag, callback_party, callback_callbacktask, callback_callattempt, "
            "callback_policy, callback_agent, callback_outlet, callback_companynumber, "
            "callback_registryphone, callback_importrun CASCADE"
        )
        cursor.execute("VACUUM ANALYZE")  # autocommit here: a clean start for every run


def raw_copy(path: Path) -> float:
    columns = ", ".join(f"{c} text" for c in demo_data.POLICY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_staging")
        cursor.execute(f"CREATE TABLE bench_copy_staging ({columns})")
        started = time.perf_counter()
        with (
            open(path, "rb") as handle,
            cursor.cursor.copy("COPY bench_copy_staging FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_staging")
    return elapsed


FLOOR_TABLES = ("callback_policy", "callback_party", "callback_contactflag", "callback_callbacktask")


def storage_floor() -> dict[str, float]:
    """Seconds to store the imported rows once more, and nothing else: for each table the import
    wrote, INSERT … SELECT of its rows into an empty copy with the same indexes and constraints
    (`LIKE … INCLUDING ALL`; foreign keys are not copied, so their checks are left out). No parsing,
    no validation, no screening: a floor under any import into this schema on this machine."""
    times = {}
    with connection.cursor() as cursor:
        for table in FLOOR_TABLES:
            cursor.execute("DROP TABLE IF EXISTS bench_floor")
            cursor.execute(f"CREATE TABLE bench_floor (LIKE {table} INCLUDING ALL)")
            started = time.perf_counter()
            cursor.execute(f"INSERT INTO bench_floor SELECT * FROM {table}")
            times[table] = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_floor")
    return times


def import_export_rate(path: Path, rows: int) -> tuple[float, float]:
    """Rows per second of django-import-export into a flat model with the same columns (plain, bulk)."""
    import tablib
    from import_export import resources

    attrs = {c: models.CharField(max_length=300, blank=True, default="") for c in demo_data.POLICY_COLUMNS}
    attrs["policy_no"] = models.CharField(max_length=40, unique=True)
    attrs["__module__"] = __name__
    attrs["Meta"] = type(
        "Meta", (), {"app_label": "callback", "db_table": "bench_flat_policy", "managed": False}
    )
    flat = type("BenchFlatPolicy", (models.Model,), attrs)
    with connection.schema_editor() as editor:
        connection.cursor().execute("DROP TABLE IF EXISTS bench_flat_policy")
        editor.create_model(flat)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        data = [next(reader) for _ in range(rows)]
    rates = []
    for bulk in (False, True):
        flat.objects.all().delete()
        meta = type(
            "Meta",
            (),
            {"model": flat, "import_id_fields": ["policy_no"], "use_bulk": bulk, "skip_diff": bulk},
        )
        resource = type("FlatResource", (resources.ModelResource,), {"Meta": meta})()
        dataset = tablib.Dataset(*data, headers=header)
        started = time.perf_counter()
        result = resource.import_data(dataset, dry_run=False, raise_errors=True)
        elapsed = time.perf_counter() - started
        assert not result.has_errors()
        rates.append(rows / elapsed)
    with connection.schema_editor() as editor:
        editor.delete_model(flat)
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ie-rows", type=int, default=20_000, help="0 skips django-import-export")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run with DATABASE_URL pointing at a PostgreSQL database of your own.")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    path = generate(args.rows)
    print(
        f"generated {args.rows:,} policies ({path.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    reset()
    copy_s = raw_copy(path)
    print(f"raw COPY into a staging table: {copy_s:.1f} s ({args.rows / copy_s:,.0f} rows/s)")
    for kind in ("agents", "outlets", "company_numbers"):
        intake.import_registry(kind=kind, path=OUT / f"{kind}.csv")
    started = time.perf_counter()
    result = intake.import_policies(path=path, today=dt.date(2026, 11, 25))
    huifang_s = time.perf_counter() - started
    flags = sum(result.flags_raised.values())
    print(
        f"Huifang import + screening: {huifang_s:.1f} s ({args.rows / huifang_s:,.0f} rows/s), "
        f"created {result.created:,}, rejected {result.rejected}, flags {flags:,}; "
        f"read+validate+stage {result.seconds['reading']:.1f} s, "
        f"merge+screen {result.seconds['writing']:.1f} s, "
        f"callback tasks {result.seconds.get('tasks', 0):.1f} s"
    )
    floor = storage_floor()
    floor_s = sum(floor.values())
    print(
        f"storage floor (the same rows INSERTed into empty copies of the tables with their indexes): "
        f"{floor_s:.1f} s — "
        + ", ".join(f"{t.removeprefix('callback_')} {s:.1f} s" for t, s in floor.items())
    )
    started = time.perf_counter()
    again = intake.import_policies(path=path, today=dt.date(2026, 11, 25))
    reimport_s = time.perf_counter() - started
    print(f"re-import of the unchanged file: {reimport_s:.1f} s (unchanged {again.unchanged:,})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    huifang_rate = args.rows / huifang_s
    if args.ie_rows:
        plain, bulk = import_export_rate(path, args.ie_rows)
        print(
            f"django-import-export, {args.ie_rows:,} rows: {plain:,.0f} rows/s (use_bulk: {bulk:,.0f} rows/s)"
        )
    print("--- ratios")
    print(f"Huifang / COPY time: {huifang_s / copy_s:.2f}x (goal <= 4x)")
    print(
        f"storage floor / COPY time: {floor_s / copy_s:.2f}x; "
        f"Huifang / storage floor: {huifang_s / floor_s:.2f}x"
    )
    if args.ie_rows:
        print(
            f"Huifang per-row rate / import-export: {huifang_rate / plain:.0f}x plain, "
            f"{huifang_rate / bulk:.0f}x use_bulk (goal >= 20x)"
        )
    print(f"peak memory (import run, before import-export): {peak_mb:.0f} MB (goal <= 500 MB)")
    print("load average (1, 5, 15 min): " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
