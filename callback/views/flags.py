"""The flag list: filter, count, work through in bulk and export (supervisors and admins)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from verification.vocab import Channel, FlagCode

from .. import exports
from ..audit import AuditContext, record_audit
from ..flags import (
    REASON_MAX_LENGTH,
    FlagActionError,
    describe_detail,
    describe_result,
    filters_for_audit,
    flag_facets,
    flag_list,
    masked_detail,
    request_correction,
    resolve_flags,
    waive_flags,
    with_applicant,
)
from ..models import ContactFlag, FlagStatus
from ..paging import LongListPaginator
from ..privacy import mask_phone
from ..roles import ADMIN, SUPERVISOR, role_required

PAGE_SIZE = 50
REVIEW_PERMISSION = "callback.review_contactflag"
EXPORT_PERMISSION = "callback.export_contactflag"


def _blank(choices) -> list[tuple[str, str]]:
    return [("", gettext_lazy("All")), *choices]


class FlagFilterForm(forms.Form):
    code = forms.ChoiceField(label=gettext_lazy("Code"), choices=_blank(FlagCode.choices), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=_blank(FlagStatus.choices), required=False
    )
    branch = forms.CharField(label=gettext_lazy("Branch code"), max_length=20, required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=_blank(Channel.choices), required=False
    )
    agent = forms.CharField(label=gettext_lazy("Salesperson number"), max_length=40, required=False)
    outlet = forms.CharField(label=gettext_lazy("Outlet code"), max_length=40, required=False)
    raised_from = forms.DateField(
        label=gettext_lazy("Raised from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    raised_to = forms.DateField(
        label=gettext_lazy("Raised until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        label=gettext_lazy("Policy number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("raised_from"), data.get("raised_to")
        if start and end and start > end:
            self.add_error("raised_to", _("The end date is before the start date."))
        return data

    def valid_filters(self) -> dict:
        """The filters that validated; a bad field is shown as an error and ignored, never a 500."""
        self.is_valid()
        return {key: value for key, value in self.cleaned_data.items() if key not in self.errors}


class FlagActionForm(forms.Form):
    ACTIONS = [
        ("request_correction", gettext_lazy("Request correction")),
        ("waive", gettext_lazy("Waive")),
        ("resolve", gettext_lazy("Resolve")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    flag = forms.ModelMultipleChoiceField(
        queryset=ContactFlag.objects.all(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("A selected flag no longer exists.")},
    )
    reason = forms.CharField(max_length=REASON_MAX_LENGTH, required=False)


def _querystring(request, **changes) -> str:
    """The current query string without blank values, with `changes` applied (None drops a key)."""
    params = request.GET.copy()
    for key in [k for k, values in params.lists() if not any(values)]:
        del params[key]
    for key, value in changes.items():
        params.pop(key, None)
        if value:
            params[key] = value
    return params.urlencode()


@role_required(SUPERVISOR, ADMIN)
@require_GET
def flag_list_page(request):
    form = FlagFilterForm(request.GET or None)
    filters = form.valid_filters() if request.GET else {}
    facets = flag_facets(filters=filters, cached=True)
    # The counts by status leave out the status filter only: they hold the list's exact size.
    by_status = {row["status"]: row["n"] for row in facets["by_status"]}
    total = by_status.get(filters["status"], 0) if filters.get("status") else sum(by_status.values())
    flags = with_applicant(flag_list(filters=filters))
    page = LongListPaginator(flags, PAGE_SIZE, known_total=total).get_page(request.GET.get("page"))
    for flag in page.object_list:
        flag.masked_mobile = mask_phone(flag.applicant_mobile or "")
        flag.masked_detail = masked_detail(describe_detail(flag.detail))
    # Names and (masked) numbers of many customers: audited like the API's list.
    record_audit(
        user=request.user,
        action="view_flag_list",
        detail={"filter": filters_for_audit(filters), "page": page.number},
        request=request,
    )
    return render(
        request,
        "callback/flag_list.html",
        {
            "form": form,
            "page": page,
            "facets": facets,
            "filter_query": _querystring(request, page=None),
            "facet_query": {
                key: _querystring(request, page=None, **{key: None}) for key in ("code", "status", "branch")
            },
            "can_review": request.user.has_perm(REVIEW_PERMISSION),
            "can_export": request.user.has_perm(EXPORT_PERMISSION),
            "reason_max_length": REASON_MAX_LENGTH,
        },
    )


def _back(request) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("flag_list")
    return HttpResponseRedirect(target)


@role_required(SUPERVISOR, ADMIN)
@permission_required(REVIEW_PERMISSION, raise_exception=True)
@require_POST
def flag_action(request):
    """Bulk or single step on flags; every problem becomes a message on the page it came from."""
    form = FlagActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return _back(request)
    data = form.cleaned_data
    flags, action, reason = data["flag"], data["action"], data["reason"]
    try:
        if action == "request_correction":
            result = request_correction(flags=flags, user=request.user, context=AuditContext.of(request))
        elif action == "waive":
            result = waive_flags(
                flags=flags, user=request.user, reason=reason, context=AuditContext.of(request)
            )
        else:
            result = resolve_flags(
                flags=flags, user=request.user, reason=reason, context=AuditContext.of(request)
            )
    except FlagActionError as exc:
        messages.error(request, str(exc))
        return _back(request)
    (messages.success if result.changed else messages.error)(request, describe_result(result))
    return _back(request)


@role_required(SUPERVISOR, ADMIN)
@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_GET
def flag_export(request):
    """The flag list under the current filter as CSV (streamed) or XLSX."""
    filters = FlagFilterForm(request.GET).valid_filters()
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"flags-{stamp}.{fmt}"
    if fmt == "csv":
        # Streamed, so the rows are counted before the first is sent: the audit says how many left.
        rows = exports.flag_list(filters=filters).count()
        exports.audit_export(
            user=request.user, filters=filters, fmt=fmt, rows=rows, context=AuditContext.of(request)
        )
        response = StreamingHttpResponse(
            exports.csv_chunks(exports.flag_export_rows(filters=filters)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    stream = exports.export_flags_xlsx_stream(
        filters=filters, user=request.user, context=AuditContext.of(request)
    )
    return FileResponse(stream, as_attachment=True, filename=name)


urlpatterns = [
    path("flags/", flag_list_page, name="flag_list"),
    path("flags/actions/", flag_action, name="flag_action"),
    path("flags/export/", flag_export, name="flag_export"),
]
