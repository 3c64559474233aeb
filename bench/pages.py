"""Page benchmark: every supervisor and admin page at a large insurer's scale, on PostgreSQL.

    DJANGO_DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/hf_bench_scale \
        .venv/bin/python -m bench.pages [--repeat 10] [--only tasks] [--explain 3] [--fill-only]

One data set (filled once, set-based SQL; a later run finds it and skips the fill):
1,000,000 open callback tasks (plus 100,000 awaiting receipt, in review and closed) on 1,100,000
policies with their applicants, 3,000,000 call attempts and 1,000,000 contact flags, 8 queues,
200 agents, 200 tasks held and 5,000 appointments (moved to around now at the start of each run),
500 imports with their reports.

One runner: each page of `PAGES` (a list of (name, url); the statistics pages add theirs) is
requested through Django's test client as a logged-in supervisor (`ADMIN_PAGES` as an admin), with
DEBUG off, once to warm up and then `--repeat` times; it prints p50/p95 per page, the number of
queries of one request and the EXPLAIN ANALYZE of the slowest query on the slowest pages. The baseline,
measured in the same run, is twofold: a bare `SELECT … ORDER BY id LIMIT 50` of the same tasks
with their policies (what the database needs at least), and the login page through the same client
(what a page costs at least on this machine at this moment: the machine is shared, so absolute
figures move with its load); each page's p50 is given as a ratio to both.
"""

import argparse
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

# BENCH_PAGES_SCALE=0.001 fills a thousandth (to try the benchmark itself on another database).
SCALE = float(os.environ.get("BENCH_PAGES_SCALE", "1"))
OPEN_TASKS = int(1_000_000 * SCALE)
OTHER_TASKS = int(100_000 * SCALE)  # awaiting receipt, review, completed, failed, expired
ATTEMPTS = int(3_000_000 * SCALE)
FLAGS = int(1_000_000 * SCALE)
QUEUES = 8
AGENTS = 200
HELD = 200
APPOINTMENT_EVERY = 199  # one open task in 199 has an appointment (5,000; prime to the 15 receipt days)
BRANCHES = 60
IMPORTS = 500

# (name, url) requested as a supervisor. Add a page here to have it measured; names are unique.
PAGES: list[tuple[str, str]] = [
    ("queue", "/queue/"),
    ("queue (htmx refresh)", "/queue/#htmx"),
    ("tasks", "/tasks/"),
    ("tasks page 2", "/tasks/?page=2"),
    ("tasks last page", "/tasks/?page=last"),
    ("tasks when=due", "/tasks/?when=due"),
    ("tasks when=today", "/tasks/?when=today"),
    ("tasks when=overdue", "/tasks/?when=overdue"),
    ("tasks when=closing", "/tasks/?when=closing"),
    ("tasks when=held", "/tasks/?when=held"),
    ("tasks when=appointments", "/tasks/?when=appointments"),
    ("tasks status=open", "/tasks/?status=open"),
    ("tasks status=awaiting_receipt", "/tasks/?status=awaiting_receipt"),
    ("tasks status=review", "/tasks/?status=review"),
    ("tasks status=completed", "/tasks/?status=completed"),
    ("tasks status=failed", "/tasks/?status=failed"),
    ("tasks status=expired", "/tasks/?status=expired"),
    ("tasks queue=pgq3", "/tasks/?queue=pgq3"),
    ("tasks queue=pgq3&status=open", "/tasks/?queue=pgq3&status=open"),
    ("tasks queue=pgq3&when=due", "/tasks/?queue=pgq3&when=due"),
    ("tasks branch=B017", "/tasks/?branch=B017"),
    ("tasks policy_no=0000123", "/tasks/?policy_no=0000123"),
    ("calls", "/calls/"),
    ("calls page 2", "/calls/?page=2"),
    ("calls outcome=verified", "/calls/?outcome=verified"),
    ("calls outcome=refused", "/calls/?outcome=refused"),
    ("calls outcome=hung_up", "/calls/?outcome=hung_up"),
    ("flags", "/flags/"),
    ("flags page 2", "/flags/?page=2"),
    ("flags code=phone_shared", "/flags/?code=phone_shared"),
    ("flags status=open", "/flags/?status=open"),
    ("flags status=waived", "/flags/?status=waived"),
    ("flags code+status", "/flags/?code=mobile_invalid&status=open"),
    ("flags branch=B017", "/flags/?branch=B017"),
    ("flags channel=bancassurance", "/flags/?channel=bancassurance"),
    ("flags agent=A00042", "/flags/?agent=A00042"),
    ("flags raised last 7 days", "/flags/?raised_from={week_ago}"),
    ("flags raised on one day", "/flags/?raised_from={day}&raised_to={day}"),
    ("flags q=0000123", "/flags/?q=0000123"),
    ("policy", "/policies/{policy}/"),
    ("imports", "/imports/"),
]
# The statistics (callback/stats, issue #13): the page for a month and for a year (the default tab,
# failures by reason), and each breakdown of the month. Figures are cached for STATS_CACHE_SECONDS
# (60): run with STATS_CACHE_SECONDS=0 for every request computed afresh. The run rebuilds the
# statistics roll-up first (callback/stats/rollup.py) and prints how long that took; --live-stats
# measures the pages without it.
STATS_BREAKDOWNS = ("branch", "salesperson", "channel", "product", "outlet", "agent", "call_channel", "time")
PAGES += [
    ("stats month", "/stats/?preset=custom&first={month_ago}&last={today}"),
    ("stats year", "/stats/?preset=custom&first={year_ago}&last={today}"),
    ("stats month by call date", "/stats/?preset=custom&basis=call&first={month_ago}&last={today}"),
    *[
        (f"stats month by={by}", f"/stats/?preset=custom&first={{month_ago}}&last={{today}}&by={by}")
        for by in STATS_BREAKDOWNS
    ],
    ("stats year by=salesperson", "/stats/?preset=custom&first={year_ago}&last={today}&by=salesperson"),
    (
        "stats drill-down tasks",
        "/tasks/?preset=custom&first={month_ago}&last={today}&basis=receipt&result=not_in_time",
    ),
]
# (name, url) requested as an admin.
ADMIN_PAGES: list[tuple[str, str]] = [
    ("imports (admin)", "/imports/"),
]

# By primary key, so that the baseline is the same whatever indexes a change adds.
BASELINE_SQL = """
    SELECT t.*, p.* FROM callback_callbacktask t JOIN callback_policy p ON p.id = t.policy_id
    ORDER BY t.id LIMIT 50
"""


def _count(cur, sql: str) -> int:
    cur.execute(sql)
    return cur.fetchone()[0]


def fill() -> None:
    """The data set, unless a previous run left it complete (bench_pages_filled)."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction

    from callback.models import Queue, StaffProfile, Team

    if connection.vendor != "postgresql":
        sys.exit("bench.pages needs PostgreSQL: set DATABASE_URL (e.g. .../hf_bench_scale).")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_pages_filled (tasks int, attempts int, flags int)")
        cur.execute("SELECT tasks, attempts, flags FROM bench_pages_filled")
        if cur.fetchone() == (OPEN_TASKS + OTHER_TASKS, ATTEMPTS, FLAGS):
            return
    started = time.perf_counter()
    print("filling the data set (a few minutes) …", flush=True)
    teams = []
    for i in range(QUEUES):
        team, _ = Team.objects.get_or_create(name=f"bench team {i}")
        queue, _ = Queue.objects.update_or_create(
            code=f"pgq{i}",
            defaults={
                "name": f"回访队列 {i}",
                "weekday_start": "00:00",
                "weekday_end": "23:59:59",
                "weekend_start": "00:00",
                "weekend_end": "23:59:59",
            },
        )
        queue.teams.add(team)
        teams.append(team)
    agent_group = Group.objects.get(name="agent")
    for i in range(AGENTS):
        user, created = User.objects.get_or_create(
            username=f"pg-agent-{i}", defaults={"first_name": f"坐席{i}", "last_name": "王"}
        )
        if created:
            user.groups.add(agent_group)
        StaffProfile.objects.update_or_create(user=user, defaults={"team": teams[i % QUEUES]})
    for name, role in (("pg-supervisor", "supervisor"), ("pg-admin", "admin")):
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.groups.add(Group.objects.get(name=role))
    agent_ids = list(User.objects.filter(username__startswith="pg-agent-").values_list("pk", flat=True))
    queue_ids = list(
        Queue.objects.filter(code__startswith="pgq").order_by("code").values_list("pk", flat=True)
    )
    n_pol = OPEN_TASKS + OTHER_TASKS
    step = time.perf_counter

    with transaction.atomic(), connection.cursor() as cur:
        bench_policies = "SELECT id FROM callback_policy WHERE policy_no LIKE 'PG%%'"
        cur.execute(
            "DELETE FROM callback_callattempt WHERE task_id IN "
            f"(SELECT id FROM callback_callbacktask WHERE policy_id IN ({bench_policies}))"
        )
        for table in ("contactflag", "callbacktask", "party"):
            cur.execute(f"DELETE FROM callback_{table} WHERE policy_id IN ({bench_policies})")
        cur.execute("DELETE FROM callback_policy WHERE policy_no LIKE 'PG%%'")
        cur.execute("DELETE FROM callback_importrun WHERE filename LIKE 'bench-%%'")
        t = step()
        # Policies: 60 branches, 5 channels, 5,000 salespeople, issued over the last 15 days. A branch is
        # not a function of the receipt date (g % 15): a branch whose tasks all closed on the same day
        # would send PostgreSQL's plans for "branch = …" down the deadline order for nothing.
        cur.execute(
            """INSERT INTO callback_policy (policy_no, product_code, product_name, product_type, whole_life,
                   payment_frequency, channel, branch_code, branch_name, agent_code, agent_name, outlet_code,
                   issue_date, receipt_date, in_scope, row_digest, created_at, updated_at)
               SELECT 'PG' || lpad(g::text, 10, '0'), 'P' || (g %% 20), '终身寿险 ' || (g %% 20),
                      (ARRAY['traditional','participating','universal','health','annuity'])[1 + g %% 5],
                      g %% 5 = 0, 'annual',
                      (ARRAY['agency','bancassurance','broker','telemarketing','online'])[1 + (g / 7) %% 5],
                      'B' || lpad(((g / 15) %% %(branches)s)::text, 3, '0'),
                      '分公司 ' || lpad(((g / 15) %% %(branches)s)::text, 3, '0'),
                      'A' || lpad((g %% 5000)::text, 5, '0'), '业务员' || (g %% 5000),
                      'O' || (g %% 3000), current_date - 1 - (g %% 15)::int,
                      current_date - (g %% 15)::int, true, '',
                      now(), now()
               FROM generate_series(1::bigint, %(n)s) g""",
            {"n": n_pol, "branches": BRANCHES},
        )
        cur.execute("SELECT min(id), max(id) FROM callback_policy WHERE policy_no LIKE 'PG%%'")
        first_policy, last_policy = cur.fetchone()
        assert last_policy - first_policy + 1 == n_pol, "policy ids are not contiguous: use a fresh database"
        print(f"  policies {step() - t:.0f} s", flush=True)
        t = step()
        cur.execute(
            """INSERT INTO callback_party (policy_id, role, seq, name, gender, birth_date, id_type, id_no,
                   mobile, mobile_e164, phone, phone_e164, address, address_key, relation)
               SELECT id, 'applicant', 0,
                      (ARRAY['陈','王','李','张','刘','欧阳'])[1 + id %% 6] || '小' || (id %% 97),
                      (ARRAY['M','F'])[1 + id %% 2], date '1970-01-01' + (id %% 15000)::int, 'id_card',
                      '11010519' || lpad((id %% 10000000000)::text, 10, '0'),
                      '138' || lpad((id %% 100000000)::text, 8, '0'),
                      '+86138' || lpad((id %% 100000000)::text, 8, '0'), '', '',
                      '北京市朝阳区建国路 ' || (id %% 999) || ' 号', 'bj-chaoyang-' || (id %% 999), 'self'
               FROM callback_policy WHERE policy_no LIKE %(prefix)s""",
            {"prefix": "PG%"},
        )
        print(f"  parties {step() - t:.0f} s", flush=True)
        t = step()
        # Tasks: deadlines over the next 16 days; next attempts from two days ago to a day ahead
        # (two thirds due, one third due for over 24 h); the last 100,000 policies' tasks not open.
        cur.execute(
            """INSERT INTO callback_callbacktask (policy_id, queue_id, status, window_start, window_end,
                   deadline, next_attempt_at, attempts, dead_numbers, outcome, closed_at, created_at,
                   updated_at, review_note)
               SELECT p.id, (%(queues)s::bigint[])[1 + (p.id %% %(nq)s)],
                      CASE WHEN p.id - %(first)s < %(open)s THEN 'open'
                           ELSE (ARRAY['awaiting_receipt','review','completed','completed','completed',
                                       'completed','failed','expired','expired','completed'])[1 + p.id %% 10]
                      END,
                      p.receipt_date + 1, p.receipt_date + 15,
                      (p.receipt_date + 16)::timestamp AT TIME ZONE 'Asia/Shanghai',
                      now() + ((p.id * 7919) %% 4320 - 2880) * interval '1 minute', (p.id %% 4),
                      '[]'::jsonb, '',
                      CASE WHEN p.id - %(first)s >= %(open)s AND p.id %% 10 >= 2
                           THEN now() - (p.id %% 10) * interval '1 day' END,
                      now() - (p.id %% 1000) * interval '1 second', now(), ''
               FROM callback_policy p WHERE p.policy_no LIKE 'PG%%'""",
            {"queues": queue_ids, "nq": QUEUES, "first": first_policy, "open": OPEN_TASKS},
        )
        cur.execute(
            "UPDATE callback_callbacktask SET outcome = CASE status WHEN 'completed' THEN 'verified' "
            "WHEN 'failed' THEN 'refused' WHEN 'expired' THEN 'no_answer' WHEN 'review' THEN "
            "'verified_with_issues' END WHERE status IN ('completed', 'failed', 'expired', 'review')"
        )
        cur.execute("SELECT min(id), max(id) FROM callback_callbacktask")
        first_task, last_task = cur.fetchone()
        assert last_task - first_task + 1 == n_pol, "task ids are not contiguous: use a fresh database"
        print(f"  tasks {step() - t:.0f} s", flush=True)
        t = step()
        # Attempts: about three per task, ended over the last 15 days, by 200 agents.
        cur.execute(
            """INSERT INTO callback_callattempt (task_id, channel, agent_id, number_dialled, started_at,
                   ended_at, outcome, notes, telephony_backend, call_sid, call_status, duration_seconds,
                   recording_url, answers)
               SELECT %(first)s + (a * 7919) %% %(n)s, 'phone', (%(agents)s::int[])[1 + a %% %(na)s],
                      '138' || lpad((a %% 100000000)::text, 8, '0'),
                      now() - (a %% 21600) * interval '1 minute',
                      now() - (a %% 21600) * interval '1 minute' + interval '3 minutes',
                      (ARRAY['no_answer','no_answer','busy','verified','verified','verified','hung_up',
                             'callback_requested','refused','wrong_number'])[1 + a %% 10],
                      '', 'console', '', 'completed', 180, '',
                      '[{"key": "identity", "text": "请问是陈先生本人吗？",
                         "answer": "yes", "passed": true}]'::jsonb
               FROM generate_series(0::bigint, %(attempts)s - 1) a""",
            {"first": first_task, "n": n_pol, "agents": agent_ids, "na": AGENTS, "attempts": ATTEMPTS},
        )
        print(f"  attempts {step() - t:.0f} s", flush=True)
        t = step()
        # Flags: one per policy on the first million, 19 codes, raised over the last 30 days.
        cur.execute(
            """INSERT INTO callback_contactflag (policy_id, party, field, code, detail, status, raised_at,
                   correction_requested_at, closed_at, close_reason)
               SELECT %(first)s + g, 'applicant', 'mobile',
                      (ARRAY['missing_field','mobile_invalid','mobile_invalid','landline_invalid',
                             'address_incomplete','id_invalid','id_birth_mismatch','id_gender_mismatch',
                             'relation_inconsistent','phone_is_agent','phone_is_outlet','phone_is_company',
                             'phone_shared','phone_shared','address_is_outlet','agent_unknown',
                             'agent_name_mismatch','outlet_unknown',
                             'callback_wrong_number'])[1 + (g * 31) %% 19],
                      '与 +86138' || lpad((g %% 100000000)::text, 8, '0') || ' 的投保人相同',
                      (ARRAY['open','open','open','open','open','open','open','correction_requested',
                             'resolved','waived'])[1 + g %% 10],
                      now() - (g %% 43200) * interval '1 minute',
                      CASE WHEN g %% 10 = 7 THEN now() END,
                      CASE WHEN g %% 10 >= 8 THEN now() END,
                      CASE WHEN g %% 10 >= 8 THEN '已核实' ELSE '' END
               FROM generate_series(0::bigint, %(flags)s - 1) g""",
            {"first": first_policy, "flags": FLAGS},
        )
        print(f"  flags {step() - t:.0f} s", flush=True)
        # Imports with their reports (some with a thousand rejections, as a bad file has).
        cur.execute(
            """INSERT INTO callback_importrun (kind, source, filename, stored_path, dry_run, status,
                   rows_read, created, updated, unchanged, rejected, report, error, created_at, finished_at)
               SELECT 'policies', 'command', 'bench-' || g || '.csv', '', false, 'done', 80000, 79000, 500,
                      0, CASE WHEN g %% 10 = 0 THEN 1000 ELSE 3 END,
                      jsonb_build_object(
                          'rejections', (SELECT jsonb_agg(jsonb_build_object('line', r, 'policy_no', '',
                                                  'reason', '缺少必填字段：投保人手机'))
                                         FROM generate_series(1, CASE WHEN g %% 10 = 0 THEN 1000
                                                                      ELSE 3 END) r),
                          'flags_raised', jsonb_build_object('mobile_invalid', 120, 'phone_shared', 40)),
                      '', now() - g * interval '1 hour', now() - g * interval '1 hour' + interval '5 minutes'
               FROM generate_series(1, %(n)s) g""",
            {"n": IMPORTS},
        )
        cur.execute("DELETE FROM bench_pages_filled")
        cur.execute("INSERT INTO bench_pages_filled VALUES (%s, %s, %s)", [n_pol, ATTEMPTS, FLAGS])
    with connection.cursor() as cur:
        t = step()
        cur.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze {step() - t:.0f} s", flush=True)
    print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)


def prepare_run() -> None:
    """What moves with the clock, set around now at each run: live leases and appointments."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT array_agg(id ORDER BY id) FROM auth_user WHERE username LIKE 'pg-agent-%%'")
        agents = cur.fetchone()[0]
        cur.execute(
            "UPDATE callback_callbacktask SET holder_id = NULL, lease_expires_at = NULL "
            "WHERE holder_id IS NOT NULL"
        )
        cur.execute(
            """UPDATE callback_callbacktask t SET holder_id = (%(agents)s::int[])[h.n],
                      lease_expires_at = now() + interval '2 hours'
               FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM callback_callbacktask
                     WHERE status = 'open' ORDER BY id LIMIT %(held)s) h WHERE t.id = h.id""",
            {"agents": agents, "held": HELD},
        )
        cur.execute(
            "UPDATE callback_callbacktask SET appointment_at = NULL, appointment_agent_id = NULL "
            "WHERE appointment_at IS NOT NULL AND id %% %(every)s <> 0",
            {"every": APPOINTMENT_EVERY},
        )
        cur.execute(
            """UPDATE callback_callbacktask SET
                      appointment_at = now() + ((id / %(every)s) %% 48 - 12) * interval '1 hour',
                      appointment_agent_id = CASE WHEN id %% 2 = 0 THEN (%(agents)s::int[])[1 + id %% 200] END
               WHERE status = 'open' AND id %% %(every)s = 0""",
            {"agents": agents, "every": APPOINTMENT_EVERY},
        )
        cur.execute("ANALYZE callback_callbacktask")


def _expand(url: str) -> str:
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    with connection.cursor() as cur:
        # A flagged policy with attempts, in the middle of the data set.
        cur.execute(
            "SELECT policy_no FROM callback_policy WHERE policy_no LIKE %s ORDER BY id OFFSET %s LIMIT 1",
            ["PG%", OPEN_TASKS // 8],
        )
        policy = cur.fetchone()[0]
    return url.format(
        week_ago=today - dt.timedelta(days=7),
        day=today - dt.timedelta(days=3),
        policy=policy,
        today=today,
        month_ago=today - dt.timedelta(days=29),
        year_ago=today - dt.timedelta(days=364),
    )


def _get(client, url: str):
    headers = {}
    if url.endswith("#htmx"):
        url, headers = url[: -len("#htmx")], {"HX-Request": "true"}
    if url.endswith("page=last"):
        url = url.replace("page=last", "page=20000")
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return response


def measure(client, name: str, url: str, repeat: int, *, cold: bool = False) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = _expand(url)
    _get(client, url)  # warm up: templates, the connection, PostgreSQL's buffers
    times, cpu = [], []
    for _ in range(repeat):
        if cold:  # what the first supervisor to ask gets: nothing shared in the cache yet
            cache.clear()  # (sessions are in the database: the client stays logged in)
        t0, c0 = time.perf_counter(), time.process_time()
        _get(client, url)
        times.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    with CaptureQueriesContext(connection) as ctx:
        _get(client, url)
    queries = [q for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    times.sort()
    return {
        "name": name,
        "url": url,
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
        "queries": len(queries),
        # What the page costs without other processes queueing for the CPU: this process's CPU time
        # (Django, templates) and the database's time for the page's queries.
        "cpu": statistics.median(cpu),
        "sql": sum(1000 * float(q["time"]) for q in queries),
        "slowest_sql": slowest["sql"] if slowest else "",
        "slowest_ms": 1000 * float(slowest["time"]) if slowest else 0.0,
    }


def baseline(repeat: int) -> float:
    from django.db import connection

    times = []
    with connection.cursor() as cur:
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            cur.execute(BASELINE_SQL)
            cur.fetchall()
            times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times[1:])


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per page (after one warm-up)")
    parser.add_argument("--only", default="", help="measure only pages whose name contains this")
    parser.add_argument(
        "--explain", type=int, default=3, help="EXPLAIN ANALYZE the slowest query of the N slowest pages"
    )
    parser.add_argument("--fill-only", action="store_true", help="fill the data set and stop")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the shared cache before every request (live queue, flag counts, statistics)",
    )
    parser.add_argument(
        "--live-stats", action="store_true", help="statistics from the live tables, without the roll-up"
    )
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    # As in production: no query log, no debug pages.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    fill()
    if args.fill_only:
        return
    prepare_run()
    from callback.models import StatsRefresh
    from callback.stats import rollup

    if args.live_stats:
        StatsRefresh.objects.all().delete()  # no roll-up: every statistic from the live tables
    elif args.only == "" or "stats" in args.only:
        run = rollup.refresh(full=True)
        print(
            f"statistics roll-up, full refresh (the job's work, daily): {run.seconds:.1f} s, {run.rows} rows"
        )
    base = baseline(args.repeat)
    print(f"baseline (bare SELECT … ORDER BY id LIMIT 50 of tasks with policies): p50 {base:.1f} ms")
    trivial = measure(Client(), "login page", "/accounts/login/", args.repeat)
    print(
        f"baseline (the login page, nothing read): p50 {trivial['p50']:.1f} ms, p95 {trivial['p95']:.1f} ms, "
        f"cpu {trivial['cpu']:.1f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    clients = {}
    for role, username in (("supervisor", "pg-supervisor"), ("admin", "pg-admin")):
        clients[role] = Client()
        clients[role].force_login(User.objects.get(username=username))
    plan = [(n, u, "supervisor") for n, u in PAGES] + [(n, u, "admin") for n, u in ADMIN_PAGES]
    results = []
    print(
        f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'x SQL':>6} {'x login':>7} {'queries':>7}"
        f" {'cpu ms':>7} {'sql ms':>7}  slowest query ms"
    )
    for name, url, role in plan:
        if args.only and args.only not in name:
            continue
        r = measure(clients[role], name, url, args.repeat, cold=args.cold)
        results.append(r)
        flag = "" if r["p95"] <= 300 else "  > 300 ms"
        print(
            f"{name:38} {r['p50']:8.1f} {r['p95']:8.1f} {r['p50'] / base:6.1f} "
            f"{r['p50'] / trivial['p50']:7.1f} "
            f"{r['queries']:7} {r['cpu']:7.1f} {r['sql']:7.1f}  "
            f"{r['slowest_ms']:.1f}{flag}",
            flush=True,
        )
    over = [r for r in results if r["p95"] > 300]
    print(f"\n{len(results) - len(over)} of {len(results)} pages with p95 <= 300 ms")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for r in sorted(results, key=lambda r: -r["p95"])[: args.explain]:
        print(f"\n--- {r['name']} ({r['url']}): slowest query, {r['slowest_ms']:.1f} ms ---")
        print(r["slowest_sql"][:2000])
        print(explain(r["slowest_sql"]))


if __name__ == "__main__":
    main()
