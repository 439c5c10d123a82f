"""Twilio Programmable Messaging: signed form webhooks in, REST API out.

Channel config: {account_sid, auth_token, public_url?, messaging_service_sid?}. The number
villagers text is the channel's `phone_number` (the From of replies).
Docs: twilio.com/docs/usage/webhooks/webhooks-security, /docs/messaging/api/message-resource.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse

from kiungo.alerts.intake import IncomingSMS
from kiungo.messaging.gateways.base import (
    Refused,
    State,
    Transport,
    TransportError,
    http_error,
    require,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

API = "https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# Error codes on sending that name the recipient as the problem: retrying cannot help.
RECIPIENT_ERRORS = {
    21211: "invalid 'To' number",
    21408: "no permission to send to this region",
    21610: "the recipient replied STOP (unsubscribed)",
    21612: "this route cannot reach the 'To' number",
    21614: "'To' is not a mobile number",
}
# Error codes of delivery reports (twilio.com/docs/api/errors).
DELIVERY_ERRORS = {
    30001: "queue overflow",
    30002: "account suspended",
    30003: "unreachable destination handset",
    30004: "message blocked",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30008: "unknown error",
}
STATUSES = {
    "sent": State.SENT,
    "delivered": State.DELIVERED,
    "read": State.DELIVERED,
    "undelivered": State.FAILED,
    "failed": State.FAILED,
    "canceled": State.FAILED,
}


def sign_twilio(url: str, params: Mapping | Iterable[tuple[str, str]], token: str) -> str:
    """X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each name+value, by name)).

    `params` is a dict, a QueryDict (several values per name) or a list of pairs.
    """
    if hasattr(params, "lists"):
        pairs = [(name, value) for name, values in params.lists() for value in values]
    elif isinstance(params, Mapping):
        pairs = list(params.items())
    else:
        pairs = list(params)
    signed = url + "".join(name + value for name, value in sorted(set(pairs)))
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed (Twilio may sign either)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default and parts.hostname:
        if parts.port is None:
            netloc = f"{parts.netloc}:{default}"
        elif parts.port == default:
            netloc = parts.netloc.rsplit(":", 1)[0]
        else:
            return variants
        variants.append(urlunsplit(parts._replace(netloc=netloc)))
    return variants


class TwilioTransport(Transport):
    kind = "twilio"

    def verify(self, request: HttpRequest) -> None:
        super().verify(request)
        token = str(self.config.get("auth_token", ""))
        if not token:
            raise Refused(403, "channel has no auth_token configured")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise Refused(403, "missing X-Twilio-Signature")
        base = str(self.config.get("public_url", "")).rstrip("/")
        url = base + request.get_full_path() if base else request.build_absolute_uri()
        for candidate in _url_variants(url):
            expected = sign_twilio(candidate, request.POST, token)
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return
        raise Refused(403, "invalid X-Twilio-Signature")

    def parse_inbound(self, request: HttpRequest) -> IncomingSMS:
        form = request.POST
        sender = form.get("From", "")
        sender, sid, text = require(form, "From", "MessageSid", "Body", sender=sender)
        return IncomingSMS(sender=sender, text=text, external_id=sid, raw=self.raw(request))

    def inbound_response(self, message: InboundMessage, created: bool) -> HttpResponse:
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")

    def send(self, outbound: OutboundMessage) -> str:
        account_sid = str(self.config.get("account_sid", ""))
        token = str(self.config.get("auth_token", ""))
        if not account_sid or not token:
            raise TransportError("Twilio channel lacks account_sid or auth_token", permanent=True)
        data = {"To": outbound.to, "Body": outbound.text}
        if self.config.get("messaging_service_sid"):
            data["MessagingServiceSid"] = str(self.config["messaging_service_sid"])
        else:
            data["From"] = self.channel.phone_number
        if callback := self.public_url("status"):
            data["StatusCallback"] = callback
        response = self.post(
            "Twilio", API.format(account_sid=account_sid), data=data, auth=(account_sid, token)
        )
        if 200 <= response.status_code < 300:
            try:
                return str(response.json().get("sid", ""))
            except ValueError:
                return ""  # accepted: sending again would duplicate the SMS
        try:
            code = int(response.json().get("code"))
        except (ValueError, TypeError, AttributeError):
            code = None
        if code in RECIPIENT_ERRORS:
            raise TransportError(f"Twilio error {code}: {RECIPIENT_ERRORS[code]}", permanent=True)
        if response.status_code in (401, 403):
            raise TransportError(
                f"Twilio refused the credentials (HTTP {response.status_code})", permanent=True
            )
        raise http_error("Twilio", response, f"error {code}" if code else "")

    def parse_status(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        sid, status = require(request.POST, "MessageSid", "MessageStatus")
        state = STATUSES.get(status.lower())
        if state is None:
            return []  # queued, accepted, sending, receiving…: nothing to record
        error = ""
        if state == State.FAILED:
            code = request.POST.get("ErrorCode", "")
            reason = DELIVERY_ERRORS.get(int(code)) if code.isdigit() else None
            error = f"Twilio {status}" + (f", error {code}" if code else "")
            error += f": {reason}" if reason else ""
        return [(sid, state, error)]
