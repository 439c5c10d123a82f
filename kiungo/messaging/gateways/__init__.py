"""SMS gateways: one package per kind, each with its transport; this registry maps the kinds.

`transport_for(channel).send(outbound)` returns the gateway's message id or raises
TransportError; a transport with `pulls` set (SMSSync) returns "" and the message stays QUEUED.
"""

from kiungo.messaging.gateways.africastalking.transport import AfricasTalkingTransport
from kiungo.messaging.gateways.base import Refused, Transport, TransportError
from kiungo.messaging.gateways.console.transport import ConsoleTransport
from kiungo.messaging.gateways.external.transport import ExternalTransport
from kiungo.messaging.gateways.smssync.transport import SMSSyncTransport
from kiungo.messaging.gateways.twilio.transport import TwilioTransport
from kiungo.messaging.models import Channel

TRANSPORTS: dict[str, type[Transport]] = {
    Channel.Kind.TWILIO: TwilioTransport,
    Channel.Kind.AFRICASTALKING: AfricasTalkingTransport,
    Channel.Kind.EXTERNAL: ExternalTransport,
    Channel.Kind.SMSSYNC: SMSSyncTransport,
    Channel.Kind.CONSOLE: ConsoleTransport,
}


def transport_for(channel: Channel) -> Transport:
    return TRANSPORTS[channel.kind](channel)


__all__ = ["TRANSPORTS", "Refused", "Transport", "TransportError", "transport_for"]
