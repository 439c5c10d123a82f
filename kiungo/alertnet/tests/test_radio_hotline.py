"""Radio stations and hotline cards of a base: recorded from its network page, bad input
refused with nothing saved."""

import pytest

from kiungo.alertnet.models import HotlineDistribution, RadioStation
from kiungo.alertnet.tests.conftest import contact

pytestmark = pytest.mark.django_db


def test_a_radio_station_is_added_and_shown_with_its_contact_by_pseudonym(client, world):
    who = contact(world, "NK-BEN-001")
    client.force_login(world.users["cla"])
    url = f"/network/bases/{world.base_beni.pk}/radios/new/"
    data = {
        "name": "Radio Moto Beni",
        "call_sign": "RMB",
        "frequency": "98.5 FM",
        "schedule": "daily 6:00-22:00",
        "locality": world.beni.pk,
        "contact": who.pk,
        "contact_person": "station manager",
    }
    assert client.post(url, data).status_code == 302
    page = client.get(f"/network/bases/{world.base_beni.pk}/").content.decode()
    assert "Radio Moto Beni" in page and "98.5 FM" in page and "NK-BEN-001" in page
    assert "Name of NK-BEN-001" not in page
    # The same name again, a locality of another base, no frequency: refused.
    assert client.post(url, {**data, "name": "radio moto beni"}).status_code == 400
    assert (
        client.post(url, {**data, "name": "Other", "locality": world.bunia.pk}).status_code == 400
    )
    assert client.post(url, {**data, "name": "Other", "frequency": ""}).status_code == 400
    assert RadioStation.objects.count() == 1


def test_hotline_cards(client, world, channel):
    client.force_login(world.users["manager"])
    url = f"/network/bases/{world.base_beni.pk}/hotline/new/"
    data = {"channel": channel.pk, "locality": world.beni.pk, "distributed_on": "2026-01-10"}
    assert client.post(url, {**data, "cards": "0"}).status_code == 400
    assert (
        client.post(url, {**data, "cards": "50", "distributed_on": "2999-01-01"}).status_code == 400
    )
    assert not HotlineDistribution.objects.exists()
    assert client.post(url, {**data, "cards": "50", "note": "market day"}).status_code == 302
    distribution = HotlineDistribution.objects.get()
    assert distribution.distributed_by == world.users["manager"] and distribution.cards == 50
    page = client.get(f"/network/bases/{world.base_beni.pk}/").content.decode()
    assert "+243990000105" in page and "market day" in page


def test_a_hotline_number_of_another_mission_is_refused(client, world):
    from kiungo.messaging.models import Channel

    foreign = Channel.objects.create(
        mission=world.other_mission, kind="console", name="Juba", phone_number="+211920000000"
    )
    client.force_login(world.users["cla"])
    url = f"/network/bases/{world.base_beni.pk}/hotline/new/"
    data = {"channel": foreign.pk, "locality": world.beni.pk, "distributed_on": "2026-01-10"}
    assert client.post(url, {**data, "cards": "5"}).status_code == 400
    assert not HotlineDistribution.objects.exists()
