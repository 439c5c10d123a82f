"""Demo SMS channels and key contacts: fixed, documented, idempotent, recognised on intake."""

import base64
from io import StringIO

from django.core.management import call_command
from django.urls import reverse

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.demo import channels
from kiungo.forces.models import DutyPhone
from kiungo.lib.phones import to_e164
from kiungo.messaging.models import Channel
from kiungo.messaging.outbox import notification_channel, reply_channel
from kiungo.network.models import Contact


def test_one_channel_of_each_kind_with_a_fixed_uuid_and_the_documented_secrets(monusco):
    found = {channel.kind: channel for channel in Channel.objects.filter(mission=monusco)}
    assert sorted(found) == sorted(channels.KINDS)
    for kind, channel in found.items():
        assert channel.uuid == channels.channel_uuid(kind) and channel.active
        assert channel.config == channels.DEMO_SECRETS[kind]
        assert to_e164(channel.phone_number, "CD") == channel.phone_number.strip()
        assert channel.phone_number.startswith("+243")
    assert found["twilio"].config["auth_token"] == "demo-twilio-token"
    assert found["smssync"].config["secret"] == "demo-smssync-secret"
    secret = found["external"].config["secret"]
    assert base64.b64decode(secret.removeprefix("whsec_")) == b"kiungo-demo-external-secret"
    # The UUIDs never change between databases: scripts and docs may quote them.
    assert str(channels.channel_uuid("twilio")) == "4186b2be-ecb2-552f-b4aa-d78bb06510e6"


def test_the_receive_paths_are_the_real_routes(monusco):
    for kind in channels.KINDS:
        path = reverse("messaging:receive", args=[kind, channels.channel_uuid(kind)])
        assert path == channels.receive_path(kind)


def test_key_contacts_live_in_north_kivu_base_towns(monusco):
    codes = [contact.code for contact in channels.DEMO_CONTACTS]
    contacts = list(
        Contact.objects.filter(mission=monusco, code__in=codes).select_related("home_locality")
    )  # demo/contacts.py adds more contacts; these are the SMS demo's
    assert len(contacts) == len(channels.DEMO_CONTACTS) >= 22
    per_town = {}
    for contact in contacts:
        per_town.setdefault(contact.code[:6], []).append(contact)
        assert contact.home_locality is not None and contact.home_locality.level == 5
        assert to_e164(contact.phone) == contact.phone
    assert all(2 <= len(group) <= 3 for group in per_town.values())
    homes = {contact.code: contact.home_locality.name for contact in contacts}
    assert homes["NK-BEN-001"] == "Beni" and homes["NK-GOM-001"] == "Goma"
    assert any(contact.consents_to_feedback for contact in contacts)
    assert not all(contact.consents_to_feedback for contact in contacts)
    # No contact shares a number with a unit's duty phone (reply codes come from those).
    numbers = {contact.phone for contact in contacts}
    assert not numbers & set(DutyPhone.objects.values_list("number", flat=True))
    assert not numbers & {phone for _name, phone in channels.DEMO_CHANNELS.values()}


def test_the_output_lists_each_channel_with_its_url_and_secret(demo_output):
    logins = demo_output.index("Demo logins:")
    listed = demo_output.index("Demo SMS channels (see manage.py play_gateway)")
    assert logins < listed
    for kind in channels.KINDS:
        assert "http://127.0.0.1:8000" + channels.receive_path(kind) in demo_output
    assert "auth_token=demo-twilio-token" in demo_output
    assert "secret=" + channels.DEMO_EXTERNAL_SECRET in demo_output
    assert "secret=demo-smssync-secret" in demo_output


def test_a_second_run_creates_nothing_and_missing_ones_come_back(monusco):
    out = StringIO()
    call_command("demo", stdout=out)
    assert "already loaded; nothing changed" in out.getvalue()
    Channel.objects.filter(kind="external").delete()
    Alert.objects.filter(contact__code="NK-BEN-002").delete()  # the history's (PROTECT)
    Contact.objects.filter(code="NK-BEN-002").delete()
    twilio = Channel.objects.get(kind="twilio")
    twilio.set_config(account_sid="AC1", auth_token="changed-by-an-admin")
    twilio.save()
    out = StringIO()
    call_command("demo", stdout=out)
    assert "added the missing demo SMS channels (1) and key contacts (1)" in out.getvalue()
    assert Channel.objects.filter(mission=monusco).count() == len(channels.KINDS)
    codes = [contact.code for contact in channels.DEMO_CONTACTS]
    assert Contact.objects.filter(mission=monusco, code__in=codes).count() == len(codes)
    twilio.refresh_from_db()
    assert twilio.config["auth_token"] == "changed-by-an-admin"  # existing rows kept
    external = Channel.objects.get(kind="external")  # the new one is routed like the first
    assert external.replies_via == Channel.objects.get(kind="console")


def test_nothing_the_demo_sends_goes_to_a_provider(monusco):
    """The console channel notifies; Twilio, Africa's Talking and external reply through it."""
    found = {channel.kind: channel for channel in Channel.objects.filter(mission=monusco)}
    console = found["console"]
    assert console.notifies
    assert [c.kind for c in Channel.objects.filter(mission=monusco, notifies=True)] == ["console"]
    assert notification_channel(monusco.pk) == console
    for kind in channels.REPLIES_VIA_NOTIFIER:
        assert found[kind].replies_via == console
        assert reply_channel(found[kind]) == console
    # SMSSync's phone fetches its own replies; the console answers itself.
    assert reply_channel(found["smssync"]) == found["smssync"]
    assert reply_channel(console) == console


def test_the_routing_is_added_to_an_older_demo_and_an_admins_choice_is_kept(monusco):
    Channel.objects.filter(mission=monusco).update(notifies=False, replies_via=None)
    Channel.objects.filter(kind="twilio").update(notifies=True)  # an admin's choice
    out = StringIO()
    call_command("demo", stdout=out)
    assert "routed through the console channel" in out.getvalue()
    found = {channel.kind: channel for channel in Channel.objects.filter(mission=monusco)}
    assert found["twilio"].notifies and not found["console"].notifies
    assert found["africastalking"].replies_via == found["console"]
    assert not channels.ensure()  # a second time: nothing to do


def test_an_sms_from_a_demo_contact_is_recognised_and_placed(monusco):
    channel = Channel.objects.get(uuid=channels.channel_uuid("twilio"))
    contact = channels.DEMO_CONTACTS[0]
    national = "0" + contact.phone.removeprefix("+243")  # as a local phone may send it
    sms = IncomingSMS(sender=national, text="ALERTE Beni attaque hommes armés", external_id="x1")
    message, created = receive_sms(channel, sms)
    alert = Alert.objects.get(inbound=message)
    assert created and alert.contact.code == contact.code
    assert alert.area.name == "Beni" and alert.threat == "attack"
