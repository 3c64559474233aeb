"""Every e-callback SMS goes through the telephony service (callback/telephony/): one SMS path, its
admin-editable templates, its opt-out, its stored messages and its once-per-event rule."""

from django.conf import settings

from ..models import ECallbackLink

# SMS templates (callback.telephony, editable by admins) and their placeholders.
LINK_TEMPLATE = "ecallback_link"  # {company}, {link}
REMINDER_TEMPLATE = "ecallback_reminder"  # {company}, {date}
CODE_TEMPLATE = "ecallback_code"  # {company}, {code}, {minutes}


def insurer_name() -> str:
    return settings.SMS_COMPANY_NAME


def send(*, link: ECallbackLink, template: str, context: dict, event: str) -> None:
    """Send one SMS to the link's mobile for `event`; a repeated event sends nothing."""
    from .. import telephony  # lands with the telephony issue (#12)

    telephony.send_sms(
        to=link.mobile,
        template=template,
        context=context,
        event_key=f"ecallback:{link.pk}:{event}",
        task=link.task,
    )
