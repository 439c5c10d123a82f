"""The demo's Community Alert Networks: MONUSCO's North Kivu bases with key contacts.

For each base town of the demo key contacts (kiungo/demo/channels.py) whose base has CLAs:
a community radio station, hotline cards handed out (the Twilio demo channel's number, the one
villagers text), a phone issued to each base's first contact (Butembo's second contact's phone
was stolen: a security event), airtime budgets for last month and this one with top-ups within
them, and a network test ten days ago answered by the contacts heard from since. MONUSCO's
silence threshold is 14 days: the contacts whose last alert of the demo history (history.py sets
when each was last heard from) is older are silent, flagged to their base's CLA, and their
towns not covered when nobody else there was heard from; every other locality of the areas of
responsibility has no contact at all: not covered. As days pass after loading, more contacts
fall silent and the worker flags them (an e-mail to the CLA on the outbox page).

Rows are written directly (bulk inserts), as history.py does: nothing is queued in the outbox,
the events are in the past. Deterministic (a seeded `random.Random`) and idempotent: nothing is
done once a MONUSCO radio station exists. Contacts' `last_heard_at` is set only where empty.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

DEMO_MISSION = "MONUSCO"
SILENCE_DAYS = 14
STOLEN_PHONE = "NK-BUT-002"
OPERATORS = ("Vodacom", "Airtel", "Orange")
HOTLINE_KIND = "twilio"  # the number printed on the cards


@dataclass
class Summary:
    already: bool = False
    bases: int = 0
    radios: int = 0
    phones: int = 0
    top_ups: int = 0
    tests: int = 0
    silent: int = 0


def imei(rng: random.Random) -> str:
    """A made-up IMEI with a valid Luhn check digit."""
    body = "35" + "".join(str(rng.randrange(10)) for _ in range(12))
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:  # doubled: these become the odd positions once the digit is added
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return body + str((10 - total % 10) % 10)


def is_loaded() -> bool:
    from kiungo.alertnet.models import RadioStation

    return RadioStation.objects.filter(base__mission__code=DEMO_MISSION).exists()


def ensure(seed: int, now: datetime | None = None) -> Summary:
    """Create the demo networks unless they are there (one transaction)."""
    from django.db import transaction
    from django.utils import timezone

    if is_loaded():
        return Summary(already=True)
    with transaction.atomic():
        return _build(random.Random(f"kiungo-demo-alertnet:{seed}"), now or timezone.now())


def _build(rng: random.Random, now: datetime) -> Summary:
    from zoneinfo import ZoneInfo

    from kiungo.alertnet import models as net
    from kiungo.demo.channels import CONTACT_TOWNS, channel_uuid
    from kiungo.forces.models import Base
    from kiungo.lib.crypto import keyed_hash
    from kiungo.messaging.models import Channel
    from kiungo.missions.models import Mission
    from kiungo.network.models import Contact
    from kiungo.people.models import CLAProfile

    summary = Summary()
    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    hotline = Channel.objects.filter(uuid=channel_uuid(HOTLINE_KIND)).first()
    if mission is None or hotline is None:
        return summary
    policy, _created = net.NetworkPolicy.objects.get_or_create(
        mission=mission, defaults={"silence_days": SILENCE_DAYS}
    )
    today = timezone_date(now, ZoneInfo(mission.time_zone))
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    bases = {
        base.code: base
        for base in Base.objects.filter(
            mission=mission, code__in=[town for town, _prefix, _count in CONTACT_TOWNS]
        ).select_related("locality")
    }
    clas = {}
    for profile in CLAProfile.objects.filter(base__in=bases.values(), user__is_active=True):
        clas.setdefault(profile.base_id, profile)  # by staff id: the first CLA of each base
    contacts_by_town: dict[str, list] = {}
    for town, prefix, _count in CONTACT_TOWNS:
        contacts_by_town[town] = list(
            Contact.objects.filter(mission=mission, code__startswith=f"NK-{prefix}-").order_by(
                "code"
            )
        )

    radios, distributions, phones, events, budgets, top_ups = [], [], [], [], [], []
    tests, notices, heard = [], [], []
    for town, prefix, _count in CONTACT_TOWNS:
        base, contacts = bases.get(town), contacts_by_town[town]
        cla = clas.get(base.pk) if base else None
        if base is None or cla is None or not contacts:
            continue
        summary.bases += 1
        # A contact the history never heard from: heard in the last three weeks.
        for contact in contacts:
            if contact.last_heard_at is None:
                contact.last_heard_at = now - timedelta(minutes=rng.randint(0, 21 * 24 * 60))
                heard.append(contact)
        radios.append(
            net.RadioStation(
                base=base,
                name=f"Radio communautaire de {base.locality.name}",
                call_sign=f"RC-{prefix}",
                frequency=f"{rng.randint(880, 1079) / 10:.1f} FM",
                schedule="Tous les jours 6:00-22:00",
                locality=base.locality,
                contact=contacts[0],
                contact_person="Directeur de la station",
            )
        )
        for weeks_ago, cards in ((7, rng.randint(40, 120)), (2, rng.randint(20, 60))):
            distributions.append(
                net.HotlineDistribution(
                    base=base,
                    channel=hotline,
                    number=hotline.phone_number,
                    locality=base.locality,
                    distributed_on=today - timedelta(weeks=weeks_ago, days=rng.randint(0, 4)),
                    cards=cards,
                    distributed_by=cla.user,
                    note="Jour de marché" if weeks_ago == 7 else "Réunion du comité de protection",
                )
            )
        for contact in contacts[:2]:
            stolen = contact.code == STOLEN_PHONE
            if contact is contacts[1] and not stolen:
                continue
            issued_on = today - timedelta(days=rng.randint(90, 200))
            phone = net.IssuedPhone(
                base=base,
                contact=contact,
                model=rng.choice(("Nokia 105", "Itel it2160", "Tecno T301")),
                imei=imei(rng),
                issued_on=issued_on,
                issued_by=cla.user,
            )
            phone.imei_tail = phone.imei[-4:]  # bulk_create skips save()
            phone.imei_hash = keyed_hash(phone.imei)
            if stolen:
                phone.status = net.IssuedPhone.Status.STOLEN
                phone.ended_on = today - timedelta(days=12)
                events.append(
                    net.SecurityEvent(
                        contact=contact,
                        base=base,
                        kind=net.SecurityEvent.Kind.PHONE_STOLEN,
                        occurred_on=phone.ended_on,
                        circumstances=(
                            "Téléphone pris par des hommes armés à une barrière sur la route "
                            "de Butembo à Musienene."
                        ),
                        phone=phone,
                        reported_by=cla.user,
                        reported_at=now - timedelta(days=11),
                    )
                )
            phones.append(phone)
        for month in (last_month, this_month):
            amount = Decimal(rng.choice((40, 50, 60, 80)))
            budgets.append(net.AirtimeBudget(base=base, month=month, amount=amount, currency="USD"))
            spent = Decimal(0)
            last_day = today if month == this_month else this_month - timedelta(days=1)
            days = (last_day - month).days
            for contact in contacts:
                top_up = Decimal(rng.choice((5, 5, 10)))
                if spent + top_up > amount:
                    break
                spent += top_up
                top_ups.append(
                    net.AirtimeTopUp(
                        base=base,
                        contact=contact,
                        amount=top_up,
                        currency="USD",
                        operator=rng.choice(OPERATORS),
                        topped_up_on=month + timedelta(days=rng.randint(0, days)),
                        recorded_by=cla.user,
                        recorded_at=now,
                    )
                )
        tests.append((base, cla, contacts))

    Contact.objects.bulk_update(heard, ["last_heard_at"])
    net.RadioStation.objects.bulk_create(radios)
    net.HotlineDistribution.objects.bulk_create(distributions)
    net.IssuedPhone.objects.bulk_create(phones)
    net.SecurityEvent.objects.bulk_create(events)
    net.AirtimeBudget.objects.bulk_create(budgets)
    net.AirtimeTopUp.objects.bulk_create(top_ups)

    # A network test ten days ago: those heard from since answered it within a few hours.
    started = now - timedelta(days=10)
    recipients = []
    for base, cla, contacts in tests:
        test = net.NetworkTest.objects.create(
            base=base,
            started_at=started,
            closes_at=started + policy.answer_window,
            started_by=cla.user,
        )
        for contact in contacts:
            reachable = contact.active and contact.opted_out_at is None
            if not (reachable and contact.consents_to_contact):
                continue
            answered = contact.last_heard_at and contact.last_heard_at >= started
            replied = started + timedelta(hours=rng.randint(1, 30))
            answered_at = min(replied, contact.last_heard_at) if answered else None
            recipients.append(
                net.NetworkTestRecipient(
                    test=test,
                    contact=contact,
                    locality=contact.home_locality or base.locality,
                    answered_at=answered_at,
                )
            )
        for contact in contacts:
            if contact.active and contact.last_heard_at < now - policy.silence:
                notices.append(
                    net.SilenceNotice(
                        contact=contact,
                        last_heard_at=contact.last_heard_at,
                        cla=cla,
                        noticed_at=now,
                    )
                )
    net.NetworkTestRecipient.objects.bulk_create(recipients)
    net.SilenceNotice.objects.bulk_create(notices)
    summary.radios, summary.phones, summary.top_ups = len(radios), len(phones), len(top_ups)
    summary.tests, summary.silent = len(tests), len(notices)
    return summary


def timezone_date(now: datetime, zone) -> date:
    return now.astimezone(zone).date()


def format_summary(summary: Summary) -> list[str]:
    if summary.already:
        return []
    if not summary.bases:
        return ["Demo alert networks not created: no North Kivu base with CLAs and contacts."]
    return [
        f"Demo alert networks: {summary.bases} MONUSCO bases, {summary.radios} radio stations, "
        f"{summary.phones} phones issued (one stolen), {summary.top_ups} airtime top-ups, "
        f"{summary.tests} network tests, {summary.silent} silent contacts flagged."
    ]
