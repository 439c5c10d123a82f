"""Demo SMS channels and key contacts for MONUSCO, so that `play_gateway` and the benchmark
can send real, signed gateway requests to a freshly loaded demo.

Everything here is public on purpose: the channel UUIDs are fixed (uuid5 of the kind) and the
secrets below are printed by `manage.py demo`. The demo is refused in production. These
channels hold no real provider account: Twilio and Africa's Talking would refuse the demo
credentials, and the external gateway's `send_url` is a closed port on this machine, so an
SMS sent through them would fail. So nothing is sent through them: the console channel (which
writes to a file) carries the mission's notifications (`notifies`), and the Twilio, Africa's
Talking and external channels answer their senders through it (`replies_via`). Every SMS the
demo sends is then readable on the outbox page and in DATA_DIR/console-sms.log. The SMSSync
channel keeps its own replies: its phone fetches them (they wait, queued, on the outbox page).

Key contacts: two or three per North Kivu base town, numbered NK-<TOWN>-001…, each living in
the base's town, with a fixed DR Congo number (+243 97 000 1xxx), so an SMS from one of those
numbers is recognised as coming from a known source.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field

DEMO_MISSION = "MONUSCO"
CHANNEL_NAMESPACE = uuid.UUID("6f1c3c1e-7d1a-4f55-9a53-6b3e0c1d2a10")

# kind -> documented demo secrets (Channel.set_config values).
DEMO_EXTERNAL_SECRET = "whsec_" + base64.b64encode(b"kiungo-demo-external-secret").decode()
DEMO_SECRETS = {
    "twilio": {"account_sid": "AC" + "d" * 32, "auth_token": "demo-twilio-token"},
    "africastalking": {"username": "sandbox", "api_key": "demo-africastalking-key"},
    "external": {
        "secret": DEMO_EXTERNAL_SECRET,
        # Nothing listens there (port 9, "discard"): a demo send fails fast, connection refused.
        "send_url": "http://127.0.0.1:9/kiungo-demo-external/send",
    },
    "smssync": {"secret": "demo-smssync-secret"},
    "console": {},
}
# The secret that proves a request comes from the gateway (printed with the channel).
SIGNING_KEY = {
    "twilio": "auth_token",
    "africastalking": "",  # unsigned: the channel UUID in the URL is the credential
    "external": "secret",
    "smssync": "secret",
    "console": "",  # no authentication (refused in production)
}
# kind -> (channel name, the number villagers text: valid DR Congo mobile numbers).
DEMO_CHANNELS = {
    "twilio": ("MONUSCO alerts (Twilio)", "+243990000101"),
    "africastalking": ("MONUSCO alerts (Africa's Talking)", "+243990000102"),
    "external": ("MONUSCO alerts (external gateway)", "+243990000103"),
    "smssync": ("Beni base relay phone (SMSSync)", "+243990000104"),
    "console": ("Development console", "+243990000105"),
}
KINDS = tuple(DEMO_CHANNELS)


def channel_uuid(kind: str) -> uuid.UUID:
    """The fixed UUID of the demo channel of `kind`."""
    return uuid.uuid5(CHANNEL_NAMESPACE, f"kiungo-demo-channel:{kind}")


def receive_path(kind: str) -> str:
    return f"/sms/{kind}/{channel_uuid(kind)}/receive"


# North Kivu base towns (base code, pseudonym prefix, number of key contacts).
CONTACT_TOWNS = (
    ("beni", "BEN", 3),
    ("butembo", "BUT", 3),
    ("goma", "GOM", 3),
    ("oicha", "OIC", 2),
    ("mangina", "MAN", 2),
    ("sake", "SAK", 2),
    ("rutshuru", "RUT", 2),
    ("kirumba", "KIR", 2),
    ("kanyobagonga", "KAN", 2),
    ("kayna", "KAY", 2),
    ("lubero", "LUB", 2),
)
FIRST_NAMES = ("Amani", "Baraka", "Furaha", "Kahindo", "Masika", "Neema", "Sifa", "Zawadi")
LAST_NAMES = ("Kambale", "Kasereka", "Kavira", "Muhindo", "Mumbere", "Paluku", "Bahati")


@dataclass(frozen=True)
class DemoContact:
    code: str
    name: str
    phone: str
    base_code: str  # its home locality is this base's town
    language: str
    consents_to_feedback: bool


def _contacts() -> tuple[DemoContact, ...]:
    contacts = []
    for town_index, (base_code, prefix, count) in enumerate(CONTACT_TOWNS):
        for number in range(1, count + 1):
            code = f"NK-{prefix}-{number:03d}"
            rng = random.Random(f"kiungo-demo-contact:{code}")
            contacts.append(
                DemoContact(
                    code=code,
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    phone=f"+24397000{1000 + town_index * 10 + number}",
                    base_code=base_code,
                    language="fr" if number == 2 else "sw",
                    consents_to_feedback=number != 2,
                )
            )
    return tuple(contacts)


DEMO_CONTACTS = _contacts()


# The channel that sends the demo's notifications, and the channels that reply through it.
NOTIFIER = "console"
REPLIES_VIA_NOTIFIER = ("twilio", "africastalking", "external")


@dataclass
class Created:
    channels: list[str] = field(default_factory=list)  # kinds
    contacts: list[str] = field(default_factory=list)  # codes
    wired: list[str] = field(default_factory=list)  # "console notifies", "twilio > console"

    def __bool__(self) -> bool:
        return bool(self.channels or self.contacts or self.wired)


def missing() -> bool:
    """True when MONUSCO is loaded but a demo channel or contact is not there."""
    from kiungo.messaging.models import Channel
    from kiungo.missions.models import Mission
    from kiungo.network.models import Contact

    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    if mission is None:
        return False
    channels = Channel.objects.filter(uuid__in=[channel_uuid(kind) for kind in KINDS]).count()
    contacts = Contact.objects.filter(
        mission=mission, code__in=[contact.code for contact in DEMO_CONTACTS]
    ).count()
    return channels < len(KINDS) or contacts < len(DEMO_CONTACTS)


def ensure() -> Created:
    """Create whichever demo channels and contacts are missing, and route the demo's outgoing
    SMS through the console channel (idempotent, one transaction).

    Existing rows are otherwise left as they are (an administrator may have changed a secret):
    the console channel is made the notifier only while the mission has none, and a channel's
    `replies_via` is set only while it is empty.
    """
    from django.db import transaction

    from kiungo.forces.models import Base
    from kiungo.messaging.models import Channel
    from kiungo.missions.models import Mission
    from kiungo.network.models import Contact

    created = Created()
    with transaction.atomic():
        mission = Mission.objects.get(code=DEMO_MISSION)
        found = {
            channel.kind: channel
            for channel in Channel.objects.filter(uuid__in=[channel_uuid(kind) for kind in KINDS])
        }
        for kind, (name, number) in DEMO_CHANNELS.items():
            if kind in found:
                continue
            channel = Channel(
                mission=mission, kind=kind, name=name, phone_number=number, uuid=channel_uuid(kind)
            )
            channel.set_config(**DEMO_SECRETS[kind])
            channel.save()
            found[kind] = channel
            created.channels.append(kind)
        _wire(found, created)
        existing = set(Contact.objects.filter(mission=mission).values_list("code", flat=True))
        wanted = [contact for contact in DEMO_CONTACTS if contact.code not in existing]
        localities = {}
        if wanted:
            localities = {
                base.code: base.locality
                for base in Base.objects.filter(mission=mission).select_related("locality")
            }
        for contact in wanted:
            Contact.objects.create(
                mission=mission,
                code=contact.code,
                name=contact.name,
                phone=contact.phone,
                home_locality=localities.get(contact.base_code),
                language=contact.language,
                consents_to_feedback=contact.consents_to_feedback,
                consents_to_contact=True,
            )
            created.contacts.append(contact.code)
    return created


def _wire(found: dict, created: Created) -> None:
    from kiungo.messaging.models import Channel

    notifier = found[NOTIFIER]
    if (
        not notifier.notifies
        and not Channel.objects.filter(mission_id=notifier.mission_id, notifies=True).exists()
    ):
        notifier.notifies = True
        notifier.save(update_fields=["notifies"])
        created.wired.append(f"{NOTIFIER} notifies")
    for kind in REPLIES_VIA_NOTIFIER:
        channel = found[kind]
        if channel.replies_via_id is None and channel.mission_id == notifier.mission_id:
            channel.replies_via = notifier
            channel.save(update_fields=["replies_via"])
            created.wired.append(f"{kind} > {NOTIFIER}")


def format_created(created: Created) -> list[str]:
    lines = []
    if created.channels or created.contacts:
        lines.append(
            f"Demo SMS channels created: {len(created.channels)}; "
            f"key contacts created: {len(created.contacts)}."
        )
    if created.wired:
        lines.append(
            "Demo SMS routed through the console channel (nothing reaches a real provider): "
            + ", ".join(created.wired)
            + "."
        )
    return lines


def format_channels(base_url: str = "http://127.0.0.1:8000") -> list[str]:
    """The demo channels as a table: kind, receive URL, the secret that signs its requests."""
    from kiungo.messaging.models import Channel

    channels = {
        channel.kind: channel
        for channel in Channel.objects.filter(uuid__in=[channel_uuid(kind) for kind in KINDS])
    }
    header = ("Kind", "Receive URL (POST)", "Secret")
    rows = [header]
    for kind in KINDS:
        channel = channels.get(kind)
        if channel is None:
            continue
        key = SIGNING_KEY[kind]
        if key:
            secret = f"{key}={channel.config.get(key, '')}"
        elif kind == "africastalking":
            secret = "(unsigned: the URL is the credential)"
        else:
            secret = "(none; refused in production)"
        rows.append((kind, base_url.rstrip("/") + receive_path(kind), secret))
    if len(rows) == 1:
        return []
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines
