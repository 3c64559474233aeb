from .audit import AuditEvent
from .flags import ContactFlag, FlagStatus
from .imports import ImportKind, ImportRun, ImportStatus
from .policies import Party, Policy
from .registries import Agent, CompanyNumber, Outlet, RegistryPhone
from .rules import FreeLookRule, RetryRule
from .staff import Queue, RoutingRule, StaffProfile, Team
from .tasks import CallAttempt, CallbackTask, Channel, Holiday, TaskStatus
from .telephony import CallEvent, Recording, SmsMessage, SmsOptOut, SmsTemplate

__all__ = [
    "CallEvent",
    "Recording",
    "SmsMessage",
    "SmsOptOut",
    "SmsTemplate",
    "Agent",
    "AuditEvent",
    "CallAttempt",
    "CallbackTask",
    "Channel",
    "CompanyNumber",
    "ContactFlag",
    "FlagStatus",
    "FreeLookRule",
    "Holiday",
    "ImportKind",
    "ImportRun",
    "ImportStatus",
    "Outlet",
    "Party",
    "Policy",
    "Queue",
    "RegistryPhone",
    "RetryRule",
    "RoutingRule",
    "StaffProfile",
    "TaskStatus",
    "Team",
]
