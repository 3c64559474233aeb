from .accountability import Campaign, Inspection, Sample, SampleItem, SampleKind, SampleResult
from .audit import AuditEvent
from .ecallback import CodePurpose, ECallbackCode, ECallbackLink, ECallbackSettings, LinkStatus, PhoneOnlyRule
from .fallback import DeliveryStatus, FallbackDelivery, FallbackMove, FallbackRule, FallbackTrigger
from .flags import FLAG_DETAIL_LENGTH, ContactFlag, FlagStatus, FlagTally
from .imports import ImportKind, ImportRun, ImportStatus
from .policies import Party, Policy
from .registries import Agent, CompanyNumber, Outlet, RegistryPhone
from .rules import FreeLookRule, RetryRule
from .staff import Queue, RoutingRule, StaffProfile, Team
from .stats import StatsCallDay, StatsFlagDay, StatsRefresh, StatsTaskDay
from .tasks import CallAttempt, CallbackTask, Channel, Holiday, TaskKind, TaskStatus
from .telephony import CallEvent, Recording, SmsMessage, SmsOptOut, SmsTemplate

__all__ = [
    "FlagTally",
    "StatsCallDay",
    "StatsFlagDay",
    "StatsRefresh",
    "StatsTaskDay",
    "FLAG_DETAIL_LENGTH",
    "CallEvent",
    "Recording",
    "SmsMessage",
    "SmsOptOut",
    "SmsTemplate",
    "Campaign",
    "Inspection",
    "Sample",
    "SampleItem",
    "SampleKind",
    "SampleResult",
    "Agent",
    "AuditEvent",
    "CallAttempt",
    "CallbackTask",
    "Channel",
    "CodePurpose",
    "CompanyNumber",
    "DeliveryStatus",
    "FallbackDelivery",
    "FallbackMove",
    "FallbackRule",
    "FallbackTrigger",
    "ContactFlag",
    "ECallbackCode",
    "ECallbackLink",
    "ECallbackSettings",
    "FlagStatus",
    "FreeLookRule",
    "Holiday",
    "ImportKind",
    "ImportRun",
    "ImportStatus",
    "LinkStatus",
    "Outlet",
    "PhoneOnlyRule",
    "Party",
    "Policy",
    "Queue",
    "RegistryPhone",
    "RetryRule",
    "RoutingRule",
    "StaffProfile",
    "TaskKind",
    "TaskStatus",
    "Team",
]
