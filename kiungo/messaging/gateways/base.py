"""What every SMS gateway transport does, and the two errors it speaks in.

A transport wraps one Channel. The views drive it for each request:

    receive: verify > handle_task (SMSSync polls) > parse_inbound > receive_sms > inbound_response
    status:  verify > parse_status > apply_status_updates > status_response

and the outbox worker calls `send()` for each queued OutboundMessage.
"""

import abc
import ipaddress
import json
import logging

import requests
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from kiungo.alerts.intake import IncomingSMS
from kiungo.lib.logging import redact
from kiungo.messaging import http
from kiungo.messaging.models import RAW_LIMIT, Channel, InboundMessage, OutboundMessage

logger = logging.getLogger(__name__)

State = OutboundMessage.State


class TransportError(Exception):
    """Sending failed. `permanent`: retrying cannot help (invalid number, bad credentials)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Refused(Exception):
    """A request the gateway endpoint will not take: 403 (who is asking) or 400 (what)."""

    def __init__(self, status: int, message: str, *, sender: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.sender = sender  # when known from a request that is otherwise unusable


class Transport(abc.ABC):
    kind = ""
    methods = ("POST",)  # what the receive URL accepts
    pulls = False  # True: the gateway fetches queued messages itself, `send()` only queues

    def __init__(self, channel: Channel):
        self.channel = channel
        self.config = channel.config

    # Inbound -------------------------------------------------------------------------------

    def verify(self, request: HttpRequest) -> None:
        """Raise Refused(403) unless the request comes from this channel's gateway."""
        check_allowed_ips(self.channel, request)

    def handle_task(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a verified request that is not an inbound SMS (SMSSync's polls); else None."""
        return None

    @abc.abstractmethod
    def parse_inbound(self, request: HttpRequest) -> IncomingSMS:
        """The SMS in a verified request; Refused(400) when a field is missing or unusable."""

    def inbound_response(self, message: InboundMessage, created: bool) -> HttpResponse:
        """What the gateway expects once the message is stored (a redelivery gets it too)."""
        return HttpResponse("OK", content_type="text/plain")

    def raw(self, request: HttpRequest) -> str:
        """The request as stored for inspection: its body, or its query for a GET."""
        body = request.body or request.META.get("QUERY_STRING", "").encode()
        return cap(body.decode(errors="replace"))

    # Outbound ------------------------------------------------------------------------------

    @abc.abstractmethod
    def send(self, outbound: OutboundMessage) -> str:
        """Hand one message to the gateway; return its message id. Raises TransportError."""

    @abc.abstractmethod
    def parse_status(self, request: HttpRequest) -> list[tuple[str, str, str]]:
        """A verified delivery report as [(gateway message id, new OutboundMessage state,
        error text)]; reports that change nothing (queued, accepted…) are left out."""

    def status_response(self, changed: int) -> HttpResponse:
        return HttpResponse("OK", content_type="text/plain")

    # Helpers -------------------------------------------------------------------------------

    def public_url(self, name: str) -> str:
        """Our absolute URL ("receive" or "status") when the channel's `public_url` is set."""
        base = str(self.config.get("public_url", "")).rstrip("/")
        if not base:
            return ""
        path = reverse(f"messaging:{name}", args=[self.channel.kind, self.channel.uuid])
        return base + path

    def post(self, provider: str, url: str, **kwargs) -> requests.Response:
        """`http.post`, with connection failures and timeouts turned into transient errors."""
        try:
            return http.post(url, **kwargs)
        except requests.RequestException as error:
            raise TransportError(
                f"{provider} unreachable: {type(error).__name__}", permanent=False
            ) from None


def check_allowed_ips(channel: Channel, request: HttpRequest) -> None:
    """Refuse a request from outside the channel's allow-list (addresses or networks).

    REMOTE_ADDR is the peer of this process: behind a reverse proxy, the proxy must pass the
    client address through (as gunicorn does with `--forwarded-allow-ips` and a PROXY line),
    or the list must name the proxy.
    """
    allowed = channel.allowed_ips or []
    if not allowed:
        return
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise Refused(403, "sender address not allowed for this channel") from None
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(str(entry).strip(), strict=False):
                return
        except ValueError:
            logger.warning("channel %s: ignoring an invalid allowed_ips entry", channel.pk)
    raise Refused(403, "sender address not allowed for this channel")


def cap(text: str) -> str:
    """At most RAW_LIMIT bytes of `text`, cut on a character boundary."""
    return text.encode()[:RAW_LIMIT].decode(errors="ignore")


def require(values, *names: str, sender: str = "") -> list[str]:
    """The named fields of a form or JSON object, as strings; Refused(400) for a missing one."""
    found = []
    for name in names:
        value = values.get(name)
        if value is None:
            raise Refused(400, f"missing field '{name}'", sender=sender)
        found.append(str(value))
    return found


def form_or_json(request: HttpRequest) -> dict:
    """The fields of a form body, or of a JSON object body (Content-Type application/json)."""
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "the body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise Refused(400, "the body must be a JSON object")
        return payload
    return request.POST.dict()


def http_error(provider: str, response: requests.Response, detail: str = "") -> TransportError:
    """A TransportError for an unsuccessful HTTP answer: 4xx are permanent (the same request
    will be refused again) except 408 and 429 (come back later); 5xx and others are transient."""
    status = response.status_code
    permanent = 400 <= status < 500 and status not in (408, 429)
    suffix = f": {redact(detail)[:300]}" if detail else ""
    return TransportError(f"{provider} answered HTTP {status}{suffix}", permanent=permanent)


# Which states a delivery report may move a message from. DELIVERED is final; FAILED yields
# only to DELIVERED (the handset got it after all); a late "sent" never undoes a later state.
MOVES_FROM = {
    State.SENT: [State.QUEUED, State.ERRORED],
    State.DELIVERED: [State.QUEUED, State.ERRORED, State.SENT, State.FAILED],
    State.FAILED: [State.QUEUED, State.ERRORED, State.SENT],
}


def apply_status_updates(channel: Channel, updates: list[tuple[str, str, str]]) -> int:
    """Record delivery reports; returns how many messages changed. Unknown ids change nothing.

    Each update is one conditional UPDATE (WHERE state IN allowed-from), so two reports racing
    for one message (delivered and a late "sent") cannot move it backwards.
    """
    changed = 0
    now = timezone.now()
    for external_id, state, error in updates:
        # No id of ours holds a NUL (PostgreSQL text cannot): such a report matches nothing.
        if not external_id or "\x00" in external_id or state not in MOVES_FROM:
            continue
        fields = {"state": state, "updated_at": now}
        if state == State.FAILED:
            fields["error"] = redact(error.replace("\x00", ""))[:1000] or (
                "The gateway reported a failure."
            )
        changed += OutboundMessage.objects.filter(
            channel=channel, external_id=external_id, state__in=MOVES_FROM[state]
        ).update(**fields)
    return changed
