"""GET /api/v1/flags (same filters as the flag list) and the two bulk steps supervisors take."""

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from verification.vocab import Channel, FlagCode

from ..audit import AuditContext, record_audit
from ..flags import (
    REASON_MAX_LENGTH,
    FlagActionError,
    TransitionResult,
    filters_for_audit,
    flag_list,
    masked_detail,
    request_correction,
    waive_flags,
    with_applicant,
)
from ..models import ContactFlag, FlagStatus
from ..roles import ADMIN, SUPERVISOR, has_role
from .errors import StrictSerializer


class IsSupervisorOrAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        return has_role(request.user, SUPERVISOR, ADMIN)


class MayReviewFlags(BasePermission):
    def has_permission(self, request, view) -> bool:
        return has_role(request.user, SUPERVISOR, ADMIN) and request.user.has_perm(
            "callback.review_contactflag"
        )


class FlagFilterSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=FlagCode.choices, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=FlagStatus.choices, required=False, allow_blank=True)
    branch = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text="Branch code")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    agent = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Salesperson number"
    )
    raised_from = serializers.DateField(required=False, help_text="First day (Beijing time), YYYY-MM-DD")
    raised_to = serializers.DateField(required=False, help_text="Last day (Beijing time), YYYY-MM-DD")
    q = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Part of a policy number"
    )
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=500, required=False)

    def validate(self, data):
        if data.get("raised_from") and data.get("raised_to") and data["raised_from"] > data["raised_to"]:
            raise serializers.ValidationError({"raised_to": ["The end date is before the start date."]})
        return data


class FlagSerializer(serializers.ModelSerializer):
    policy_no = serializers.CharField(source="policy.policy_no")
    branch_code = serializers.CharField(source="policy.branch_code")
    channel = serializers.CharField(source="policy.channel")
    agent_code = serializers.CharField(source="policy.agent_code")
    agent_name = serializers.CharField(source="policy.agent_name")
    applicant_name = serializers.CharField(allow_null=True)
    detail = serializers.SerializerMethodField(help_text="Phone and id numbers in it are masked.")

    class Meta:
        model = ContactFlag
        fields = [
            "id", "policy_no", "party", "field", "code", "detail", "status", "raised_at",
            "correction_requested_at", "closed_at", "close_reason",
            "branch_code", "channel", "agent_code", "agent_name", "applicant_name",
        ]  # fmt: skip

    def get_detail(self, flag: ContactFlag) -> str:
        return masked_detail(flag.detail)


class FlagPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class FlagListView(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(
        parameters=[FlagFilterSerializer], responses=FlagSerializer(many=True), operation_id="flags_list"
    )
    def get(self, request):
        """Contact flags, newest first, filtered like the flag list page."""
        query = FlagFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        record_audit(
            user=request.user,
            action="api_list_flags",
            detail={"filter": filters_for_audit(filters)},
            request=request,
        )
        paginator = FlagPagination()
        page = paginator.paginate_queryset(with_applicant(flag_list(filters=filters)), request, view=self)
        return paginator.get_paginated_response(FlagSerializer(page, many=True).data)


class FlagIdsSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=10000
    )


class WaiveSerializer(FlagIdsSerializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, trim_whitespace=True)


TransitionResultSerializer = inline_serializer(
    "FlagTransitionResult",
    fields={
        "changed": serializers.ListField(child=serializers.IntegerField()),
        "refused": serializers.ListField(
            child=inline_serializer(
                "FlagRefusal",
                fields={
                    "id": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "reason": serializers.CharField(),
                },
            )
        ),
    },
)


def _by_id(ids: list[int]) -> list[ContactFlag]:
    # The service locks and re-reads the rows itself; unknown ids come back as refused.
    return [ContactFlag(pk=pk) for pk in dict.fromkeys(ids)]


def _result_response(result: TransitionResult) -> Response:
    return Response({"changed": result.changed, "refused": result.refused}, status=status.HTTP_200_OK)


class RequestCorrectionView(APIView):
    permission_classes = [MayReviewFlags]

    @extend_schema(
        request=FlagIdsSerializer,
        responses=TransitionResultSerializer,
        operation_id="flags_request_correction",
    )
    def post(self, request):
        """Ask branches to correct open flags; flags in another status are listed under `refused`."""
        body = FlagIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = request_correction(
            flags=_by_id(body.validated_data["ids"]), user=request.user, context=AuditContext.of(request)
        )
        return _result_response(result)


class WaiveView(APIView):
    permission_classes = [MayReviewFlags]

    @extend_schema(request=WaiveSerializer, responses=TransitionResultSerializer, operation_id="flags_waive")
    def post(self, request):
        """Waive open or correction-requested flags, with a reason."""
        body = WaiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = waive_flags(
                flags=_by_id(body.validated_data["ids"]),
                user=request.user,
                reason=body.validated_data["reason"],
                context=AuditContext.of(request),
            )
        except FlagActionError as exc:
            raise serializers.ValidationError({"reason": [str(exc)]}) from exc
        return _result_response(result)


urlpatterns = [
    path("flags", FlagListView.as_view(), name="api_flags"),
    path("flags/request-correction", RequestCorrectionView.as_view(), name="api_flags_request_correction"),
    path("flags/waive", WaiveView.as_view(), name="api_flags_waive"),
]
