"""Faults: Redis flushed mid-import, an import process SIGKILLed and run again, a PostgreSQL connection
killed mid-claim. Each ends with nothing duplicated and nothing lost (trust issue #10).

The PostgreSQL and Redis faults need those services; on SQLite without Redis they skip, saying why.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from callback import intake
from callback.models import CallbackTask, ImportRun, ImportStatus, Policy

from .factories.intake import row, write_csv
from .factories.queue import NOW, agent_in, open_task, queue

ROOT = Path(__file__).resolve().parent.parent


def _policies_file(path: Path, n: int) -> Path:
    return write_csv(
        path,
        [row(policy_no=f"PF{i:08d}", applicant_mobile=f"150{i:08d}", receipt_date="") for i in range(n)],
    )


def _assert_each_once(n: int) -> None:
    numbers = list(Policy.objects.values_list("policy_no", flat=True))
    assert len(numbers) == len(set(numbers)) == n
    assert CallbackTask.objects.count() <= n
    assert not CallbackTask.objects.values("policy").annotate().filter(policy__isnull=True).exists()


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): this fault is about its connections and processes")


@pytest.mark.django_db
def test_redis_flushed_mid_import_completes_once(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL): the fault is Redis losing its data")
    import redis

    server = redis.Redis.from_url(settings.REDIS_URL)
    flushed = []

    def progress(rows, done, total):
        if not flushed:
            server.flushdb()  # queues, job records, cached counts: all gone mid-import
            flushed.append(rows)

    path = _policies_file(tmp_path / "policies.csv", 300)
    run = intake.create_run(kind="policies", source="web", filename="policies.csv")
    intake.execute_run(run, path=path, progress=progress)
    run.refresh_from_db()
    assert flushed and run.status == ImportStatus.DONE and run.created == 300
    # The job delivered again (rq re-enqueues after a lost worker): it sees the run done, changes nothing.
    intake.run_import(run.pk)
    again = intake.create_run(kind="policies", source="web", filename="policies.csv")
    intake.execute_run(again, path=path)
    again.refresh_from_db()
    assert (again.created, again.unchanged) == (0, 300)
    _assert_each_once(300)


@pytest.mark.django_db(transaction=True)
def test_import_killed_mid_run_then_run_again(tmp_path):
    _needs_postgres()
    n = 4000
    path = _policies_file(tmp_path / "policies.csv", n)
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1", "RQ_ASYNC": "0"}
    command = [sys.executable, "manage.py", "import_policies", str(path)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        run = ImportRun.objects.filter(source="command").first()
        if run and run.status == ImportStatus.RUNNING and run.rows_read:
            break
        time.sleep(0.05)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # One transaction merges the file: after the kill there is all of it or none, never a part.
    assert Policy.objects.count() in (0, n) if killed else Policy.objects.count() == n
    if killed:  # the killed run says so once it has been silent long enough (the sweep)
        later = timezone.now() + dt.timedelta(minutes=settings.IMPORT_STALE_MINUTES + 1)
        assert intake.fail_interrupted(now=later) == 1
        assert ImportRun.objects.get(source="command").status == ImportStatus.FAILED
    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    _assert_each_once(n)
    assert ImportRun.objects.filter(status=ImportStatus.DONE).exists()


@pytest.mark.django_db(transaction=True)
def test_connection_killed_mid_claim_loses_nothing():
    _needs_postgres()
    q = queue("fault")
    first, second = agent_in(q, "first"), agent_in(q, "second")
    task = open_task(q)
    from callback.queue import claim_next_task

    claimed, proceed, outcome = threading.Event(), threading.Event(), {}

    def claim_and_stall():
        try:
            with transaction.atomic():
                outcome["pid"] = connection.connection.info.backend_pid
                outcome["claimed"] = claim_next_task(agent=first, now=NOW)
                claimed.set()
                proceed.wait(30)  # the row is locked by this uncommitted claim when its backend dies
        except Exception as exc:  # noqa: BLE001 - the killed connection, reported below
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=claim_and_stall)
    worker.start()
    assert claimed.wait(30) and outcome["claimed"].pk == task.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [outcome["pid"]])
    proceed.set()
    worker.join(30)
    assert "error" in outcome  # the claim's transaction died with its connection
    task.refresh_from_db()
    assert task.holder is None  # rolled back: not held by an agent who never got it
    again = claim_next_task(agent=second, now=NOW)
    assert again is not None and again.pk == task.pk
    task.refresh_from_db()
    assert (task.holder, CallbackTask.objects.filter(holder__isnull=False).count()) == (second, 1)
