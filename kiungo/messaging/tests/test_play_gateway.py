"""`manage.py play_gateway` against a live server: signed like the provider, stored once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kiungo.alerts.intake import process_received
from kiungo.alerts.models import Alert
from kiungo.demo import channels
from kiungo.messaging.management.commands import play_gateway
from kiungo.messaging.models import Channel, InboundMessage

CONTACT = channels.DEMO_CONTACTS[0]  # NK-BEN-001, in Beni


@pytest.fixture
def demo_channels(transactional_db):
    from kiungo.lib.testing import build_world
    from kiungo.network.models import Contact

    world = build_world()
    Contact.objects.create(
        mission=world.mission, code=CONTACT.code, phone=CONTACT.phone, home_locality=world.beni
    )
    made = {}
    for kind, (name, number) in channels.DEMO_CHANNELS.items():
        channel = Channel(
            mission=world.mission,
            kind=kind,
            name=name,
            phone_number=number,
            uuid=channels.channel_uuid(kind),
        )
        channel.set_config(**channels.DEMO_SECRETS[kind])
        channel.save()
        made[kind] = channel
    return world, made


def play(live_server, *args):
    out = StringIO()
    call_command("play_gateway", "--url", live_server.url, *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["twilio", "external", "africastalking", "smssync", "console"])
def test_a_played_sms_becomes_one_alert_and_a_replay_adds_nothing(live_server, demo_channels, kind):
    world, _ = demo_channels
    output = play(live_server, "--kind", kind, "--id", f"{kind}-msg-1")
    assert "HTTP 200" in output
    message = InboundMessage.objects.get(external_id=f"{kind}-msg-1")
    assert message.channel.kind == kind and message.sender == CONTACT.phone
    assert process_received() == 1  # what `manage.py worker` does next
    alert = Alert.objects.get(inbound=message)
    assert (alert.area, alert.threat, alert.contact.code) == (world.beni, "attack", CONTACT.code)

    again = play(live_server, "--kind", kind, "--id", f"{kind}-msg-1")
    assert "HTTP 200" in again
    assert InboundMessage.objects.count() == 1 and Alert.objects.count() == 1


def test_options_reach_the_alert(live_server, demo_channels):
    play(
        live_server,
        "--kind",
        "external",
        "--from",
        "+243991112233",
        "--text",
        "ALERTE Butembo enlèvement deux enfants",
    )
    process_received()
    alert = Alert.objects.get()
    assert alert.contact is None and alert.threat == "abduction"
    assert alert.area.name == "Butembo" and alert.inbound.sender == "+243991112233"


def test_a_forged_signature_is_refused_and_the_command_fails(
    live_server, demo_channels, monkeypatch
):
    monkeypatch.setattr(play_gateway, "sign_twilio", lambda *args: "Zm9yZ2Vk")
    out = StringIO()
    with pytest.raises(CommandError, match="HTTP 403"):
        call_command("play_gateway", "--url", live_server.url, "--kind", "twilio", stdout=out)
    assert "invalid X-Twilio-Signature" in out.getvalue()  # the answer's body is shown
    assert not InboundMessage.objects.exists()


def test_an_inactive_channel_answers_404(live_server, demo_channels):
    Channel.objects.filter(kind="console").update(active=False)
    with pytest.raises(CommandError, match="HTTP 404"):
        play(live_server, "--kind", "console")


def test_it_only_talks_to_this_machine_unless_told(db):
    with pytest.raises(CommandError, match="not this machine"):
        call_command("play_gateway", "--url", "http://192.0.2.1:8000", stdout=StringIO())


def test_a_missing_channel_says_how_to_create_it(db):
    with pytest.raises(CommandError, match=r"manage\.py demo"):
        call_command("play_gateway", stdout=StringIO())
