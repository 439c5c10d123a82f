"""SMSSync (Ushahidi's Android app): a phone at a base relays SMS over its own SIM.

The phone talks to one "Sync URL", our receive URL, and is never called by us:
- POST (form) `from`, `message`, `message_id`, `sent_timestamp` (ms), `sent_to`, `device_id`,
  `secret`: an inbound SMS; answered {"payload": {"success": true, "error": null}}.
- GET `?task=send&secret=…`: the messages it should send; each is claimed (QUEUED > SENT)
  as it is handed out, so two polls never get the same message.
- POST `?task=sent` JSON {"queued_messages": [uuid, …]}: the phone queued them; we answer with
  the uuids we know, and it sends only those. The app sends no secret on this call: the
  channel UUID in the URL is the credential, and the call only echoes ids already handed out
  to this channel (a wrong secret, when one is given, is still refused).
- GET `?task=result&secret=…`: which uuids we want results for; POST `?task=result&secret=…`
  {"message_result": [{uuid, sent_result_code, delivered_result_code, …}]} (the list may come
  JSON-encoded in a string).

Result codes are Android's: -1 is RESULT_OK; a sent code of 1-4 is an SmsManager error
(generic failure, radio off, null PDU, no service). A delivery counts only with code -1 and
a message (the app's default, 0 and empty, means "no report yet"; 0 with a message is
ambiguous between the app and its documentation, so it changes nothing).
Channel config: {secret}. Docs: github.com/ushahidi/SMSSync, smssync.ushahidi.com/developers.
"""

import hmac
import json
from datetime import UTC, datetime, timedelta

from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from kiungo.alerts.intake import IncomingSMS
from kiungo.messaging.gateways.base import (
    Refused,
    State,
    Transport,
    apply_status_updates,
    cap,
    form_or_json,
    require,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

POLL_BATCH = 20  # messages handed to the phone per poll
RESULT_WINDOW = timedelta(days=7)  # how long we ask the phone about a message it sent
LIST_LIMIT = 500  # uuids read from one request
RESULT_OK = -1  # android.app.Activity.RESULT_OK
SUCCESS = {"payload": {"success": True, "error": None}}


def parse_timestamp(value: str) -> datetime | None:
    """Milliseconds since the epoch; None when absent or unparseable (a detail)."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class SMSSyncTransport(Transport):
    kind = "smssync"
    methods = ("GET", "POST")
    pulls = True

    def verify(self, request: HttpRequest) -> None:
        super().verify(request)
        secret = str(self.config.get("secret", ""))
        if not secret:
            raise Refused(403, "channel has no secret configured")
        given = self._given_secret(request)
        if given is None and request.method == "POST" and request.GET.get("task") == "sent":
            return  # see the module docstring
        if given is None or not hmac.compare_digest(given.encode(), secret.encode()):
            raise Refused(403, "wrong or missing secret")

    def _given_secret(self, request: HttpRequest) -> str | None:
        if "secret" in request.GET:
            return request.GET["secret"]
        if request.method == "POST":
            if request.content_type == "application/json":
                try:
                    payload = json.loads(request.body or b"null")
                except (ValueError, UnicodeDecodeError):
                    return None
                if isinstance(payload, dict) and "secret" in payload:
                    return str(payload["secret"])
            elif "secret" in request.POST:
                return request.POST["secret"]
        return None

    def handle_task(self, request: HttpRequest) -> HttpResponse | None:
        task = request.GET.get("task", "")
        if request.method == "GET":
            if task == "send":
                return JsonResponse(
                    {
                        "payload": {
                            "task": "send",
                            "secret": str(self.config["secret"]),
                            "messages": self.claim(),
                        }
                    }
                )
            if task == "result":
                return JsonResponse({"message_uuids": self._awaiting_results()})
            raise Refused(400, "unknown task: use task=send or task=result")
        if task == "sent":
            return JsonResponse({"message_uuids": self._confirm(request)})
        if task == "result":
            apply_status_updates(self.channel, self.parse_status(request))
            return JsonResponse(SUCCESS)
        if task:
            raise Refused(400, "unknown task")
        return None  # an inbound SMS

    def claim(self, limit: int = POLL_BATCH) -> list[dict]:
        """Hand out up to `limit` queued messages, each marked SENT as it is claimed."""
        now = timezone.now()
        handed = []
        for message in self._queued(limit):
            # Two polls racing (two phones, or a retried request) select the same rows; only
            # the poll whose conditional UPDATE changes the row hands that message out.
            claimed = OutboundMessage.objects.filter(pk=message.pk, state=State.QUEUED).update(
                state=State.SENT,
                external_id=str(message.pk),
                sent_at=now,
                updated_at=now,
                attempts=F("attempts") + 1,
            )
            if claimed:
                handed.append({"to": message.to, "message": message.text, "uuid": str(message.pk)})
        return handed

    def _queued(self, limit: int) -> list[OutboundMessage]:
        queued = OutboundMessage.objects.filter(channel=self.channel, state=State.QUEUED)
        return list(queued.order_by("created_at", "pk")[:limit])

    def _confirm(self, request: HttpRequest) -> list[str]:
        uuids = [str(uuid) for uuid in self._list_field(request, "queued_messages")]
        known = set(
            OutboundMessage.objects.filter(
                channel=self.channel, state=State.SENT, external_id__in=uuids
            ).values_list("external_id", flat=True)
        )
        return [uuid for uuid in uuids if uuid in known]

    def _awaiting_results(self) -> list[str]:
        since = timezone.now() - RESULT_WINDOW
        waiting = OutboundMessage.objects.filter(
            channel=self.channel, state=State.SENT, sent_at__gte=since
        ).exclude(external_id="")
        return list(waiting.order_by("sent_at").values_list("external_id", flat=True)[:LIST_LIMIT])

    def _list_field(self, request: HttpRequest, name: str) -> list:
        if request.content_type == "application/json":
            payload = form_or_json(request)
            value = payload.get(name)
        else:
            values = request.POST.getlist(name)
            value = values[0] if len(values) == 1 else values
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = [value]  # one plain uuid
        if value is None:
            raise Refused(400, f"missing field '{name}'")
        if not isinstance(value, list):
            raise Refused(400, f"field '{name}' must be a list")
        return value[:LIST_LIMIT]

    def parse_inbound(self, request: HttpRequest) -> IncomingSMS:
        fields = form_or_json(request)
        sender = str(fields.get("from") or "")
        sender, text = require(fields, "from", "message", sender=sender)
        return IncomingSMS(
            sender=sender,
            text=text,
            external_id=str(fields.get("message_id") or ""),
            sent_at=parse_timestamp(fields.get("sent_timestamp")),
            raw=self.raw(request),
        )

    def raw(self, request: HttpRequest) -> str:
        """The posted fields without the channel secret."""
        try:
            fields = form_or_json(request)
        except Refused:
            return super().raw(request)
        fields.pop("secret", None)
        return cap(json.dumps(fields, ensure_ascii=False, default=str))

    def inbound_response(self, message: InboundMessage, created: bool) -> HttpResponse:
        return JsonResponse(SUCCESS)

    def send(self, outbound: OutboundMessage) -> str:
        """SMSSync pulls its messages: nothing to send now. Returns "" and the caller must
        leave the message QUEUED (see `pulls`); the next `task=send` poll claims it."""
        return ""

    def parse_status(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        updates = []
        for item in self._list_field(request, "message_result"):
            if not isinstance(item, dict) or not item.get("uuid"):
                continue
            uuid = str(item["uuid"])
            sent_code = _int(item.get("sent_result_code"))
            delivered_code = _int(item.get("delivered_result_code"))
            if sent_code is not None and sent_code > 0:
                reason = str(item.get("sent_result_message") or "")
                error = f"SMSSync could not send (Android error {sent_code})"
                updates.append((uuid, State.FAILED, error + (f": {reason}" if reason else "")))
            elif delivered_code == RESULT_OK and item.get("delivered_result_message"):
                updates.append((uuid, State.DELIVERED, ""))
        return updates
