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

from .backends import Backend, TelephonyError, get_backend
from .calls import CallRefused, hang_up, place_call, record_call_event
from .sms import handle_inbound_sms, is_opted_out, opt_out, send_sms

__all__ = [
    "Backend",
    "CallRefused",
    "TelephonyError",
    "get_backend",
    "handle_inbound_sms",
    "hang_up",
    "is_opted_out",
    "opt_out",
    "place_call",
    "record_call_event",
    "send_sms",
]
