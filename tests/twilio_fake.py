"""Twilio faked at its HTTP boundary: the real `twilio` library talks to this instead of api.twilio.com,
and signed requests into our webhooks are built with the library's own RequestValidator."""

import json
import logging
import re
import uuid

from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-123"
FROM_NUMBER = "+8610950000"
PUBLIC_BASE_URL = "https://huifang.example.com"


class FakeTwilioHttp(HttpClient):
    """Records every request; answers like Twilio (201 with a sid), or with `fail_with` (a status code
    or an exception) to play Twilio's faults."""

    def __init__(self):
        super().__init__(logging.getLogger("fake-twilio"), False)
        self.requests: list[dict] = []
        self.fail_with: int | Exception | None = None
        self.delay_hook = None  # called inside request(): lets a test hold a call creation open

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        if self.delay_hook:
            self.delay_hook()
        if isinstance(self.fail_with, Exception):
            raise self.fail_with
        if self.fail_with:
            body = {"code": 20500, "message": "Internal Server Error", "status": self.fail_with}
            return Response(self.fail_with, json.dumps(body))
        if method == "DELETE":
            return Response(204, "")
        kind = "SM" if "/Messages" in uri else "CA"
        sid = re.search(r"/(CA[0-9a-f]{32})\.json$", uri)
        body = {
            "sid": sid.group(1) if sid else kind + uuid.uuid4().hex,
            "status": "queued",
            "account_sid": ACCOUNT_SID,
        }
        return Response(201 if method == "POST" and not sid else 200, json.dumps(body))

    def created(self, kind: str) -> list[dict]:
        """The POSTs that created calls ("Calls") or messages ("Messages")."""
        return [r for r in self.requests if r["method"] == "POST" and r["uri"].endswith(f"/{kind}.json")]


def use_twilio(settings) -> FakeTwilioHttp:
    """Switch the settings to the Twilio backend behind a fake HTTP client; returns the fake."""
    fake = FakeTwilioHttp()
    settings.TELEPHONY_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TELEPHONY_CALLER_ID = FROM_NUMBER
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_HTTP_CLIENT = fake
    return fake


def signed_post(client, path: str, params: dict, *, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST `params` to our webhook `path` as Twilio would, signed for its public address."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(path, params, **headers)
