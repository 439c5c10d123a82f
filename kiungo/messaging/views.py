"""Gateway webhooks: inbound SMS and delivery reports, for every kind of channel.

The answers are what keeps a message from being lost or duplicated:
- 2xx only once the message is stored (a redelivery is answered the same, creating nothing);
- 503 + Retry-After when the database refuses the write, so the gateway tries again;
- 403 for a request that does not prove it comes from the gateway: nothing is stored;
- 400 for an authenticated request we cannot read: the raw request is kept for review;
- 200 for delivery reports about ids we do not know, so the gateway stops resending them.

The channel UUID in these URLs is a credential (Africa's Talking signs nothing), so error
answers are logged here, by kind and channel id, instead of by Django with the path.
"""

import logging
import threading
import time

from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from kiungo.alerts.intake import normalise_sender, store_sms
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.gateways import TRANSPORTS, transport_for
from kiungo.messaging.gateways.base import Refused, Transport, apply_status_updates
from kiungo.messaging.models import Channel, InboundMessage
from kiungo.missions.models import Mission

logger = logging.getLogger(__name__)

RETRY_AFTER = 30  # seconds


def _quiet(response):
    # Django's request logger would write the path, channel UUID included, for every 4xx/5xx.
    response._has_been_logged = True
    return response


def _error(status: int, message: str) -> JsonResponse:
    return _quiet(JsonResponse({"error": message}, status=status))


def _refused(transport: Transport, refusal: Refused) -> JsonResponse:
    logger.warning(
        "%s channel %s refused a request (%s): %s",
        transport.kind,
        transport.channel.pk,
        refusal.status,
        refusal.message,
    )
    return _error(refusal.status, refusal.message)


def _unavailable() -> JsonResponse:
    response = _error(503, "temporarily unable to store the message, retry")
    response["Retry-After"] = str(RETRY_AFTER)
    return response


# Channels by (kind, UUID), kept for CHANNEL_TTL seconds: every webhook request needs its
# channel and mission, and they change rarely. A save or delete of a channel or mission in this
# process forgets them all at once; a change made by another process (admin, another worker)
# applies within CHANNEL_TTL. A version check would itself cost the query this saves, so a short
# time limit it is: a deactivated channel or a rotated secret is honoured within 5 seconds.
CHANNEL_TTL = 5.0
_CHANNELS: dict[tuple[str, str], tuple[float, Channel]] = {}
_CHANNELS_LOCK = threading.Lock()


def forget_channels(**_kwargs) -> None:
    with _CHANNELS_LOCK:
        _CHANNELS.clear()


def _forget_channels(**_kwargs) -> None:
    # Now, and again at commit: a reload in between could read rows a rollback then removes.
    forget_channels()
    transaction.on_commit(forget_channels)


for _model in (Channel, Mission):
    post_save.connect(
        _forget_channels, sender=_model, dispatch_uid=f"webhook-channel-{_model.__name__}"
    )
    post_delete.connect(
        _forget_channels, sender=_model, dispatch_uid=f"webhook-channel-del-{_model.__name__}"
    )


def _channel(kind: str, channel_uuid) -> Channel:
    key = (kind, str(channel_uuid))
    now = time.monotonic()
    cached = _CHANNELS.get(key)
    if cached is not None and now - cached[0] < CHANNEL_TTL:
        return cached[1]
    channel = Channel.objects.select_related("mission").get(
        kind=kind, uuid=channel_uuid, active=True
    )
    with _CHANNELS_LOCK:
        _CHANNELS[key] = (now, channel)
    return channel


def _transport(kind: str, channel_uuid) -> Transport:
    if kind not in TRANSPORTS:
        raise Channel.DoesNotExist
    return transport_for(_channel(kind, channel_uuid))


def _store_for_review(transport: Transport, request, refusal: Refused) -> None:
    """Keep an authenticated but unreadable request where an officer can look at it."""
    channel = transport.channel
    sender = normalise_sender(channel.mission, refusal.sender) if refusal.sender else ""
    InboundMessage.objects.create(
        channel=channel,
        sender=sender,
        sender_hash=keyed_hash(sender) if sender else "",
        raw=transport.raw(request),
        received_at=timezone.now(),
        state=InboundMessage.State.NEEDS_REVIEW,
        error=f"Refused ({refusal.status}): {refusal.message}"[:1000],
    )


@csrf_exempt
def receive(request, kind: str, channel_uuid):
    try:
        transport = _transport(kind, channel_uuid)
        if request.method not in transport.methods:
            return _quiet(HttpResponseNotAllowed(transport.methods))
        request.body  # noqa: B018 -- read it before the form parser does: verify() needs it
        try:
            transport.verify(request)
            answer = transport.handle_task(request)
        except Refused as refusal:
            return _refused(transport, refusal)
        if answer is not None:
            return answer
        try:
            sms = transport.parse_inbound(request)
        except Refused as refusal:
            _store_for_review(transport, request, refusal)
            return _refused(transport, refusal)
        message, created = store_sms(transport.channel, sms)  # the worker processes it
    except Channel.DoesNotExist:
        return _error(404, "no such channel")
    except DatabaseError:
        logger.exception("inbound SMS on a %s channel not stored", kind)
        return _unavailable()
    if created:
        logger.info("inbound SMS %s stored (channel %s)", message.pk, message.channel_id)
    return transport.inbound_response(message, created)


@csrf_exempt
def status(request, kind: str, channel_uuid):
    if request.method != "POST":
        return _quiet(HttpResponseNotAllowed(["POST"]))
    try:
        transport = _transport(kind, channel_uuid)
        request.body  # noqa: B018 -- see receive()
        try:
            transport.verify(request)
            updates = transport.parse_status(request)
        except Refused as refusal:
            return _refused(transport, refusal)
        changed = apply_status_updates(transport.channel, updates)
    except Channel.DoesNotExist:
        return _error(404, "no such channel")
    except DatabaseError:
        logger.exception("delivery report on a %s channel not stored", kind)
        return _unavailable()
    return transport.status_response(changed)
