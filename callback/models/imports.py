from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    POLICIES = "policies", _("Policies")
    AGENTS = "agents", _("Sales agents")
    OUTLETS = "outlets", _("Outlets")
    COMPANY_NUMBERS = "company_numbers", _("Company numbers")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """One import of a file (upload, command or API batch), with its progress and report."""

    class Source(models.TextChoices):
        WEB = "web", _("Upload")
        COMMAND = "command", _("Command")
        API = "api", _("API")

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # {"rejections": [{"line": 7, "policy_no": "", "reason": "..."}], "unknown_columns": [...],
    #  "flags_raised": {"mobile_invalid": 3}, "flags_resolved": {...}}
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    # Last sign of life of a running import (its start, each progress step): the sweep fails a run that
    # has shown none for IMPORT_STALE_MINUTES (its process was killed, the server restarted).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename} ({self.get_status_display()})"
