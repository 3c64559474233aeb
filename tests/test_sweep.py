"""The periodic sweep: leases, appointments, windows closing with their flag, receipts arriving."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from callback.models import CallbackTask, ContactFlag, TaskStatus
from callback.schedule import sync_tasks
from callback.sweep import run_sweep, sweep

from .factories.queue import NOW, agent_in, open_task, policy_with_applicant, queue  # noqa: F401

pytestmark = pytest.mark.django_db


def test_window_close_expires_with_one_flag_and_is_idempotent():
    q = queue("main")
    task = open_task(q, receipt=dt.date(2026, 2, 10), attempts=4)  # last day 25 Feb
    still_open = open_task(q)
    report = sweep(now=NOW)
    assert report.windows_closed == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.EXPIRED and task.closed_at == NOW
    flag = ContactFlag.objects.get(policy=task.policy, code="callback_unreachable")
    assert (flag.party, flag.field, flag.status) == ("applicant", "mobile", "open")
    again = sweep(now=NOW + dt.timedelta(minutes=1))
    assert again.windows_closed == 0
    assert ContactFlag.objects.filter(code="callback_unreachable").count() == 1
    still_open.refresh_from_db()
    assert still_open.status == TaskStatus.OPEN


def test_expiry_exactly_at_midnight_after_last_day():
    q = queue("main")
    task = open_task(q, receipt=dt.date(2026, 3, 1))  # deadline 17 Mar 00:00 Beijing
    deadline = task.deadline
    assert sweep(now=deadline - dt.timedelta(seconds=1)).windows_closed == 0
    assert sweep(now=deadline).windows_closed == 1


def test_missed_appointment_opens_to_anyone_after_grace():
    q = queue("main")
    agent = agent_in(q, "li")
    task = open_task(q, appointment_at=NOW, next_attempt_at=NOW)
    task.appointment_agent = agent
    task.save()
    assert sweep(now=NOW + dt.timedelta(minutes=14)).appointments_opened == 0
    assert sweep(now=NOW + dt.timedelta(minutes=15)).appointments_opened == 1
    task.refresh_from_db()
    assert task.appointment_agent is None and task.appointment_at == NOW


def test_receipt_arrived_makes_task_callable():
    queue("main")
    policy = policy_with_applicant(receipt=None)
    sync_tasks(now=NOW)
    policy.receipt_date = dt.date(2026, 3, 3)
    policy.save()
    assert sweep(now=NOW).receipts_arrived == 1
    assert CallbackTask.objects.get().status == TaskStatus.OPEN


def test_lapsed_lease_cleared_and_command_runs():
    q = queue("main")
    agent = agent_in(q, "li")
    live = open_task(q, receipt=timezone.localdate())
    CallbackTask.objects.filter(pk=live.pk).update(
        holder=agent, lease_expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    out = StringIO()
    call_command("sweep", stdout=out)
    assert "leases_expired=0" in out.getvalue()
    assert CallbackTask.objects.filter(holder=agent).exists()
    assert run_sweep()["leases_expired"] == 0


def test_export_tasks_csv_with_bom_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    q = queue("main")
    task = open_task(q)
    out = tmp_path / "tasks.csv"
    call_command("export_tasks", "--output", str(out), stdout=StringIO())
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "policy_no,status,queue,window_start,window_end,next_attempt_at,attempts,outcome"
    assert lines[1].startswith(f"{task.policy.policy_no},open,main,2026-03-02,2026-03-16,2026-03-02 00:00,0,")
    xlsx = tmp_path / "tasks.xlsx"
    call_command("export_tasks", "--output", str(xlsx), "--status", "open", stdout=StringIO())
    rows = list(load_workbook(xlsx).active.values)
    assert rows[0][0] == "policy_no" and rows[1][0] == task.policy.policy_no


def test_export_tasks_refuses_missing_directory(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_tasks", "--output", str(tmp_path / "nope" / "x.csv"))
