"""POST /api/v1/policies: a batch of policies (FORMATS.md fields as JSON), imported and screened like a file.

Each item is answered created / updated / unchanged / rejected with its reasons and live flag codes.
Malformed JSON, unknown fields or values that are not text → 400 with field-level messages.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import intake
from ..roles import ADMIN, SUPERVISOR, has_role

MAX_BATCH = 1000


class CanImport(permissions.BasePermission):
    def has_permission(self, request, view):
        return has_role(request.user, SUPERVISOR, ADMIN)


class PolicyItemSerializer(serializers.Serializer):
    """One policy: the columns of the policies file; every value text (numbers accepted), blank allowed."""

    def get_fields(self):
        return {
            column: serializers.CharField(
                required=column == "policy_no",
                allow_blank=True,
                allow_null=True,
                max_length=2000,
                trim_whitespace=True,
            )
            for column in intake.POLICY_COLUMNS
        }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(intake.POLICY_COLUMNS))
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
            bad = [k for k, v in data.items() if isinstance(v, dict | list | bool)]
            if bad:
                raise serializers.ValidationError({key: [_("Must be text or a number.")] for key in bad})
        return super().to_internal_value(data)


class PolicyBatchSerializer(serializers.Serializer):
    policies = PolicyItemSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)
    dry_run = serializers.BooleanField(default=False)


class ItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    policy_no = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "duplicate", "rejected"])
    reasons = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(child=serializers.CharField(), required=False)


class BatchResultSerializer(serializers.Serializer):
    import_id = serializers.IntegerField(allow_null=True)
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    flags_raised = serializers.DictField(child=serializers.IntegerField())
    items = ItemResultSerializer(many=True)


class PolicyBatchView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanImport]

    @extend_schema(
        request=PolicyBatchSerializer,
        responses={200: BatchResultSerializer},
        summary="Import a batch of policies",
        examples=[
            OpenApiExample(
                "One policy",
                value={
                    "policies": [
                        {
                            "policy_no": "P04200000001",
                            "issue_date": "2026-11-03",
                            "channel": "agency",
                            "agent_code": "A000001",
                            "agent_name": "徐磊",
                            "applicant_name": "陈磊",
                            "applicant_mobile": "13800138000",
                        }
                    ]
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = request.data
        if isinstance(data, list):  # a bare list of policies is accepted too
            data = {"policies": data}
        batch = PolicyBatchSerializer(data=data)
        batch.is_valid(raise_exception=True)
        records = [{k: v or "" for k, v in item.items()} for item in batch.validated_data["policies"]]
        dry_run = batch.validated_data["dry_run"]
        run, result = intake.import_policy_batch(records=records, dry_run=dry_run, user=request.user)
        items = [
            {
                "index": item["line"] - 1,
                "policy_no": item["policy_no"],
                "status": item["status"],
                "reasons": item["reasons"],
                "flags": item.get("flags", []),
            }
            for item in result.items
        ]
        body = {
            "import_id": run.pk,
            "dry_run": dry_run,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "flags_raised": dict(result.flags_raised),
            "items": items,
        }
        return Response(BatchResultSerializer(body).data, status=status.HTTP_200_OK)


urlpatterns = [path("policies", PolicyBatchView.as_view(), name="api_policies")]
