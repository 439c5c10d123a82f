"""Demo key contacts for every MONUSCO base with CLAs, their consent records and managing CLAs,
a few outreach activities, broadcast templates in French, English and Swahili, and one past
broadcast (delivered) to the contacts of Beni territory.

The contacts of channels.py (NK-BEN-001…, which the SMS demo relies on) keep their codes and
numbers; they get a category, a sex, a managing CLA and a consent record here. New contacts are
numbered after them under <province initials>-<first three letters of the base>, e.g. NK-BEN-004,
IT-BUN-001, with fixed DR Congo numbers (+243 97 001 xxxx). Deterministic (seeded), idempotent
(nothing is done once the demo templates exist), written with bulk inserts in one transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

DEMO_MISSION = "MONUSCO"
PER_BASE = 3
OUTREACH_BASES = 10  # the first bases (by code) each get two outreach activities
MARKER_TEMPLATE = "Security meeting"
TEMPLATES = {
    MARKER_TEMPLATE: {
        "fr": "MONUSCO: reunion de securite avec la communaute samedi 10h au bureau du chef.",
        "en": "MONUSCO: community security meeting on Saturday 10am at the chief's office.",
        "sw": "MONUSCO: mkutano wa usalama na jamii Jumamosi saa 4 asubuhi kwa chifu.",
    },
    "Alert reminder": {
        "fr": "MONUSCO: en cas de danger, envoyez ALERTE <lieu> <ce qui se passe>. STOP pour "
        "ne plus recevoir.",
        "en": "MONUSCO: in danger, send ALERT <place> <what happens>. STOP to opt out.",
        "sw": "MONUSCO: kwa hatari, tuma ALERTE <mahali> <kinachotokea>. STOP kuacha.",
    },
}
BROADCAST_BASE = "beni"
BROADCAST_TEMPLATE = "Alert reminder"
FIRST_NAMES = (
    "Amani",
    "Baraka",
    "Furaha",
    "Kahindo",
    "Masika",
    "Neema",
    "Sifa",
    "Zawadi",
    "Jeanne",
    "Pascal",
    "Esperance",
    "Dieudonne",
    "Aline",
    "Moise",
)
LAST_NAMES = (
    "Kambale",
    "Kasereka",
    "Kavira",
    "Muhindo",
    "Mumbere",
    "Paluku",
    "Bahati",
    "Lokwa",
    "Ngabo",
    "Dhetchuvi",
    "Unen",
    "Bisimwa",
)
MESSAGES = (
    "How to send an alert by SMS; the hotline number; what happens after an alert.",
    "The mission's mandate to protect civilians; the role of the CLA and of the committee.",
    "Preventing sexual violence: where survivors can get help.",
    "Early warning on market days and along the fields' roads.",
)


@dataclass
class Summary:
    contacts: int = 0
    consents: int = 0
    outreach: int = 0
    recipients: int = 0
    already: bool = False


def is_loaded(mission) -> bool:
    from kiungo.network.models import BroadcastTemplate

    return BroadcastTemplate.objects.filter(mission=mission, name=MARKER_TEMPLATE).exists()


def prefix_for(province_name: str, base_code: str) -> str:
    from kiungo.lib.text import fold

    words = fold(province_name).upper().split()
    initials = "".join(word[0] for word in words) if len(words) > 1 else words[0][:2]
    return f"{initials}-{fold(base_code).upper().replace(' ', '')[:3]}"


def ensure(seed: int) -> Summary:
    from django.db import transaction

    from kiungo.missions.models import Mission

    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    if mission is None:
        return Summary()
    if is_loaded(mission):
        return Summary(already=True)
    with transaction.atomic():
        return _Builder(seed, mission).run()


def format_summary(summary: Summary) -> list[str]:
    if summary.already or not summary.contacts:
        return []
    return [
        f"Demo key contacts: {summary.contacts} more, {summary.consents} consent records, "
        f"{summary.outreach} outreach activities, 2 broadcast templates, one past broadcast "
        f"({summary.recipients} recipients)."
    ]


class _Builder:
    def __init__(self, seed: int, mission):
        from django.utils import timezone

        self.rng = random.Random(f"kiungo-demo-contacts:{seed}")
        self.mission = mission
        self.now = timezone.now()
        self.summary = Summary()

    def run(self) -> Summary:
        from kiungo.people.models import CLAProfile

        clas: dict[int, list] = {}
        profiles = CLAProfile.objects.filter(base__mission=self.mission, user__is_active=True)
        for profile in profiles.select_related("base__locality", "user").order_by("staff_id"):
            clas.setdefault(profile.base_id, []).append(profile)
        bases = sorted((plist[0].base for plist in clas.values()), key=lambda base: base.code)
        contacts = self._contacts(bases, clas)
        self._consents(contacts, clas)
        self._outreach(bases[:OUTREACH_BASES], clas)
        templates = self._templates()
        self._broadcast(templates[BROADCAST_TEMPLATE], bases)
        return self.summary

    def _contacts(self, bases, clas) -> list:
        from kiungo.geography.models import Area
        from kiungo.lib.crypto import keyed_hash
        from kiungo.network.models import Contact

        existing = list(Contact.objects.filter(mission=self.mission))
        codes = {contact.code for contact in existing}
        provinces = dict(
            Area.objects.filter(mission=self.mission, level=1).values_list("pcode", "name")
        )
        languages = [code for code in ("sw", "fr", "ln") if code in self.mission.languages]
        new, number = [], 0
        by_town = {}
        for base in bases:
            town = base.locality
            if town is None:
                continue
            by_town[town.pk] = base
            nearby = list(
                Area.objects.filter(
                    mission=self.mission, level=5, pcode__startswith=town.pcode[:6]
                ).order_by("pcode")[:12]
            ) or [town]
            prefix = prefix_for(provinces.get(town.pcode[:4], "CD"), base.code)
            taken = [int(c.rsplit("-", 1)[1]) for c in codes if c.startswith(prefix + "-")]
            for index in range(PER_BASE):
                number += 1
                phone = f"+24397001{number:04d}"
                code = f"{prefix}-{max(taken, default=0) + index + 1:03d}"
                consents = self.rng.random() < 0.85
                new.append(
                    Contact(
                        mission=self.mission,
                        code=code,
                        name=f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}",
                        phone=phone,
                        phone_hash=keyed_hash(phone),
                        home_locality=town if index == 0 else self.rng.choice(nearby),
                        language=(language := self.rng.choice(languages)),
                        other_languages=[
                            code
                            for code in languages
                            if code != language and self.rng.random() < 0.4
                        ],
                        category=self.rng.choice(Contact.Category.values),
                        sex=self.rng.choice(["f", "m"]),
                        managed_by=self.rng.choice(clas[base.pk]),
                        consents_to_contact=consents,
                        consents_to_feedback=consents and self.rng.random() < 0.8,
                        created_at=self.now - timedelta(days=self.rng.randint(40, 400)),
                    )
                )
        Contact.objects.bulk_create(new)
        # The SMS demo's contacts (channels.py) get a profile and a managing CLA of their base.
        for contact in existing:
            base = by_town.get(contact.home_locality_id)
            if base is None:
                continue
            contact.category = self.rng.choice(Contact.Category.values)
            contact.sex = self.rng.choice(["f", "m"])
            contact.managed_by = contact.managed_by or self.rng.choice(clas[base.pk])
        Contact.objects.bulk_update(existing, ["category", "sex", "managed_by"])
        self.summary.contacts = len(new)
        return list(Contact.objects.filter(mission=self.mission).select_related("managed_by"))

    def _consents(self, contacts, clas) -> None:
        from kiungo.network.models import ConsentRecord

        recorded = set(
            ConsentRecord.objects.filter(contact__mission=self.mission).values_list(
                "contact_id", flat=True
            )
        )
        records = [
            ConsentRecord(
                contact=contact,
                consents_to_contact=contact.consents_to_contact,
                consents_to_feedback=contact.consents_to_feedback,
                method=self.rng.choice(
                    [ConsentRecord.Method.IN_PERSON] * 3 + [ConsentRecord.Method.PHONE]
                ),
                recorded_at=self.now - timedelta(days=self.rng.randint(31, 90)),
                recorded_by=contact.managed_by.user if contact.managed_by else None,
            )
            for contact in contacts
            if contact.pk not in recorded
        ]
        ConsentRecord.objects.bulk_create(records)
        self.summary.consents = len(records)

    def _outreach(self, bases, clas) -> None:
        from kiungo.network.models import OutreachActivity

        activities = []
        for base in bases:
            for _ in range(2):
                cla = self.rng.choice(clas[base.pk])
                activities.append(
                    OutreachActivity(
                        mission=self.mission,
                        kind=self.rng.choice(OutreachActivity.Kind.values),
                        held_on=(self.now - timedelta(days=self.rng.randint(2, 60))).date(),
                        area=base.locality,
                        cla=cla,
                        women=self.rng.randint(5, 60),
                        men=self.rng.randint(5, 60),
                        messages=self.rng.choice(MESSAGES),
                        languages=self.rng.sample(["fr", "sw", "ln"], 2),
                        created_by=cla.user,
                    )
                )
        OutreachActivity.objects.bulk_create(activities)
        self.summary.outreach = len(activities)

    def _templates(self) -> dict:
        from kiungo.network.models import BroadcastTemplate

        return {
            name: BroadcastTemplate.objects.create(mission=self.mission, name=name, texts=texts)
            for name, texts in TEMPLATES.items()
        }

    def _broadcast(self, template, bases) -> None:
        """A broadcast sent five days ago to Beni territory, every SMS delivered."""
        from kiungo.lib.crypto import keyed_hash
        from kiungo.messaging.models import OutboundMessage, Purpose
        from kiungo.messaging.outbox import notification_channel, to_gsm7
        from kiungo.network.broadcasts import recipients
        from kiungo.network.models import Broadcast, BroadcastRecipient
        from kiungo.people.models import User

        base = next((base for base in bases if base.code == BROADCAST_BASE), None)
        channel = notification_channel(self.mission.pk)
        sender = User.objects.filter(username="manager").first()
        if base is None or channel is None or sender is None:
            return
        from kiungo.geography.models import Area

        territory = Area.objects.get(mission=self.mission, pcode=base.locality.pcode[:6])
        languages = ["fr", "sw"]
        sent_at = self.now - timedelta(days=5)
        broadcast = Broadcast.objects.create(
            mission=self.mission,
            template=template,
            area=territory,
            languages=languages,
            state=Broadcast.State.SENT,
            created_by=sender,
            sent_at=sent_at,
        )
        chosen = recipients(template, territory, languages)
        Broadcast.objects.filter(pk=broadcast.pk).update(
            created_at=sent_at - timedelta(minutes=3), expected=len(chosen)
        )
        rows = BroadcastRecipient.objects.bulk_create(
            BroadcastRecipient(broadcast=broadcast, contact=contact, language=language)
            for contact, language in chosen
        )
        messages = OutboundMessage.objects.bulk_create(
            OutboundMessage(
                channel=channel,
                to=contact.phone,
                to_hash=keyed_hash(contact.phone),
                text=to_gsm7(template.texts[language]),
                state=OutboundMessage.State.DELIVERED,
                attempts=1,
                next_attempt_at=sent_at,
                sent_at=sent_at,
                purpose=Purpose.BROADCAST,
                recipient_label=f"contact {contact.code}",
            )
            for contact, language in chosen
        )
        links = BroadcastRecipient.messages.through
        links.objects.bulk_create(
            links(broadcastrecipient_id=row.pk, outboundmessage_id=message.pk)
            for row, message in zip(rows, messages, strict=True)
        )
        self.summary.recipients = len(chosen)
