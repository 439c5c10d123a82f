"""A generic HTTP gateway (RapidPro's "external" channel style), signed with Standard Webhooks.

Inbound (form or JSON): `from`, `text`, optional `date` (ISO 8601) and `id`.
Status (JSON or form): `id`, `status` (sent, delivered, failed), optional `error`.
Outbound: POST JSON {"id", "to", "text"} to `send_url`; the answer's JSON `id`, if any, is
the gateway's message id. Every request, both ways, carries the Standard Webhooks headers
`webhook-id`, `webhook-timestamp` and `webhook-signature` (standardwebhooks.com).
Channel config: {secret: "whsec_<base64 key>", send_url}.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse

from kiungo.alerts.intake import IncomingSMS
from kiungo.messaging.gateways.base import (
    Refused,
    State,
    Transport,
    TransportError,
    form_or_json,
    http_error,
    require,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

TOLERANCE = 5 * 60  # seconds a signed request stays valid, either way (replay window)
STATUSES = {"sent": State.SENT, "delivered": State.DELIVERED, "failed": State.FAILED}


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the secret must be 'whsec_' followed by base64") from None


def sign_standard_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes | str) -> str:
    """The `webhook-signature` header: "v1,<base64 HMAC-SHA256 of 'id.timestamp.body'>"."""
    if isinstance(body, str):
        body = body.encode()
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, webhook_id: str, body: bytes | str, timestamp: int | None = None):
    """All three Standard Webhooks headers for `body` (as HTTP header names)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard_webhook(secret, webhook_id, timestamp, body),
    }


def parse_iso_date(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ExternalTransport(Transport):
    kind = "external"

    def verify(self, request: HttpRequest) -> None:
        super().verify(request)
        secret = str(self.config.get("secret", ""))
        if not secret:
            raise Refused(403, "channel has no secret configured")
        webhook_id = request.headers.get("webhook-id", "")
        timestamp = request.headers.get("webhook-timestamp", "")
        signatures = request.headers.get("webhook-signature", "")
        if not (webhook_id and timestamp and signatures):
            raise Refused(403, "missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            sent = int(timestamp)
        except ValueError:
            raise Refused(403, "webhook-timestamp is not a number of seconds") from None
        if abs(time.time() - sent) > TOLERANCE:
            raise Refused(403, "webhook-timestamp too old or in the future (replay refused)")
        try:
            expected = sign_standard_webhook(secret, webhook_id, sent, request.body)
        except ValueError:
            raise Refused(403, "channel secret is not a valid whsec_ key") from None
        _version, _, expected_signature = expected.partition(",")
        for candidate in signatures.split():
            version, _, signature = candidate.partition(",")
            if version == "v1" and hmac.compare_digest(
                signature.encode(), expected_signature.encode()
            ):
                return
        raise Refused(403, "invalid webhook-signature")

    def parse_inbound(self, request: HttpRequest) -> IncomingSMS:
        fields = form_or_json(request)
        sender = str(fields.get("from") or "")
        sender, text = require(fields, "from", "text", sender=sender)
        sent_at = None
        if fields.get("date"):
            try:
                sent_at = parse_iso_date(str(fields["date"]))
            except ValueError:
                raise Refused(400, "field 'date' is not an ISO 8601 date", sender=sender) from None
        # A retry of one webhook keeps its webhook-id: without an `id`, that is the key.
        external_id = str(fields.get("id") or request.headers["webhook-id"])
        return IncomingSMS(
            sender=sender,
            text=text,
            external_id=external_id,
            sent_at=sent_at,
            raw=self.raw(request),
        )

    def inbound_response(self, message: InboundMessage, created: bool) -> HttpResponse:
        return JsonResponse({"id": message.pk, "duplicate": not created})

    def send(self, outbound: OutboundMessage) -> str:
        url = str(self.config.get("send_url", ""))
        secret = str(self.config.get("secret", ""))
        if not url or not secret:
            raise TransportError("external channel lacks send_url or secret", permanent=True)
        body = json.dumps({"id": outbound.pk, "to": outbound.to, "text": outbound.text}).encode()
        try:
            # The same webhook-id on every attempt lets the gateway drop a repeated send.
            headers = signed_headers(secret, f"kiungo-out-{outbound.pk}", body)
        except ValueError as error:
            raise TransportError(f"external channel: {error}", permanent=True) from None
        headers["Content-Type"] = "application/json"
        response = self.post("external gateway", url, data=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise http_error("external gateway", response)
        try:
            answer = response.json()
            gateway_id = answer.get("id") if isinstance(answer, dict) else None
        except ValueError:
            gateway_id = None
        return str(gateway_id) if gateway_id not in (None, "") else str(outbound.pk)

    def parse_status(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        fields = form_or_json(request)
        message_id, status = require(fields, "id", "status")
        state = STATUSES.get(status.lower())
        if state is None:
            raise Refused(400, "field 'status' must be sent, delivered or failed")
        error = str(fields.get("error") or "") if state == State.FAILED else ""
        return [(message_id, state, error)]

    def status_response(self, changed: int) -> HttpResponse:
        return JsonResponse({"ok": True})
