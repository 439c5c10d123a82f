"""SMS commands: short codes that staff and contacts send instead of an alert.

A duty phone answers an incident ("OK K7HQ3M2"), a CLA sends a daily report ("RAS") or checks
in, a contact opts out ("STOP"). Every inbound SMS is first offered to the registered command
handlers, in registration order; the first that recognises it takes it, and anything no handler
recognises is a community alert. A handler registers once, at import time of a module its app's
`ready()` imports:

    from kiungo.messaging import commands

    class DailyReportBySMS:
        def recognise(self, mission, sender, text): ...   # read-only: a parsed value or None
        def apply(self, channel, message, sender, parsed): ...  # writes, inside the transaction

    commands.register(DailyReportBySMS())

`recognise` runs on every SMS, outside the write transaction: it must be cheap (look at the
words first, read the database only when they match) and must not write. `apply` runs inside the
transaction that stores the message, in a savepoint: if it raises anything but a database
refusal, the message is kept for a person (needs review). It answers the sender through the
outbox when it should, and marks the message REFUSED with a reason when it refuses the command.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from kiungo.messaging.models import Channel, InboundMessage
from kiungo.missions.models import Mission


class CommandHandler(Protocol):
    def recognise(self, mission: Mission, sender: str, text: str) -> Any | None: ...

    def apply(
        self, channel: Channel, message: InboundMessage, sender: str, parsed: Any
    ) -> None: ...


@dataclass(frozen=True)
class Command:
    handler: CommandHandler
    parsed: Any

    def apply(self, channel: Channel, message: InboundMessage, sender: str) -> None:
        self.handler.apply(channel, message, sender, self.parsed)


_handlers: list[CommandHandler] = []


def register(handler: CommandHandler) -> CommandHandler:
    """Offer every inbound SMS to `handler` (once, however often it is registered)."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def unregister(handler: CommandHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def recognise(mission: Mission, sender: str, text: str) -> Command | None:
    """The command `text` from `sender` carries, or None for a community alert."""
    for handler in _handlers:
        parsed = handler.recognise(mission, sender, text)
        if parsed is not None:
            return Command(handler, parsed)
    return None
