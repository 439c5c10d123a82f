"""Africa's Talking: form callbacks in (unsigned), the bulk SMS API out.

Africa's Talking signs nothing: the channel UUID in the callback URL is the secret, and the
channel's `allowed_ips` can pin callbacks to their addresses.
Channel config: {username, api_key, sender_id?}; username "sandbox" uses the sandbox API.
The `from` of replies is `sender_id`, else the channel's `phone_number` (the short code).
Docs: developers.africastalking.com/docs/sms/ (sending, notifications).
"""

from datetime import UTC, datetime

from django.http import HttpRequest

from kiungo.alerts.intake import IncomingSMS
from kiungo.messaging.gateways.base import (
    State,
    Transport,
    TransportError,
    http_error,
    require,
)
from kiungo.messaging.models import OutboundMessage

API = "https://api.africastalking.com/version1/messaging"
SANDBOX_API = "https://api.sandbox.africastalking.com/version1/messaging"

ACCEPTED = {100, 101, 102}  # Processed, Sent, Queued
# Per-recipient status codes where retrying cannot help.
PERMANENT = {
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
}
# Codes that pass: a risk review ends, someone tops the balance up, the gateway recovers.
TRANSIENT = {
    401: "RiskHold",
    405: "InsufficientBalance",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
STATUSES = {
    "success": State.DELIVERED,
    "sent": State.SENT,
    "submitted": State.SENT,
    "buffered": State.SENT,
    "rejected": State.FAILED,
    "failed": State.FAILED,
    "absentsubscriber": State.FAILED,
    "expired": State.FAILED,
}


def parse_date(text: str) -> datetime | None:
    """`2024-03-05 09:41:07` or ISO 8601; naive times are UTC. None when unparseable: the
    date is a detail, not a reason to refuse an alert."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AfricasTalkingTransport(Transport):
    kind = "africastalking"

    # verify(): the base allow-list check is all there is (see the module docstring).

    def parse_inbound(self, request: HttpRequest) -> IncomingSMS:
        form = request.POST
        sender, text, message_id = require(form, "from", "text", "id", sender=form.get("from", ""))
        return IncomingSMS(
            sender=sender,
            text=text,
            external_id=message_id,
            sent_at=parse_date(form.get("date", "")),
            raw=self.raw(request),
        )

    def send(self, outbound: OutboundMessage) -> str:
        username = str(self.config.get("username", ""))
        api_key = str(self.config.get("api_key", ""))
        if not username or not api_key:
            raise TransportError(
                "Africa's Talking channel lacks username or api_key", permanent=True
            )
        data = {"username": username, "to": outbound.to, "message": outbound.text}
        sender = str(self.config.get("sender_id", "")) or self.channel.phone_number
        if sender:
            data["from"] = sender
        response = self.post(
            "Africa's Talking",
            SANDBOX_API if username == "sandbox" else API,
            data=data,
            headers={"apiKey": api_key, "Accept": "application/json"},
        )
        if response.status_code == 401:
            raise TransportError("Africa's Talking refused the API key (HTTP 401)", permanent=True)
        if not 200 <= response.status_code < 300:
            raise http_error("Africa's Talking", response)
        try:
            data = response.json()["SMSMessageData"]
            recipients = data.get("Recipients") or []
        except (ValueError, KeyError, TypeError, AttributeError):
            return ""  # accepted: sending again would duplicate the SMS
        if not recipients:
            # "Sent to 0/1": the number was refused before any routing (invalid or blocked).
            summary = str(data.get("Message", ""))[:200]
            raise TransportError(f"Africa's Talking sent nothing: {summary}", permanent=True)
        recipient = recipients[0]
        code = recipient.get("statusCode")
        status = str(recipient.get("status", ""))[:60]
        if code in ACCEPTED:
            return str(recipient.get("messageId", ""))
        if code in PERMANENT:
            raise TransportError(f"Africa's Talking {code} {PERMANENT[code]}", permanent=True)
        name = TRANSIENT.get(code, status or "unknown status")
        raise TransportError(f"Africa's Talking {code} {name}", permanent=False)

    def parse_status(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        message_id, status = require(request.POST, "id", "status")
        state = STATUSES.get(status.lower())
        if state is None:
            return []
        error = ""
        if state == State.FAILED:
            reason = request.POST.get("failureReason", "")
            error = f"Africa's Talking {status}" + (f": {reason}" if reason else "")
        return [(message_id, state, error)]
