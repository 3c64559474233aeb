"""The queue for softphones and CTI: claim, heartbeat, release, record an attempt.

Token auth (`Authorization: Token …`), agents only. Errors keep the one JSON shape of
callback/api/errors.py: 400 with field messages, 404 for an unknown task, 409 when the agent does
not hold the task.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from verification.vocab import Outcome

from ..audit import record_audit
from ..models import CallbackTask, Party
from ..outcomes import AttemptError, close_attempt
from ..privacy import mask_phone
from ..queue import TaskNotHeld, claim_scripted_task, release_task, renew_lease
from ..roles import AGENT, has_role
from ..telephony.recordings import RecordingTaken, attach_cti_recording
from .errors import StrictSerializer


class IsAgent(permissions.BasePermission):
    message = _("Only call-centre agents work the queue.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and has_role(request.user, AGENT))


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("You do not hold this task: it was released, taken by another agent, or closed.")
    default_code = "not_held"


class ApplicantSerializer(serializers.Serializer):
    name = serializers.CharField()
    gender = serializers.CharField()
    id_type = serializers.CharField()
    id_no_masked = serializers.CharField()
    mobile_masked = serializers.CharField()
    phone_masked = serializers.CharField()


class PolicySummarySerializer(serializers.Serializer):
    policy_no = serializers.CharField()
    product_name = serializers.CharField()
    product_type = serializers.CharField()
    channel = serializers.CharField()
    branch_name = serializers.CharField()
    agent_name = serializers.CharField(help_text="The salesperson.")
    receipt_date = serializers.DateField(allow_null=True)
    applicant = ApplicantSerializer(allow_null=True)


class TaskStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    queue = serializers.CharField(allow_null=True)
    window_start = serializers.DateField(allow_null=True)
    window_end = serializers.DateField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    outcome = serializers.CharField()
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    appointment_at = serializers.DateTimeField(allow_null=True)


class ClaimedTaskSerializer(TaskStateSerializer):
    policy = PolicySummarySerializer()


class RecordingRefSerializer(StrictSerializer):
    sid = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,64}$", help_text="The CTI's id of the recording.")
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=86400, required=False, allow_null=True, default=None
    )


class AttemptInSerializer(StrictSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    number_dialled = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    appointment_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Required when the outcome is callback_requested: the time the customer asked for.",
    )
    answers = serializers.DictField(
        required=False,
        default=dict,
        help_text='The script\'s answers, by question key: {"identity": {"birth_date": "1960-09-08", '
        '"id_last6": "081436"}, "q_purpose": "yes", …}. Closing as verified (or verified with '
        "issues) needs every required question of the script version covering the policy answered, "
        "the identity confirmed; anything short of that is refused with 400.",
    )
    recording = RecordingRefSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="A recording the CTI made of this call, kept with the attempt as evidence.",
    )

    def validate(self, data):
        if data["outcome"] == Outcome.CALLBACK_REQUESTED and not data.get("appointment_at"):
            raise serializers.ValidationError(
                {"appointment_at": [_("Give the time the customer asked to be called back.")]}
            )
        return data


class AttemptOutSerializer(serializers.Serializer):
    attempt_id = serializers.IntegerField()
    task = TaskStateSerializer()


def task_state(task: CallbackTask) -> dict:
    return {
        "id": task.pk,
        "status": task.status,
        "queue": task.queue.code if task.queue_id else None,
        "window_start": task.window_start,
        "window_end": task.window_end,
        "deadline": task.deadline,
        "next_attempt_at": task.next_attempt_at,
        "attempts": task.attempts,
        "outcome": task.outcome,
        "lease_expires_at": task.lease_expires_at,
        "appointment_at": task.appointment_at,
    }


def policy_summary(task: CallbackTask) -> dict:
    policy = task.policy
    applicant = Party.objects.applicant_of(policy.pk)
    return {
        "policy_no": policy.policy_no,
        "product_name": policy.product_name,
        "product_type": policy.product_type,
        "channel": policy.channel,
        "branch_name": policy.branch_name,
        "agent_name": policy.agent_name,
        "receipt_date": policy.receipt_date,
        "applicant": None
        if applicant is None
        else {
            "name": applicant.name,
            "gender": applicant.gender,
            "id_type": applicant.id_type,
            # Nothing of the id: its last six characters are what the identity check asks.
            "id_no_masked": "*" * len(applicant.id_no or ""),
            "mobile_masked": mask_phone(applicant.mobile),
            "phone_masked": mask_phone(applicant.phone),
        },
    }


def _task(pk: int) -> CallbackTask:
    return get_object_or_404(CallbackTask.objects.select_related("queue", "policy"), pk=pk)


class QueueNextView(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        operation_id="queue_next",
        request=None,
        responses={
            200: ClaimedTaskSerializer,
            204: OpenApiResponse(description="Nothing is due in your queues."),
        },
        summary="Claim the next callback task",
        description="Leases the most urgent due task of the agent's queues (or returns the one they hold).",
    )
    def post(self, request):
        task, _version, _skipped = claim_scripted_task(agent=request.user)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        task = _task(task.pk)
        record_audit(
            user=request.user,
            action="task_claimed",
            obj=task.policy,
            detail={"task": task.pk},
            request=request,
        )
        return Response(ClaimedTaskSerializer({**task_state(task), "policy": policy_summary(task)}).data)


class HeartbeatView(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        operation_id="task_heartbeat",
        request=None,
        responses={200: TaskStateSerializer},
        summary="Renew the lease on a task you hold",
    )
    def post(self, request, pk: int):
        task = _task(pk)
        if not renew_lease(task=task, agent=request.user):
            raise Conflict()
        return Response(TaskStateSerializer(task_state(task)).data)


class ReleaseView(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        operation_id="task_release",
        request=None,
        responses={200: TaskStateSerializer},
        summary="Give a task back to the queue untouched",
    )
    def post(self, request, pk: int):
        task = _task(pk)
        if not release_task(task=task, agent=request.user):
            raise Conflict()
        return Response(TaskStateSerializer(task_state(task)).data)


class AttemptView(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        operation_id="task_record_attempt",
        request=AttemptInSerializer,
        responses={201: AttemptOutSerializer},
        summary="Record a call attempt and its disposition",
        description="Returns the task's next state: completed, in review, failed, or open with "
        "its next attempt time or appointment.",
    )
    def post(self, request, pk: int):
        task = _task(pk)
        data = AttemptInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if task.holder_id != request.user.pk:
            raise Conflict()
        fields = dict(data.validated_data)
        recording = fields.pop("recording", None)
        try:
            with transaction.atomic():
                attempt = close_attempt(task=task, agent=request.user, **fields)
                if recording:
                    attach_cti_recording(attempt=attempt, **recording)
        except RecordingTaken as exc:
            raise serializers.ValidationError(
                {"recording": [_("This recording is already kept with another attempt.")]}
            ) from exc
        except TaskNotHeld as exc:
            raise Conflict() from exc
        except AttemptError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        task = _task(pk)
        return Response(
            AttemptOutSerializer({"attempt_id": attempt.pk, "task": task_state(task)}).data,
            status=status.HTTP_201_CREATED,
        )


urlpatterns = [
    path("queue/next", QueueNextView.as_view(), name="api_queue_next"),
    path("tasks/<int:pk>/heartbeat", HeartbeatView.as_view(), name="api_task_heartbeat"),
    path("tasks/<int:pk>/release", ReleaseView.as_view(), name="api_task_release"),
    path("tasks/<int:pk>/attempts", AttemptView.as_view(), name="api_task_attempts"),
]
