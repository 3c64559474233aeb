"""Imports page (supervisor, admin): upload a policies or registry file, watch it run, read the report."""

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _

from verification.vocab import FlagCode

from .. import intake, jobs
from ..audit import record_audit
from ..models import ImportKind, ImportRun, ImportStatus
from ..roles import ADMIN, SUPERVISOR, role_required


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=_("File (CSV in UTF-8 or GB18030, or XLSX)"))
    dry_run = forms.BooleanField(label=_("Dry run: check and count, save nothing"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB: split it, or import it with manage.py import_policies.")
                % {"mb": settings.UPLOAD_MAX_BYTES >> 20}
            )
        return upload


def save_upload(upload) -> str:
    """Store the upload under MEDIA_ROOT/imports; returns the path relative to MEDIA_ROOT."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.name).suffix.lower()
    relative = f"imports/{uuid.uuid4().hex}{suffix}"
    with open(Path(settings.MEDIA_ROOT) / relative, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return relative


@role_required(SUPERVISOR, ADMIN)
def import_list(request):
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        run = intake.create_run(
            kind=form.cleaned_data["kind"],
            source=ImportRun.Source.WEB,
            filename=upload.name,
            stored_path=save_upload(upload),
            dry_run=form.cleaned_data["dry_run"],
            user=request.user,
        )
        record_audit(
            user=request.user,
            action="import_upload",
            obj=run,
            request=request,
            detail={"kind": run.kind, "file": run.filename, "dry_run": run.dry_run},
        )
        jobs.enqueue(intake.run_import, run.pk)
        return redirect("import_detail", pk=run.pk)
    # The report (thousands of rejections for a bad file) is read on the import's own page only.
    runs = ImportRun.objects.select_related("started_by").defer("report", "error")[:50]
    return render(request, "callback/imports.html", {"form": form, "runs": runs})


@role_required(SUPERVISOR, ADMIN)
def import_detail(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    template = (
        "callback/_import_status.html" if request.headers.get("HX-Request") else "callback/import_detail.html"
    )
    try:
        flag_list_url = reverse("flag_list")
    except NoReverseMatch:
        flag_list_url = ""
    running = run.status in (ImportStatus.PENDING, ImportStatus.RUNNING)
    report = run.report or {}
    labels = dict(FlagCode.choices)
    flags = [(code, labels.get(code, code), n) for code, n in report.get("flags_raised", {}).items()]
    resolved = [(code, labels.get(code, code), n) for code, n in report.get("flags_resolved", {}).items()]
    context = {
        "run": run,
        "running": running,
        "flag_list_url": flag_list_url,
        "flags": flags,
        "resolved": resolved,
    }
    return render(request, template, context)


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
]
