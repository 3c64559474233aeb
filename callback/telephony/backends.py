"""Telephony backends, one class per service (as healthchecks' transports): console and Twilio.

A backend places calls, hangs them up, sends SMS, streams and deletes recordings. What a call then
does arrives as events (Twilio's signed webhooks, or the console's simulated course) that
`calls.record_call_event` stores; the backends never write the database themselves.
"""

from __future__ import annotations

import io
import logging
import math
import random
import struct
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import requests
from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("callback.telephony")


class TelephonyError(Exception):
    """The telephony service refused or did not answer; the call or message was not placed."""


@dataclass(frozen=True)
class CallRequest:
    agent_number: str  # the agent's own phone or softphone: called first
    customer_number: str  # E.164, bridged by the TwiML <Dial> once the agent answers
    caller_id: str
    twiml_url: str
    status_url: str  # the agent leg's status callback


@dataclass(frozen=True)
class Media:
    chunks: Iterator[bytes]
    content_type: str


class Backend:
    name = ""

    def start_call(self, call: CallRequest) -> str:
        """Place the agent leg; returns its call id. Raises TelephonyError."""
        raise NotImplementedError

    def hang_up(self, call_sid: str) -> None:
        raise NotImplementedError

    def send_sms(self, *, to: str, body: str, status_url: str) -> str:
        """Send one SMS; returns its message id. Raises TelephonyError."""
        raise NotImplementedError

    def recording_media(self, recording) -> Media:
        raise NotImplementedError

    def delete_recording(self, sid: str) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- console

# What a console call does, by the customer's side; odds from TELEPHONY_CONSOLE_ODDS.
CONSOLE_COURSES = ("answered", "busy", "no_answer", "wrong_number")


def console_odds() -> dict[str, int]:
    """`answered:70,busy:10,no_answer:15,wrong_number:5` → {course: weight}; junk entries are ignored."""
    odds = {}
    for part in (settings.TELEPHONY_CONSOLE_ODDS or "").split(","):
        course, _sep, weight = part.strip().partition(":")
        if course in CONSOLE_COURSES and weight.strip().isdigit():
            odds[course] = int(weight)
    return {k: v for k, v in odds.items() if v > 0} or {"answered": 1}


def console_course(call_sid: str) -> str:
    """The course a console call was given when placed, read back from its id (no state kept)."""
    code = call_sid[2:4] if call_sid.startswith("CA") else ""
    return {c[:2]: c for c in CONSOLE_COURSES}.get(code, "answered")


def fake_wav(seconds: float = 3.0, rate: int = 8000) -> bytes:
    """A short two-tone WAV (agent left, customer right): the console's stand-in for a recording."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            left = int(6000 * math.sin(2 * math.pi * 440 * i / rate))
            right = int(6000 * math.sin(2 * math.pi * 660 * i / rate))
            frames += struct.pack("<hh", left, right)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


class ConsoleBackend(Backend):
    """Logs what it would do and lets the call play out (calls.advance_console_call): the demo, CI."""

    name = "console"

    def start_call(self, call: CallRequest) -> str:
        odds = console_odds()
        course = random.choices(list(odds), weights=list(odds.values()))[0]
        sid = "CA" + course[:2] + uuid.uuid4().hex[:30]
        log.info(
            "console call %s: agent %s → customer %s (%s)",
            sid,
            call.agent_number,
            call.customer_number,
            course,
        )
        return sid

    def hang_up(self, call_sid: str) -> None:
        log.info("console call %s hung up", call_sid)

    def send_sms(self, *, to: str, body: str, status_url: str) -> str:
        sid = "SM" + uuid.uuid4().hex
        log.info("console SMS %s to %s: %s", sid, to, body)
        return sid

    def recording_media(self, recording) -> Media:
        seconds = min(max(recording.duration_seconds or 3, 1), 5)
        return Media(iter([fake_wav(seconds)]), "audio/wav")

    def delete_recording(self, sid: str) -> None:
        log.info("console recording %s deleted", sid)


# ----------------------------------------------------------------------------------------------- twilio


class TwilioBackend(Backend):
    """Twilio's REST API through the `twilio` library; its HTTP client is the one seam tests replace."""

    name = "twilio"

    def __init__(self, http_client=None):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.http_client = http_client or TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT)
        self.client = Client(self.account_sid, self.auth_token, http_client=self.http_client)

    def _call(self, what: str, func, *args, **kwargs):
        from twilio.base.exceptions import TwilioException

        try:
            return func(*args, **kwargs)
        except (TwilioException, requests.RequestException, OSError) as exc:
            log.warning("twilio %s failed: %s", what, exc)
            raise TelephonyError(str(exc)) from exc

    def start_call(self, call: CallRequest) -> str:
        created = self._call(
            "call",
            self.client.calls.create,
            to=call.agent_number,
            from_=call.caller_id,
            url=call.twiml_url,
            method="POST",
            status_callback=call.status_url,
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
            timeout=settings.TELEPHONY_RING_SECONDS,
        )
        return created.sid

    def hang_up(self, call_sid: str) -> None:
        self._call("hang-up", self.client.calls(call_sid).update, status="completed")

    def send_sms(self, *, to: str, body: str, status_url: str) -> str:
        kwargs = {"to": to, "body": body, "status_callback": status_url}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            kwargs["from_"] = settings.TWILIO_FROM_NUMBER
        return self._call("SMS", self.client.messages.create, **kwargs).sid

    def recording_media(self, recording) -> Media:
        # Twilio's media needs the account's credentials: Huifang fetches it and streams it on, so the
        # browser never holds a Twilio address or a token.
        url = (recording.url or f"{self._api()}/Recordings/{recording.sid}").removesuffix(".json")
        session = media_session()
        try:
            response = session.get(
                url + ".wav",
                auth=(self.account_sid, self.auth_token),
                stream=True,
                timeout=settings.TWILIO_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise TelephonyError(str(exc)) from exc
        if response.status_code != 200:
            response.close()
            raise TelephonyError(f"HTTP {response.status_code}")
        return Media(response.iter_content(64 * 1024), response.headers.get("Content-Type", "audio/wav"))

    def delete_recording(self, sid: str) -> None:
        from twilio.base.exceptions import TwilioRestException

        try:
            self._call("recording delete", self.client.recordings(sid).delete)
        except TelephonyError as exc:
            if isinstance(exc.__cause__, TwilioRestException) and exc.__cause__.status == 404:
                return  # already gone at Twilio: nothing left to delete
            raise

    def _api(self) -> str:
        return f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}"


def media_session() -> requests.Session:
    """The session recordings are fetched with (settings.TWILIO_MEDIA_SESSION lets tests mount a fake
    transport adapter: the HTTP boundary, as for the REST calls)."""
    return getattr(settings, "TWILIO_MEDIA_SESSION", None) or requests.Session()


BACKENDS = {"console": ConsoleBackend, "twilio": TwilioBackend}


def get_backend(name: str | None = None) -> Backend:
    """The configured backend (settings.TELEPHONY_BACKEND), or the one an attempt was placed with."""
    name = name or settings.TELEPHONY_BACKEND
    if name == "twilio":
        client = getattr(settings, "TWILIO_HTTP_CLIENT", None)
        if isinstance(client, str):
            client = _http_client_from_path(client)
        return TwilioBackend(http_client=client)
    return ConsoleBackend()


@cache
def _http_client_from_path(path: str):
    return import_string(path)()
