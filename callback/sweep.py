"""The periodic sweep: re-derive from the database what time alone changes.

Run every minute by rq's cron scheduler (callback/cron.py) or by `manage.py sweep` from the system
cron when there is no Redis. Idempotent: it only moves rows whose state is out of date, so running it
twice, late, or after Redis was flushed leaves the same state; the database is the truth.
"""

import datetime as dt
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.vocab import FlagCode

from . import fallback, flag_tally
from .ecallback import sweep_ecallbacks
from .intake import fail_interrupted
from .models import CallbackTask, Party, TaskKind, TaskStatus
from .outcomes import raise_callback_flag
from .queue import appointment_grace
from .schedule import sync_tasks

BATCH = 1000


@dataclass
class SweepReport:
    leases_expired: int = 0
    appointments_opened: int = 0
    windows_closed: int = 0
    receipts_arrived: int = 0
    ecallbacks_offered: int = 0
    ecallback_reminders: int = 0
    ecallbacks_fallen_back: int = 0
    fallbacks_moved: int = 0
    receipts_lapsed: int = 0
    flag_tally_rows: int = 0
    imports_interrupted: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def sweep(*, now: dt.datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport()
    # A lease nobody renewed returns its task to the queue.
    report.leases_expired = CallbackTask.objects.filter(
        holder__isnull=False, lease_expires_at__lte=now
    ).update(holder=None, lease_expires_at=None, updated_at=now)
    # An appointment its agent did not take within the grace period is open to anyone.
    report.appointments_opened = CallbackTask.objects.filter(
        status=TaskStatus.OPEN, appointment_agent__isnull=False, appointment_at__lte=now - appointment_grace()
    ).update(appointment_agent=None, updated_at=now)
    report.receipts_lapsed = fallback.lapse_overdue(now=now)
    report.fallbacks_moved = fallback.apply_rules(now=now)
    report.windows_closed = close_windows(now=now)
    report.flag_tally_rows = flag_tally.compact()
    report.imports_interrupted = fail_interrupted(now=now)
    arrived = list(
        CallbackTask.objects.filter(
            status=TaskStatus.AWAITING_RECEIPT, policy__receipt_date__isnull=False
        ).values_list("policy_id", flat=True)[:50_000]
    )
    if arrived:
        report.receipts_arrived = sync_tasks(policy_ids=arrived, now=now)
    # Unfinished e-callbacks fall back to the phone queue: no policy is left without a callback.
    ecb = sweep_ecallbacks(now=now)
    report.ecallbacks_offered, report.ecallback_reminders = ecb.offered, ecb.reminded
    report.ecallbacks_fallen_back = ecb.fallen_back
    return report


def close_windows(*, now: dt.datetime) -> int:
    """Open tasks whose free-look period ended: expired, with `callback_unreachable` for supervisors.
    A campaign's contact verification expires at its deadline without a flag."""
    closed = 0
    while True:
        with transaction.atomic():
            tasks = list(
                CallbackTask.objects.select_for_update(skip_locked=True)
                .filter(deadline__lte=now)
                # A letter or visit still out waits for its receipt's deadline, past the window if need be.
                .filter(
                    Q(status__in=(TaskStatus.OPEN, TaskStatus.NEEDS_CONTACT))
                    | Q(status=TaskStatus.FALLBACK) & ~Exists(fallback.rules.outstanding())
                )
                .order_by("pk")[:BATCH]
            )
            if not tasks:
                return closed
            ids = [t.pk for t in tasks]
            # Status and flag change in one transaction: a crash leaves both undone, a re-run redoes both.
            CallbackTask.objects.filter(pk__in=ids).update(
                status=TaskStatus.EXPIRED,
                closed_at=now,
                holder=None,
                lease_expires_at=None,
                appointment_agent=None,
                updated_at=now,
            )
            mobiles = dict(
                Party.objects.applicants()
                .filter(policy_id__in=[t.policy_id for t in tasks])
                .filter(~Q(mobile="") | ~Q(mobile_e164=""))
                .values_list("policy_id", "mobile")
            )
            for task in tasks:
                if task.kind != TaskKind.FREE_LOOK:
                    continue  # a campaign's deadline passing is its progress report's, not a defect
                raise_callback_flag(
                    task=task,
                    code=FlagCode.CALLBACK_UNREACHABLE,
                    field="mobile" if task.policy_id in mobiles or not _has_phone(task) else "phone",
                    detail=_("Free-look period ended %(date)s. %(tried)s")
                    % {"date": task.window_end, "tried": fallback.tried_summary(task, limit=250)},
                )
            closed += len(tasks)


def _has_phone(task: CallbackTask) -> bool:
    return Party.objects.applicants().filter(policy_id=task.policy_id).exclude(phone="").exists()


def run_sweep() -> dict:
    """The RQ job (callback/cron.py)."""
    return sweep().as_dict()
