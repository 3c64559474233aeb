"""Benchmark: `manage.py export_flags` on 1,000,000 flags against a raw PostgreSQL COPY of the same rows.

    createdb -h 127.0.0.1 -U postgres hf_flags_bench   (once; the run fills it from scratch)
    DJANGO_DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/hf_flags_bench \
        .venv/bin/python -m bench.export_flags

BENCH_FLAGS sets the number of flags (default 1,000,000; four per policy). The XLSX run exports one
status (`--status correction_requested`, a quarter of the flags); BENCH_XLSX=0 skips it;
BENCH_REUSE=1 keeps the flags of the previous run when their number matches. Prints times,
rates, peak memory of each export process and the ratio to the COPY baseline measured in the same run.
"""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
FLAGS = int(os.environ.get("BENCH_FLAGS", "1000000"))
WITH_XLSX = os.environ.get("BENCH_XLSX", "1") != "0"
PER_POLICY = 4
CODES = [
    "mobile_invalid",
    "phone_is_agent",
    "address_incomplete",
    "id_invalid",
    "phone_shared",
    "missing_field",
]


def generate() -> None:
    policies = FLAGS // PER_POLICY
    codes = "ARRAY[" + ",".join(f"'{c}'" for c in CODES) + "]"
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE callback_contactflag, callback_party, callback_callbacktask, callback_policy CASCADE"
        )
        cur.execute(
            f"""
            INSERT INTO callback_policy (policy_no, product_code, product_name, product_type, whole_life,
                channel, branch_code, branch_name, agent_code, agent_name, outlet_code, issue_date, in_scope,
                row_digest, payment_frequency, created_at, updated_at)
            SELECT 'PB' || lpad(i::text, 10, '0'), 'P-TR20', '国寿福终身寿险', 'traditional', true,
                   (ARRAY['agency','bancassurance','broker'])[1 + i % 3], 'B' || (1100 + i % 40),
                   '分公司' || (i % 40), 'A' || lpad((i % 5000)::text, 6, '0'), '业务员' || (i % 5000), '',
                   DATE '2026-11-01', true, '',
                   'annual', now(), now()
            FROM generate_series(1, {policies}) AS i
            """
        )
        cur.execute(
            """
            INSERT INTO callback_party (policy_id, role, seq, name, gender, id_type, id_no, mobile,
                mobile_e164, phone, phone_e164, address, address_key, relation)
            SELECT id, 'applicant', 0, '陈磊' || (id % 1000), 'M', 'id_card', '130426196009081436',
                   '13800138000', '+8613800138000', '', '', '河北省邯郸市涉县建国路57号', '', 'self'
            FROM callback_policy
            """
        )
        cur.execute(
            f"""
            INSERT INTO callback_contactflag
                (policy_id, party, field, code, detail, status, raised_at, close_reason)
            SELECT p.id, 'applicant', 'field' || k, ({codes})[1 + (p.id + k) % {len(CODES)}],
                   '+8613800138000 shared by 3 applicants',
                   (ARRAY['open','open','correction_requested'])[1 + k % 3],
                   now() - (p.id % 30) * interval '1 day', ''
            FROM callback_policy p CROSS JOIN generate_series(1, {PER_POLICY}) AS k
            """
        )
        cur.execute("ANALYZE callback_policy; ANALYZE callback_party; ANALYZE callback_contactflag")


def copy_baseline(path: Path) -> float:
    """The floor: PostgreSQL writing the same rows and columns as CSV, no Python in between."""
    sql = """
        COPY (SELECT p.policy_no, f.party, f.field, f.code, f.detail, f.status,
                     to_char(f.raised_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
                     p.branch_code, p.channel, p.agent_code, p.agent_name, a.name
              FROM callback_contactflag f JOIN callback_policy p ON p.id = f.policy_id
              LEFT JOIN callback_party a ON a.policy_id = p.id AND a.role = 'applicant' AND a.seq = 0
              ORDER BY f.policy_id, f.id) TO STDOUT WITH (FORMAT csv, HEADER)
    """
    start = time.perf_counter()
    with connection.cursor() as cur, open(path, "wb") as out:
        with cur.cursor.copy(sql) as copy:
            for block in copy:
                out.write(block)
    return time.perf_counter() - start


def run_export(path: Path, *extra: str) -> tuple[float, float]:
    """Runs the real command in its own process; returns (seconds, peak RSS in MB of that process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "export_flags", "--output", str(path), *extra],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL to your own benchmark database.")
    OUT.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM callback_contactflag")
        have = cur.fetchone()[0]
    if os.environ.get("BENCH_REUSE") == "1" and have == FLAGS:
        print(f"reusing the {FLAGS:,} flags already generated")
    else:
        generate()
        print(f"generated {FLAGS:,} flags in {time.perf_counter() - start:.1f} s")

    baseline = copy_baseline(OUT / "copy.csv")
    print(f"COPY baseline            {baseline:7.1f} s  {FLAGS / baseline:>10,.0f} rows/s")
    seconds, peak = run_export(OUT / "flags.csv")
    rows = sum(1 for _ in open(OUT / "flags.csv", encoding="utf-8-sig")) - 1
    assert rows == FLAGS, rows
    print(
        f"export_flags CSV         {seconds:7.1f} s  {FLAGS / seconds:>10,.0f} rows/s  "
        f"{seconds / baseline:4.1f}x COPY  peak RSS {peak:.0f} MB"
    )
    if WITH_XLSX:
        with connection.cursor() as cur:  # the XLSX run exports one status of a smaller slice
            cur.execute("SELECT count(*) FROM callback_contactflag WHERE status = 'correction_requested'")
            xlsx_rows = cur.fetchone()[0]
        seconds, peak = run_export(OUT / "flags.xlsx", "--status", "correction_requested")
        print(
            f"export_flags XLSX        {seconds:7.1f} s  {xlsx_rows / seconds:>10,.0f} rows/s  "
            f"({xlsx_rows:,} rows)  peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
