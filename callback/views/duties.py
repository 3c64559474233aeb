"""Pages of the management duties (issue #14): fee holds, salesperson accountability, sampling checks.

Supervisors and admins only; every export is audited (callback/accountability/reports.py).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from verification.vocab import FlagCode

from ..accountability import back_book, fee_holds, inspection, regulator, salespeople, sampling
from ..accountability.common import Period
from ..accountability.reports import report_response
from ..audit import record_audit
from ..models import Campaign, Sample, SampleItem, SampleKind, SampleResult
from ..privacy import mask_phone
from ..roles import ADMIN, SUPERVISOR, has_role, role_required

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # what <input type=date> takes


class ScopeForm(forms.Form):
    branch = forms.CharField(label=gettext_lazy("Branch code"), max_length=20, required=False)
    outlet = forms.CharField(label=gettext_lazy("Outlet code"), max_length=40, required=False)


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=_DATE)
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=_DATE)
    branch = forms.CharField(label=gettext_lazy("Branch code"), max_length=20, required=False)

    def period(self, default: Period) -> Period:
        """The period asked for; a bad or reversed date falls back to the default (shown as an error)."""
        period = self._period(default)
        data = self.data.copy()  # the inputs show the period used, not blanks
        for key, day in (("start", period.start), ("end", period.end)):
            if not data.get(key):
                data[key] = day.isoformat()
        self.data = data
        return period

    def _period(self, default: Period) -> Period:
        if not self.is_valid():
            return default
        start = self.cleaned_data.get("start") or default.start
        end = self.cleaned_data.get("end") or default.end
        if start > end:
            self.add_error("end", gettext_lazy("The end date is before the start date."))
            return default
        return Period(start, end)


def _clean(form: forms.Form, key: str) -> str:
    form.is_valid()
    return (form.cleaned_data.get(key) or "").strip() if key not in form.errors else ""


@role_required(SUPERVISOR, ADMIN)
@require_GET
def duties_home(request):
    return render(request, "callback/duties/home.html")


# --- 第八条 fee holds ------------------------------------------------------------------------------


@role_required(SUPERVISOR, ADMIN)
@require_GET
def fee_hold_page(request):
    form = ScopeForm(request.GET)
    branch, outlet = _clean(form, "branch"), _clean(form, "outlet")
    holds = fee_holds.outlet_holds(outlet=outlet, branch=branch)
    if request.GET.get("format"):
        return report_response(
            request=request,
            report="fee-holds",
            sheets=[("fee-holds", fee_holds.FINANCE_COLUMNS, fee_holds.finance_rows(holds))],
            fmt=request.GET["format"],
            filters={"branch": branch, "outlet": outlet},
        )
    labels = dict(FlagCode.choices)
    for hold in holds:
        for policy in hold.policies:
            policy.action_label = fee_holds.action_label(policy.action)
            policy.code_labels = [str(labels.get(code, code)) for code in policy.codes]
    return render(
        request,
        "callback/duties/fee_holds.html",
        {
            "form": form,
            "holds": holds,
            "today": timezone.localdate(),
            "query": request.GET.urlencode(),
        },
    )


# --- 第十条, 第十三条 salesperson accountability ------------------------------------------------------


@role_required(SUPERVISOR, ADMIN)
@require_GET
def salesperson_page(request):
    form = PeriodForm(request.GET)
    period = form.period(Period.this_month())
    branch = _clean(form, "branch")
    rows = salespeople.salesperson_rows(period=period, branch=branch)
    if request.GET.get("format"):
        return report_response(
            request=request,
            report="salespeople",
            sheets=[
                ("salespeople", salespeople.SALESPERSON_COLUMNS, salespeople.salesperson_export_rows(rows))
            ],
            fmt=request.GET["format"],
            filters={**period.as_dict(), "branch": branch},
        )
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "callback/duties/salespeople.html",
        {"form": form, "period": period, "page": page, "query": request.GET.urlencode()},
    )


# --- 第十一条 sampling checks -----------------------------------------------------------------------


class DrawForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=SampleKind.choices)
    branch = forms.CharField(label=gettext_lazy("Branch code"), max_length=20, required=False)
    start = forms.DateField(label=gettext_lazy("From"), widget=_DATE)
    end = forms.DateField(label=gettext_lazy("Until"), widget=_DATE)
    percent = forms.DecimalField(
        label=gettext_lazy("Percentage"), max_digits=5, decimal_places=2, required=False, min_value=0
    )
    count = forms.IntegerField(label=gettext_lazy("or count"), required=False, min_value=1)
    seed = forms.IntegerField(
        label=gettext_lazy("Seed (blank: new)"), required=False, min_value=0, max_value=2**62
    )


@role_required(SUPERVISOR, ADMIN)
@require_http_methods(["GET", "POST"])
def sample_list(request):
    form = DrawForm(request.POST or None, initial=_draw_initial())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sample = sampling.draw_sample(
                kind=data["kind"],
                branch=data["branch"].strip(),
                start=data["start"],
                end=data["end"],
                percent=data["percent"],
                count=data["count"],
                seed=data["seed"],
                user=request.user,
                request=request,
            )
        except sampling.SamplingError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("sample_detail", pk=sample.pk)
    samples = Sample.objects.select_related("drawn_by").order_by("-drawn_at", "-pk")[:50]
    report = sampling.sample_report(samples=Sample.objects.all())
    return render(
        request, "callback/duties/samples.html", {"form": form, "samples": samples, "report": report}
    )


def _draw_initial() -> dict:
    period = Period.this_month()
    return {"start": period.start, "end": period.end, "percent": 5}


@role_required(SUPERVISOR, ADMIN)
@require_GET
def sample_detail(request, pk: int):
    sample = get_object_or_404(Sample.objects.select_related("drawn_by"), pk=pk)
    items = list(
        sample.items.select_related("policy", "checked_by").prefetch_related("policy__parties").order_by("pk")
    )
    if request.GET.get("format"):
        return report_response(
            request=request,
            report=f"sample-{sample.pk}",
            sheets=[
                (
                    "sample",
                    ["policy_no", "branch_code", "result", "differences", "checked_by", "checked_at", "note"],
                    (
                        [
                            i.policy.policy_no,
                            i.policy.branch_code,
                            i.result,
                            ";".join(f"{d['party']}.{d['field']}:{d['code']}" for d in i.differences),
                            i.checked_by.username if i.checked_by else "",
                            timezone.localtime(i.checked_at).isoformat(timespec="seconds")
                            if i.checked_at
                            else "",
                            i.note,
                        ]
                        for i in items
                    ),
                )
            ],
            fmt=request.GET["format"],
            filters={"sample": sample.pk},
        )
    report = sampling.sample_report(samples=[sample])
    return render(
        request,
        "callback/duties/sample_detail.html",
        {"sample": sample, "items": items, "report": report, "pending": SampleResult.PENDING},
    )


@role_required(SUPERVISOR, ADMIN)
@require_http_methods(["GET", "POST"])
def sample_check(request, pk: int):
    item = get_object_or_404(SampleItem.objects.select_related("sample", "policy"), pk=pk)
    fields = sampling.check_fields(item.sample.kind)
    if request.method == "POST":
        differences = {}
        for spec in fields:
            key = f"{spec.party}.{spec.field}"
            value = request.POST.get(key, "")
            if value:
                differences[key] = value
        try:
            sampling.record_check(
                item=item,
                user=request.user,
                differences=differences,
                note=request.POST.get("note", ""),
                request=request,
            )
        except sampling.SamplingError as exc:
            messages.error(request, str(exc))
            return redirect("sample_check", pk=item.pk)
        messages.success(request, gettext_lazy("Check recorded."))
        following = item.sample.items.filter(result=SampleResult.PENDING).order_by("pk").first()
        return (
            redirect("sample_check", pk=following.pk)
            if following
            else redirect("sample_detail", pk=item.sample_id)
        )
    record_audit(user=request.user, action="view_sample_policy", obj=item.policy, request=request)
    policy = item.policy
    recorded = _recorded_values(policy)
    rows = [
        {
            "key": f"{spec.party}.{spec.field}",
            "label": spec.label,
            "recorded": recorded.get(f"{spec.party}.{spec.field}", ""),
            "codes": [(c, c.label) for c in spec.codes],
        }
        for spec in fields
    ]
    return render(
        request, "callback/duties/sample_check.html", {"item": item, "rows": rows, "policy": policy}
    )


def _recorded_values(policy) -> dict[str, str]:
    """What Huifang holds for each checked field. Phones masked: the reviewer compares against the
    application form in hand, which has the full number; id numbers show their last four."""
    from ..privacy import mask_id

    values = {"sales.agent_code": policy.agent_code, "sales.agent_name": policy.agent_name}
    for party in policy.parties.all():
        prefix = party.role
        if f"{prefix}.name" in values:
            continue
        values.update(
            {
                f"{prefix}.name": party.name,
                f"{prefix}.id_no": mask_id(party.id_no),
                f"{prefix}.birth_date": party.birth_date.isoformat() if party.birth_date else "",
                f"{prefix}.gender": party.get_gender_display(),
                f"{prefix}.mobile": mask_phone(party.mobile),
                f"{prefix}.phone": mask_phone(party.phone),
                f"{prefix}.address": party.address,
                f"{prefix}.relation": party.get_relation_display(),
            }
        )
    return values


# --- 通知 二(三) the back book ----------------------------------------------------------------------


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Campaign name"), max_length=100)
    branch = forms.CharField(label=gettext_lazy("Branch code"), max_length=20, required=False)
    code = forms.ChoiceField(label=gettext_lazy("Open flags of code"), required=False)
    deadline = forms.DateField(label=gettext_lazy("Deadline"), widget=_DATE)
    script_version = forms.ModelChoiceField(
        label=gettext_lazy("Script"), queryset=back_book.contact_scripts()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", gettext_lazy("Any contact-data flag")), *FlagCode.choices]
        self.fields["script_version"].queryset = back_book.contact_scripts()


@role_required(SUPERVISOR, ADMIN)
@require_http_methods(["GET", "POST"])
def back_book_page(request):
    can_start = has_role(request.user, ADMIN)
    form = CampaignForm(request.POST or None) if can_start else None
    if request.method == "POST":
        if not can_start:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                campaign = back_book.start_campaign(
                    name=data["name"],
                    branch=data["branch"].strip(),
                    code=data["code"],
                    deadline=data["deadline"],
                    script_version=data["script_version"],
                    user=request.user,
                    request=request,
                )
            except back_book.CampaignError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext_lazy("Campaign started: %(n)d contact verifications in the queue.")
                    % {"n": campaign.tasks.count()},
                )
                return redirect("back_book")
    campaigns = [
        (c, back_book.campaign_progress(c))
        for c in Campaign.objects.select_related("created_by", "script_version__script")[:50]
    ]
    return render(
        request,
        "callback/duties/back_book.html",
        {"form": form, "campaigns": campaigns, "progress": back_book.back_book_progress()},
    )


# --- 第十六条 branch inspection, 通知 二(四) the regulator's tables ------------------------------------


@role_required(SUPERVISOR, ADMIN)
@require_http_methods(["GET", "POST"])
def inspection_page(request):
    form = PeriodForm(request.GET)
    period = form.period(Period.this_year())
    branch = _clean(form, "branch")
    report = inspection.branch_inspection(branch=branch, period=period) if branch else None
    if report and request.method == "POST":
        try:
            inspection.record_inspection(
                report=report,
                conclusions=request.POST.get("conclusions", ""),
                user=request.user,
                request=request,
            )
        except inspection.InspectionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext_lazy("Conclusions recorded."))
        return redirect(f"{request.path}?{request.GET.urlencode()}")
    if report and request.GET.get("format"):
        return report_response(
            request=request,
            report=f"inspection-{branch}",
            sheets=[
                ("summary", ["item", "value"], inspection.summary_rows(report)),
                ("defects by code", inspection.CODE_COLUMNS, inspection.code_rows(report)),
            ],
            fmt=request.GET["format"],
            filters={**period.as_dict(), "branch": branch},
        )
    return render(
        request,
        "callback/duties/inspection.html",
        {
            "form": form,
            "period": period,
            "report": report,
            "summary": inspection.summary_rows(report) if report else [],
            "code_rows": inspection.code_rows(report) if report else [],
            "records": inspection.inspections(branch=branch)[:20],
            "query": request.GET.urlencode(),
        },
    )


@role_required(SUPERVISOR, ADMIN)
@require_GET
def regulator_page(request):
    form = PeriodForm(request.GET)
    period = form.period(Period.this_year())
    branch = _clean(form, "branch")
    sheets = regulator.workbook_sheets(period, branch)
    if request.GET.get("format"):
        return report_response(
            request=request,
            report="regulator-tables",
            sheets=sheets,
            fmt="xlsx",
            filters={**period.as_dict(), "branch": branch},
        )
    # On the page, counts are right-aligned and text (segment, code, kind, branch) is not.
    tables = [
        (title, columns, [[(v, isinstance(v, int)) for v in row] for row in rows])
        for title, columns, rows in sheets
    ]
    return render(
        request,
        "callback/duties/regulator.html",
        {"form": form, "period": period, "sheets": tables, "query": request.GET.urlencode()},
    )


urlpatterns = [
    path("duties/", duties_home, name="duties_home"),
    path("duties/fee-holds/", fee_hold_page, name="fee_holds"),
    path("duties/salespeople/", salesperson_page, name="salespeople"),
    path("duties/samples/", sample_list, name="sample_list"),
    path("duties/samples/<int:pk>/", sample_detail, name="sample_detail"),
    path("duties/samples/items/<int:pk>/", sample_check, name="sample_check"),
    path("duties/back-book/", back_book_page, name="back_book"),
    path("duties/inspection/", inspection_page, name="branch_inspection"),
    path("duties/regulator/", regulator_page, name="regulator_tables"),
]
