"""SMS through the telephony service: stored once per event, sent by a job, opt-outs honoured,
delivery reports and replies through signed webhooks (twilio faked at its HTTP boundary)."""

import pytest
from django.urls import reverse

from callback import telephony
from callback.models import SmsMessage, SmsOptOut, SmsTemplate
from callback.telephony.backends import get_backend

from .twilio_fake import signed_post, use_twilio

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """send_sms as a committed request runs it: the job queued on commit runs too."""

    def send(key="appointment:1", to="13800138000", template="callback_confirmation"):
        with django_capture_on_commit_callbacks(execute=True):
            return telephony.send_sms(to=to, template=template, context=CONTEXT, event_key=key)

    return send


CONTEXT = {"name": "陈磊", "policy_no": "P2026000001", "time": "12月3日 10:00"}


def test_backend_chosen_by_settings(settings):
    settings.TELEPHONY_BACKEND = "console"
    assert get_backend().name == "console"
    use_twilio(settings)
    assert get_backend().name == "twilio"


def test_confirmation_sent_through_twilio_once_per_event(settings, send):
    fake = use_twilio(settings)
    first = send()
    again = send()
    assert first.pk == again.pk
    message = SmsMessage.objects.get()
    assert message.status == "sent" and message.sid.startswith("SM"), message.error
    assert message.to == "+8613800138000" and message.template == "callback_confirmation"
    assert "陈磊" in message.body and "P2026000001" in message.body and "12月3日 10:00" in message.body
    created = fake.created("Messages")
    assert len(created) == 1
    assert created[0]["data"]["To"] == "+8613800138000"
    assert created[0]["data"]["From"] == settings.TWILIO_FROM_NUMBER
    assert created[0]["data"]["StatusCallback"].startswith("https://huifang.example.com/telephony/")


def test_admin_edited_template_is_what_is_sent(settings, send):
    use_twilio(settings)
    SmsTemplate.objects.filter(code="callback_confirmation").update(body="{name}：回访时间{time}，{unknown}")
    assert send().body == "陈磊：回访时间12月3日 10:00，{unknown}"


def test_opted_out_number_gets_nothing(settings, send):
    fake = use_twilio(settings)
    telephony.opt_out(number="138 0013 8000", keyword="td")
    message = send()
    assert message.status == "opted_out"
    assert fake.created("Messages") == []


def test_missing_template_and_landline_are_stored_as_errors(settings, send):
    fake = use_twilio(settings)
    assert send(key="a", template="nope").status == "error"
    assert send(key="b", to="95519").status == "error"
    assert fake.created("Messages") == []


def test_twilio_fault_marks_the_message_and_sends_no_second_time(settings, send):
    fake = use_twilio(settings)
    fake.fail_with = 503
    message = send()
    message.refresh_from_db()
    assert message.status == "error" and message.error
    fake.fail_with = None
    send()
    assert len(fake.created("Messages")) == 1


def test_console_backend_sends(settings, send):
    settings.TELEPHONY_BACKEND = "console"
    message = send()
    message.refresh_from_db()
    assert message.status == "sent" and message.backend == "console"


@pytest.mark.parametrize("reply", ["退订", "TD", "td", "STOP", " stop。"])
def test_inbound_opt_out_replies(client, settings, reply):
    use_twilio(settings)
    response = signed_post(client, reverse("twilio_sms_inbound"), {"From": "+8613800138000", "Body": reply})
    assert response.status_code == 200
    assert SmsOptOut.objects.filter(number="+8613800138000").exists()
    assert telephony.is_opted_out("13800138000")


def test_inbound_other_text_does_not_opt_out(client, settings):
    use_twilio(settings)
    signed_post(client, reverse("twilio_sms_inbound"), {"From": "+8613800138000", "Body": "好的，谢谢"})
    assert not SmsOptOut.objects.exists()


def test_unsigned_inbound_is_refused(client, settings):
    use_twilio(settings)
    response = signed_post(
        client, reverse("twilio_sms_inbound"), {"From": "+8613800138000", "Body": "TD"}, signature=""
    )
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_delivery_report_moves_status_forward_only(client, settings, send):
    use_twilio(settings)
    message = send()
    message.refresh_from_db()
    url = reverse("twilio_sms_status")
    signed_post(client, url, {"MessageSid": message.sid, "MessageStatus": "delivered"})
    signed_post(client, url, {"MessageSid": message.sid, "MessageStatus": "sent"})  # late, out of order
    message.refresh_from_db()
    assert message.status == "delivered"
