"""Telephony: calls and SMS through one backend interface (console or Twilio, settings.TELEPHONY_BACKEND).

What the rest of Huifang calls:

    send_sms(*, to, template, context, event_key, task=None) -> SmsMessage
        Store and queue one SMS from the admin-editable template `template` (an SmsTemplate code, e.g.
        "callback_confirmation", "precall_notice"), `{placeholders}` filled from `context` (strings;
        `{company}` is always there). `event_key` names the event ("appointment:<task>:<time>",
        "ecallback-invite:<task>"…): the same key never sends twice, the first message is returned.
        Numbers that opted out (退订 / TD / STOP) get nothing: the message is stored as `opted_out`.
        Sent by an RQ job (callback/jobs.py) after the caller's transaction commits.
    is_opted_out(number) -> bool;  opt_out(*, number, keyword="")
    place_call(*, task_id, agent, which="mobile") -> CallAttempt      (raises CallRefused)
    hang_up(*, attempt)
    get_backend(name=None) -> Backend;  TelephonyError

docs/telephony.md describes the whole flow, the webhooks and the Twilio set-up.
"""

from django.conf import settings

from .backends import BACKENDS, Backend, TelephonyError, get_backend
from .calls import CallRefused, end_call_of_closed, hang_up, place_call, record_call_event
from .sms import handle_inbound_sms, is_opted_out, opt_out, send_sms


def calling_by_backend() -> bool:
    """Huifang places the calls (console or Twilio); False in manual mode, where agents dial by hand."""
    return settings.TELEPHONY_BACKEND in BACKENDS


__all__ = [
    "calling_by_backend",
    "Backend",
    "CallRefused",
    "TelephonyError",
    "end_call_of_closed",
    "get_backend",
    "handle_inbound_sms",
    "hang_up",
    "is_opted_out",
    "opt_out",
    "place_call",
    "record_call_event",
    "send_sms",
]
