"""rq's cron scheduler configuration: `python manage.py rqcron callback.cron` (django-rq 4.2, rq 3.0).

The scheduler only enqueues; an `rqworker default` process runs the jobs. Deployments without Redis
run `manage.py sweep` every minute from the system cron instead: same function, same result.
"""

from django.conf import settings
from rq import cron

from callback.retention import purge_old_uploads
from callback.stats.refresh import refresh_due
from callback.supervision import DASHBOARD_REFRESH_SECONDS, refresh_live_dashboard
from callback.sweep import run_sweep
from callback.telephony.recordings import delete_expired_recordings

# Every 60 s. A sweep that runs twice, late, or after Redis was flushed gives the same state.
cron.register(run_sweep, "default", interval=60, job_timeout=300, name="callback-sweep")

# Recordings past RECORDING_RETENTION_DAYS: deleted at Twilio and marked, daily at 03:30 Beijing time.
cron.register(
    delete_expired_recordings,
    "default",
    cron="30 3 * * *",
    job_timeout=1800,
    name="recording-retention",
)
# Daily: uploads (raw personal data) are deleted after UPLOAD_RETENTION_DAYS (callback/retention.py).
cron.register(
    purge_old_uploads, "default", interval=24 * 3600, job_timeout=600, name="callback-purge-uploads"
)
# The statistics roll-up: the recent free-look days every few minutes, every day once a day.
cron.register(
    refresh_due,
    "default",
    interval=settings.STATS_ROLLUP_MINUTES * 60,
    job_timeout=3600,
    name="stats-rollup",
)
# The live queue's figures, so that supervisors read them from the cache (callback/supervision.py).
cron.register(
    refresh_live_dashboard,
    "default",
    interval=DASHBOARD_REFRESH_SECONDS,
    job_timeout=60,
    name="live-queue-figures",
)
