"""The development gateway: sent SMS go to a log file, inbound SMS come from a plain form.

`send()` appends one line per message to DATA_DIR/console-sms.log (recipient masked but for
its last three digits). The receive URL takes `from`, `text` and an optional `id`, and the
status URL `id` and `status` (sent, delivered, failed) with an optional `error`, all without
authentication, so it is refused outright in production (KIUNGO_ENV=production).
"""

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from kiungo.alerts.intake import IncomingSMS
from kiungo.messaging.gateways.base import (
    Refused,
    State,
    Transport,
    TransportError,
    form_or_json,
    require,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

LOG_NAME = "console-sms.log"
STATUSES = {"sent": State.SENT, "delivered": State.DELIVERED, "failed": State.FAILED}


def mask(number: str) -> str:
    """Every character but the last three digits hidden: "+243991234567" > "**********567"."""
    return "*" * max(len(number) - 3, 0) + number[-3:]


def log_path():
    return settings.DATA_DIR / LOG_NAME


class ConsoleTransport(Transport):
    kind = "console"

    def verify(self, request: HttpRequest) -> None:
        # Stricter than "DEBUG or not production": an unauthenticated way to raise alerts
        # must not open because someone switched DEBUG on in production.
        if settings.PRODUCTION:
            raise Refused(403, "the console channel does not accept messages in production")
        super().verify(request)

    def parse_inbound(self, request: HttpRequest) -> IncomingSMS:
        fields = form_or_json(request)
        sender = str(fields.get("from") or "")
        sender, text = require(fields, "from", "text", sender=sender)
        return IncomingSMS(
            sender=sender,
            text=text,
            external_id=str(fields.get("id") or ""),
            raw=self.raw(request),
        )

    def inbound_response(self, message: InboundMessage, created: bool) -> HttpResponse:
        return JsonResponse({"id": message.pk, "duplicate": not created})

    def send(self, outbound: OutboundMessage) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        text = outbound.text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        line = "\t".join(
            [
                timezone.now().isoformat(timespec="seconds"),
                f"{self.channel.name} ({self.channel.uuid})",
                mask(outbound.to),
                message_id,
                text,
            ]
        )
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")
        except OSError as error:
            raise TransportError(f"console log not writable: {error.strerror}") from None
        return message_id

    def parse_status(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        fields = form_or_json(request)
        message_id, status = require(fields, "id", "status")
        state = STATUSES.get(status.lower())
        if state is None:
            raise Refused(400, "field 'status' must be sent, delivered or failed")
        return [(message_id, state, str(fields.get("error") or ""))]
