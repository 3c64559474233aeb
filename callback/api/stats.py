"""GET /api/v1/stats/…: the statistics page's figures for BI tools, same filters, same selectors."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from verification.vocab import Channel, FlagCode

from ..audit import record_audit
from ..models import Channel as CallChannel
from ..stats import report
from ..stats.definitions import RESULTS
from ..stats.forms import DIMENSIONS, drill_filters, period_of
from ..stats.periods import BASES, MAX_DAYS, PRESETS
from .flags import IsSupervisorOrAdmin

TABLES = [d for d in DIMENSIONS if d != "reason"] + ["reason", "flags"]


class StatsQuerySerializer(serializers.Serializer):
    preset = serializers.ChoiceField(
        choices=PRESETS, required=False, help_text="today, week, month or custom"
    )
    basis = serializers.ChoiceField(
        choices=BASES,
        required=False,
        help_text="receipt (default): receipt signed in the period; "
        "call: calls made in the period and free-look windows that closed in it",
    )
    first = serializers.DateField(required=False, help_text="First day (Beijing time), with preset=custom")
    last = serializers.DateField(required=False, help_text="Last day (Beijing time), with preset=custom")
    unit = serializers.ChoiceField(
        choices=["day", "week", "month"], required=False, help_text="For table=time"
    )
    branch = serializers.CharField(max_length=20, required=False, help_text="Branch code")
    salesperson = serializers.CharField(max_length=40, required=False, help_text="Salesperson number")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, help_text="Sales channel")
    product = serializers.CharField(max_length=40, required=False, help_text="Product code")
    outlet = serializers.CharField(max_length=40, required=False, help_text="Outlet code")
    agent = serializers.IntegerField(min_value=1, required=False, help_text="Call-centre agent (user id)")
    call_channel = serializers.ChoiceField(choices=CallChannel.choices, required=False)
    flag = serializers.ChoiceField(
        choices=FlagCode.choices, required=False, help_text="Policies with this flag"
    )

    def validate(self, data):
        first, last = data.get("first"), data.get("last")
        if bool(first) != bool(last):
            raise serializers.ValidationError({"last": ["Give both the first and the last day."]})
        if first and last:
            if first > last:
                raise serializers.ValidationError({"last": ["The end date is before the start date."]})
            if (last - first).days + 1 > MAX_DAYS:
                raise serializers.ValidationError({"last": [f"A range may cover at most {MAX_DAYS} days."]})
            data.setdefault("preset", "custom")
        return data


def _query(request) -> dict:
    query = StatsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _clean(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "handling" and not k.startswith("href")}


ComplianceSerializer = inline_serializer(
    "StatsCompliance",
    fields={
        "period": inline_serializer(
            "StatsPeriod",
            fields={
                "basis": serializers.CharField(),
                "first": serializers.DateField(),
                "last": serializers.DateField(),
            },
        ),
        **{key: serializers.IntegerField() for key in ("in_scope", "decided", "verified", "calls")},
        **{key: serializers.IntegerField() for key in RESULTS if key not in ("decided", "verified")},
        **{
            key: serializers.FloatField(allow_null=True)
            for key in (
                "in_time_rate",
                "attempts_per_verification",
                "median_hours_to_first_call",
                "median_hours_to_verification",
                "contact_rate",
                "cooperation_rate",
                "refusal_rate",
                "response_rate",
            )
        },  # fmt: skip
    },
)


class ComplianceView(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(
        parameters=[StatsQuerySerializer], responses=ComplianceSerializer, operation_id="stats_compliance"
    )
    def get(self, request):
        """The compliance figures of a period (definitions: docs/statistics.md). Rates are null when
        there is nothing to divide by."""
        data = _query(request)
        period, filters = period_of(data), drill_filters(data)
        figures, _at = report.compliance_table(period, filters)
        detail = {"table": "compliance", **period.as_params()}
        record_audit(user=request.user, action="api_stats", detail=detail, request=request)
        return Response(figures.as_dict())


class TableView(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(
        parameters=[
            StatsQuerySerializer,
            OpenApiParameter("table", OpenApiTypes.STR, OpenApiParameter.PATH, enum=TABLES),
        ],
        responses=inline_serializer(
            "StatsTable",
            fields={
                "period": serializers.DictField(),
                "table": serializers.CharField(),
                "rows": serializers.ListField(child=serializers.DictField()),
            },
        ),
        operation_id="stats_table",
    )
    def get(self, request, table: str):
        """One breakdown, worst first: by reason, flags, branch, salesperson, channel, product, outlet,
        agent, call_channel, or over time (`unit`)."""
        if table not in TABLES:
            raise NotFound(f"Unknown table {table!r}; one of {', '.join(TABLES)}.")
        data = _query(request)
        period, filters = period_of(data), drill_filters(data)
        if table == "reason":
            figures, _at = report.compliance_table(period, filters)
            rows = report.reason_table(period, filters, figures.counts)
        elif table == "flags":
            rows = report.flag_table(period, filters)
        elif table == "time":
            rows = report.time_table(period, data.get("unit") or "day", filters)
        else:
            rows = report.breakdown_table(period, table, filters, limit=None)
        detail = {"table": table, **period.as_params()}
        record_audit(user=request.user, action="api_stats", detail=detail, request=request)
        return Response({"period": period.as_params(), "table": table, "rows": [_clean(r) for r in rows]})


urlpatterns = [
    path("stats/compliance", ComplianceView.as_view(), name="api_stats_compliance"),
    path("stats/<str:table>", TableView.as_view(), name="api_stats_table"),
]
