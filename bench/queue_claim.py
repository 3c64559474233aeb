"""Claim benchmark: 1,000,000 open tasks on PostgreSQL, 50 concurrent claimers.

    DJANGO_DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/hf_queue_bench \
        .venv/bin/python -m bench.queue_claim [--tasks 1000000] [--claimers 50] [--seconds 20]

Two ways of claiming run on the same table in the same run, each with 50 claimers (by default one
process each, like agents on separate web workers, so that Python's GIL does not queue them):
- `bare`: the minimal claim in hand-written SQL (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1, UPDATE, COMMIT);
- `huifang`: `callback.queue.claim_next_task`, the product's claim (agent's queues, calling hours,
  appointments first, lapsed leases, one task per agent).
Each runs twice: saturated (claimers claim back to back: throughput) and paced (each claimer waits a
random 0–2×`--think` ms between claims, like agents between calls: latency). After each claim the
task is closed outside the timed section, so every claim takes a new task, and each run starts on a
freshly vacuumed table. Double claims are counted from the ids every claimer received.

Latency is read on the paced phase: saturated, 50 claimers share 2 cores with PostgreSQL and each
claim waits its turn for the CPU, so latency there is concurrency / throughput (Little's law) whatever
the claim does. Both methods connect (and Huifang loads its per-process queue configuration) before
timing starts, as a running web worker would have.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def setup(n_tasks: int, n_claimers: int):
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from callback.models import Queue, StaffProfile, Team

    if connection.vendor != "postgresql":
        sys.exit("bench.queue_claim needs PostgreSQL: set DATABASE_URL (e.g. .../hf_queue_bench).")
    call_command("migrate", verbosity=0)
    team, _ = Team.objects.get_or_create(name="bench team")
    queue, _ = Queue.objects.update_or_create(
        code="bench",
        defaults={
            "name": "bench",
            "weekday_start": "00:00",
            "weekday_end": "23:59:59",
            "weekend_start": "00:00",
            "weekend_end": "23:59:59",
        },
    )
    queue.teams.add(team)
    agents = []
    group = Group.objects.get(name="agent")
    for i in range(n_claimers):
        user, created = User.objects.get_or_create(username=f"bench-agent-{i}")
        if created:
            user.groups.add(group)
        StaffProfile.objects.update_or_create(user=user, defaults={"team": team})
        agents.append(user)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM callback_callbacktask WHERE queue_id = %s", [queue.pk])
        have = cur.fetchone()[0]
        if have != n_tasks:
            print(f"loading {n_tasks:,} policies and tasks …", flush=True)
            started = time.perf_counter()
            cur.execute(
                "DELETE FROM callback_callbacktask WHERE queue_id = %s OR policy_id IN "
                "(SELECT id FROM callback_policy WHERE policy_no LIKE 'BENCH%%')",
                [queue.pk],
            )
            cur.execute("DELETE FROM callback_policy WHERE policy_no LIKE 'BENCH%%'")
            cur.execute(
                """INSERT INTO callback_policy (policy_no, product_code, product_name, product_type,
                       whole_life, payment_frequency, channel, branch_code, branch_name, agent_code,
                       agent_name, outlet_code, issue_date, receipt_date, in_scope, row_digest, created_at,
                       updated_at)
                   SELECT 'BENCH' || lpad(g::text, 9, '0'), 'P1', 'bench', 'traditional', true, 'annual',
                          'agency', 'B1', 'b', 'A1', 'a', '', current_date - 5, current_date - (g %% 10),
                          true, '', now(), now()
                   FROM generate_series(1, %s) g""",
                [n_tasks],
            )
            cur.execute(
                """INSERT INTO callback_callbacktask (policy_id, queue_id, status, window_start, window_end,
                       deadline, next_attempt_at, attempts, dead_numbers, outcome, created_at, updated_at,
                       review_note)
                   SELECT p.id, %s, 'open', p.receipt_date + 1, p.receipt_date + 15,
                          (p.receipt_date + 16)::timestamp AT TIME ZONE 'Asia/Shanghai',
                          now() - interval '1 hour', (p.id %% 3), '[]'::jsonb, '',
                          now() - (p.id %% 1000) * interval '1 second', now(), ''
                   FROM callback_policy p WHERE p.policy_no LIKE 'BENCH%%'""",
                [queue.pk],
            )
            cur.execute("ANALYZE callback_callbacktask")
            print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
        # Every run starts from the same state: all open, unheld.
        cur.execute(
            "UPDATE callback_callbacktask SET status='open', holder_id=NULL, lease_expires_at=NULL "
            "WHERE queue_id = %s AND (status <> 'open' OR holder_id IS NOT NULL)",
            [queue.pk],
        )
        cur.execute("VACUUM ANALYZE callback_callbacktask")
    return queue, agents


BARE_CLAIM = """
    SELECT id FROM callback_callbacktask
    WHERE status = 'open' AND queue_id = %s AND holder_id IS NULL AND appointment_at IS NULL
      AND deadline > now() AND next_attempt_at <= now()
    ORDER BY deadline, attempts, created_at
    LIMIT 1 FOR UPDATE SKIP LOCKED
"""


def bare_claim(conn, queue_id: int, agent_id: int) -> int | None:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(BARE_CLAIM, [queue_id])
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute(
            "UPDATE callback_callbacktask SET holder_id = %s, "
            "lease_expires_at = now() + interval '15 minutes' WHERE id = %s",
            [agent_id, row[0]],
        )
        return row[0]


def _claimer_process(method: str, queue_id: int, agent_ids: list[int], stop_at: float, think_ms: float, out):
    """One process of claimers (threads). Several processes keep Python's GIL out of the latencies."""
    import psycopg
    from django.contrib.auth.models import User
    from django.db import connection, connections
    from django.utils import timezone

    from callback.queue import claim_next_task, open_queue_ids

    db = connection.settings_dict
    conninfo = dict(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )
    agents = list(User.objects.filter(pk__in=agent_ids))
    connections.close_all()
    latencies: list[float] = []
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(agent):
        local_lat, local_ids = [], []
        rnd = random.Random(agent.pk)
        # One connection per claimer (the server allows ~100 and other clients share it).
        raw = psycopg.connect(**conninfo) if method == "bare" else None
        if raw is None:
            # Like the bare loop's connect above, the connection and the per-process queue
            # configuration are set up before timing starts: a web worker has both when agents click.
            connection.ensure_connection()
            open_queue_ids(agent, now=timezone.now())
        close = "UPDATE callback_callbacktask SET status='completed', holder_id=NULL WHERE id=%s"
        # The close runs the same way for both methods (a prepared statement on a psycopg connection).
        closer = raw or psycopg.connect(**conninfo)
        try:
            while time.time() < stop_at:
                t0 = time.perf_counter()
                if method == "bare":
                    task_id = bare_claim(raw, queue_id, agent.pk)
                else:
                    task = claim_next_task(agent=agent)
                    task_id = task.pk if task else None
                local_lat.append(time.perf_counter() - t0)
                if task_id is None:
                    break
                local_ids.append(task_id)
                # The call is over: close the task (not timed), so the next claim takes a new one.
                closer.execute(close, [task_id], prepare=True)
                if think_ms:
                    time.sleep(rnd.uniform(0, 2 * think_ms) / 1000)
        finally:
            closer.close()
            connections.close_all()
            with lock:
                latencies.extend(local_lat)
                claimed.extend(local_ids)

    threads = [threading.Thread(target=worker, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, claimed))


def run_phase(name: str, method: str, queue, agents, seconds: float, think_ms: float, processes: int) -> dict:
    import multiprocessing

    from django.db import connections

    # Each run starts on a vacuumed table: the dead index entries that the previous run's claims
    # left at the head of the due-order index would otherwise slow down whichever method runs second.
    with connections["default"].cursor() as cur:
        cur.execute("VACUUM callback_callbacktask")
    connections.close_all()  # never share a connection across fork
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    stop_at = time.time() + seconds
    ids = [a.pk for a in agents]
    procs = [
        ctx.Process(
            target=_claimer_process, args=(method, queue.pk, ids[i::processes], stop_at, think_ms, out)
        )
        for i in range(processes)
    ]
    began = time.perf_counter()
    for p in procs:
        p.start()
    latencies: list[float] = []
    claimed: list[int] = []
    for _ in procs:
        lat, got = out.get()
        latencies.extend(lat)
        claimed.extend(got)
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - began
    doubles = sum(n - 1 for n in Counter(claimed).values() if n > 1)
    lat = sorted(latencies)
    return {
        "phase": name,
        "method": method,
        "claims": len(claimed),
        "doubles": doubles,
        "throughput": len(claimed) / elapsed,
        "p50_ms": 1000 * statistics.median(lat) if lat else 0.0,
        "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))] if lat else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--think", type=float, default=250, help="mean pause between claims when paced (ms)")
    parser.add_argument(
        "--processes", type=int, default=0, help="claimer processes (default: one per claimer)"
    )
    args = parser.parse_args()
    django.setup()
    from django.conf import settings

    # As in production: DEBUG would make Django keep every query of every claimer in memory.
    settings.DEBUG = False
    queue, agents = setup(args.tasks, args.claimers)
    processes = args.processes or args.claimers
    results = []
    for phase, think in (("saturated", 0.0), ("paced", args.think)):
        for method in ("bare", "huifang"):
            result = run_phase(phase, method, queue, agents, args.seconds, think, processes)
            results.append(result)
            print(
                f"{phase:9} {method:7} claims={result['claims']:6} doubles={result['doubles']} "
                f"throughput={result['throughput']:7.1f}/s p50={result['p50_ms']:6.2f} ms "
                f"p99={result['p99_ms']:6.2f} ms",
                flush=True,
            )
    by = {(r["phase"], r["method"]): r for r in results}
    for phase in ("saturated", "paced"):
        ratio = by[(phase, "huifang")]["throughput"] / by[(phase, "bare")]["throughput"]
        print(f"{phase}: huifang/bare throughput = {ratio:.2f}x")
    print(f"double claims in total: {sum(r['doubles'] for r in results)}")


if __name__ == "__main__":
    main()
