"""The demo's response layer: a live escalation from `make run`, 30 days of history, no
message to a real provider. The demo is loaded once for the module (tests roll back to it)."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from kiungo.alerts import replies
from kiungo.alerts.escalation import escalate_due
from kiungo.alerts.models import Alert, AlertEvent, Incident
from kiungo.alerts.understanding import interpret
from kiungo.demo import channels, duty, history, live
from kiungo.demo.tests.test_demo import wipe
from kiungo.forces.models import DutyPhone, Unit
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import (
    Channel,
    InboundMessage,
    OutboundEmail,
    OutboundMessage,
    Purpose,
)
from kiungo.missions.models import Mission
from kiungo.people.models import User

COUNTED = [Incident, Alert, AlertEvent, InboundMessage, OutboundMessage, OutboundEmail]
COUNTED += [DutyPhone, User, Channel]


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        started = timezone.now()
        out = StringIO()
        call_command("demo", stdout=out)
        yield {"started": started, "finished": timezone.now(), "output": out.getvalue()}
        transaction.set_rollback(True)


@pytest.fixture
def demo(loaded, db):
    return {**loaded, "mission": Mission.objects.get(code="MONUSCO")}


def live_incidents(mission):
    return Incident.objects.filter(
        mission=mission,
        status=Incident.Status.OPEN,
        acknowledged_at__isnull=True,
        escalations=0,
        next_escalation_at__isnull=False,
    )


def history_incidents():
    return Incident.objects.filter(reference__in=history.references("K", history.INCIDENTS[1]))


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def console():
    return Channel.objects.get(uuid=channels.channel_uuid("console"))


# The live escalation -------------------------------------------------------------------------


def test_one_critical_incident_is_about_to_escalate(demo):
    pending = list(live_incidents(demo["mission"]))
    assert len(pending) == 1
    incident = pending[0]
    assert incident.level.code == "critical" and incident.threat == "attack"
    assert incident.area.name == "Hyosha"  # Oicha, as GeoNames lists it
    due = incident.acknowledge_due_at
    assert (
        demo["started"] + timedelta(seconds=60) <= due <= demo["finished"] + timedelta(seconds=90)
    )
    assert incident.first_reported_at == due - incident.level.acknowledge_within
    assert incident.next_escalation_at == due  # the battalion step: no delay
    assert f"Live escalation added: incident {incident.reference}" in demo["output"]

    # Through the real intake: an SMS from a key contact on the console channel, routed to
    # the company holding Oicha; its battalion and the company have a duty phone.
    alert = incident.alerts.get()
    assert alert.inbound.channel == console() and alert.contact.code == "NK-OIC-001"
    assert (incident.unit.code, incident.unit.kind) == ("coy-oicha", Unit.Kind.COMPANY)
    assert incident.unit.duty_phones.filter(active=True).exists()
    assert incident.unit.parent.duty_phones.filter(active=True).exists()
    assert incident.events.get().kind == "routed"

    # The company's duty phone was told, and the sender got a receipt: both by the console.
    queued = OutboundMessage.objects.filter(incident=incident)
    assert sorted(queued.values_list("purpose", flat=True)) == [Purpose.ALERT, Purpose.RECEIPT]
    assert {message.channel for message in queued} == {console()}
    phone = incident.unit.duty_phones.get()
    assert queued.get(purpose=Purpose.ALERT).to == phone.number


def test_the_worker_escalates_it_up_the_chain(demo):
    incident = live_incidents(demo["mission"]).get()
    battalion = incident.unit.parent
    sector, force_hq = battalion.parent, battalion.parent.parent
    due = incident.acknowledge_due_at

    def escalations_sent(unit):
        numbers = {keyed_hash(phone.number) for phone in unit.duty_phones.filter(active=True)}
        return OutboundMessage.objects.filter(
            incident=incident, purpose=Purpose.ESCALATION, to_hash__in=numbers
        )

    with time_machine.travel(due - timedelta(seconds=5), tick=False):
        assert escalate_due() == 0  # not yet
    with time_machine.travel(due + timedelta(seconds=2), tick=False):
        assert escalate_due() == 1  # this one only: the history never escalates
    sent = escalations_sent(battalion).get()
    assert sent.channel == console() and sent.to == battalion.duty_phones.get().number
    assert (
        "KIUNGO ESCALADE" in sent.text
    )  # MONUSCO works in French first and incident.reference in sent.text
    mail = OutboundEmail.objects.get(incident=incident, purpose=Purpose.ESCALATION)
    assert mail.to == User.objects.get(username="duty").email
    event = incident.events.get(kind="escalated")
    assert event.details["unit"] == "tanzbatt" and event.details["missed"] == "acknowledge"
    assert event.details["phones"] == 1 and event.details["officers"] == 1

    with time_machine.travel(due + timedelta(minutes=15, seconds=2), tick=False):
        assert escalate_due() == 2  # sector and early-warning cell, in one pass
    assert escalations_sent(sector).count() == 1
    mails = OutboundEmail.objects.filter(incident=incident, purpose=Purpose.ESCALATION)
    assert {mail.to.split("@")[0] for mail in mails} == {"duty", "sector", "ewo"}

    with time_machine.travel(due + timedelta(minutes=45, seconds=2), tick=False):
        assert escalate_due() == 1
    assert escalations_sent(force_hq).count() == 1
    with time_machine.travel(due + timedelta(days=3), tick=False):
        assert escalate_due() == 0
    incident.refresh_from_db()
    assert (incident.escalations, incident.next_escalation_at) == (4, None)
    # Nothing went anywhere but the console channel.
    assert set(OutboundMessage.objects.values_list("channel__kind", flat=True)) <= {
        "console",
        "smssync",
    }


def test_a_rerun_soon_after_adds_nothing(demo):
    before = counts()
    with time_machine.travel(demo["finished"] + timedelta(seconds=10), tick=False):
        out = StringIO()
        call_command("demo", stdout=out)
    assert "Demo scenario already loaded; nothing changed." in out.getvalue()
    assert "Live escalation already pending" in out.getvalue()
    assert counts() == before


def test_a_later_rerun_adds_a_new_live_incident_and_leaves_the_old_one(demo):
    old = live_incidents(demo["mission"]).get()
    state = Incident.objects.filter(pk=old.pk).values().get()
    in_history = history_incidents().count()
    later = old.acknowledge_due_at + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        call_command("demo", stdout=StringIO())
        new = live.pending(demo["mission"], timezone.now())
    assert new is not None and new.pk != old.pk
    assert new.acknowledge_due_at == later + live.LEAD
    assert (new.area_id, new.threat) != (old.area_id, old.threat)  # an incident of its own
    assert Incident.objects.filter(pk=old.pk).values().get() == state
    assert history_incidents().count() == in_history


def test_live_incidents_take_turns_until_every_place_is_taken(demo):
    made = [live_incidents(demo["mission"]).get()]
    moment = made[0].acknowledge_due_at
    for _turn in range(len(live.MESSAGES)):
        moment += timedelta(minutes=6)
        with time_machine.travel(moment, tick=False):
            result = live.ensure()
        if result.incident is None:
            assert "already has an open incident" in result.problem
            break
        assert result.created and result.incident.alert_count == 1
        made.append(result.incident)
    assert len(made) >= 4
    assert len({(incident.area_id, incident.threat) for incident in made}) == len(made)
    assert {incident.unit.parent.code for incident in made} == {"tanzbatt"}


def test_the_live_messages_are_critical_and_at_tanzbatt_towns(demo):
    mission = demo["mission"]
    seen = set()
    for _code, text in live.MESSAGES:
        understood = interpret(mission, text)
        assert understood.level_code == "critical" and understood.area is not None, text
        assert understood.threat in ("attack", "abduction"), text
        seen.add((understood.area.name, understood.threat))
    assert len(seen) == len(live.MESSAGES)
    assert {name for name, _threat in seen} == {"Hyosha", "Mangina", "Butembo", "Beni"}


# Who escalations reach --------------------------------------------------------------------


def test_each_step_of_the_chain_reaches_a_phone_and_a_login(demo):
    force_hq = Unit.objects.get(mission=demo["mission"], kind=Unit.Kind.FORCE_HQ)
    for unit in Unit.objects.filter(mission=demo["mission"], kind__lte=Unit.Kind.BATTALION):
        assert unit.duty_phones.filter(active=True).count() >= 1, unit
    numbers = [number for number, _label in duty.CHAIN_PHONES.values()]
    assert len(set(numbers)) == len(numbers)
    assert DutyPhone.objects.get(number=numbers[0]).unit == force_hq
    assert not duty.ensure()  # already there


# History ----------------------------------------------------------------------------------


def test_history_is_a_month_of_routed_monusco_incidents(demo):
    incidents = history_incidents().select_related("unit", "base", "level")
    assert 150 <= incidents.count() <= 300
    assert f"Demo history: {incidents.count()} MONUSCO incidents" in demo["output"]
    oldest = min(incidents.values_list("first_reported_at", flat=True))
    assert demo["started"] - timedelta(days=31) < oldest < demo["started"] - timedelta(days=25)
    for incident in incidents:
        assert incident.mission == demo["mission"]
        assert incident.unit.kind == Unit.Kind.COMPANY and incident.base.unit == incident.unit
        assert incident.next_escalation_at is None
        assert incident.created_at == incident.routed_at
    per_battalion = Counter(incidents.values_list("unit__parent__code", flat=True))
    assert per_battalion.most_common(1)[0][0] == "tanzbatt"  # the `duty` login sees plenty
    assert len(per_battalion) >= 6
    assert len(set(incidents.values_list("level__code", flat=True))) == 4


def test_history_figures_are_plausible(demo):
    incidents = list(history_incidents())
    counted = [i for i in incidents if i.status != Incident.Status.DISMISSED]
    acknowledged = [i for i in counted if i.acknowledged_at is not None]
    in_time = [i for i in acknowledged if i.acknowledged_at <= i.acknowledge_due_at]
    late = [i for i in acknowledged if i.acknowledged_at > i.acknowledge_due_at]
    never = [i for i in counted if i.acknowledged_at is None]
    assert 0.6 <= len(in_time) / len(counted) <= 0.95  # most in time
    assert len(late) >= 10 and len(never) >= 5
    assert sum(1 for i in incidents if i.status == Incident.Status.DISMISSED) >= 3
    assert sum(1 for i in incidents if i.escalations) >= 30
    responses = Counter(i.response for i in incidents)
    assert all(responses[value] >= 5 for value in ("patrol_sent", "arrived", "referred"))
    assert responses["no_action"] >= 5
    outcomes = Counter(i.outcome for i in incidents if i.status == Incident.Status.CLOSED)
    assert "" not in outcomes and len(outcomes) >= 6
    still_open = [i for i in incidents if i.status == Incident.Status.OPEN]
    assert any(i.responded_at is None for i in still_open)  # unanswered, fully escalated
    assert any(i.responded_at is not None for i in still_open)  # awaiting closure


def test_history_timelines_are_what_a_run_would_have_written(demo):
    steps = {
        level.pk: sorted(level.steps.all(), key=lambda step: step.position)
        for level in demo["mission"].levels.prefetch_related("steps")
    }
    incidents = history_incidents().select_related("unit__parent__parent__parent")
    channels_seen = Counter()
    for incident in incidents.prefetch_related("events", "alerts"):
        events = list(incident.events.all())
        kinds = [event.kind for event in events]
        chain = {unit.pk: unit for unit in incident.unit.chain()}

        # Alerts: the first one opened the incident and was routed when received.
        alerts = sorted(incident.alerts.all(), key=lambda alert: alert.occurred_at)
        assert len(alerts) == incident.alert_count >= 1
        assert len({alert.source_key for alert in alerts}) == incident.source_count
        assert alerts[0].occurred_at == incident.first_reported_at
        assert max(alert.occurred_at for alert in alerts) == incident.last_reported_at
        assert alerts[0].received_at == incident.routed_at
        for alert in alerts:
            assert (alert.area_id, alert.threat, alert.level_id) == (
                incident.area_id,
                incident.threat,
                incident.level_id,
            )
            if incident.closed_at:
                assert alert.received_at < incident.closed_at
            if alert.source == Alert.Source.SMS and alert.inbound_id:
                assert alert.inbound.text == alert.text
            else:
                assert alert.created_by_id is not None or alert.source == Alert.Source.SMS

        assert kinds[0] == "routed" and events[0].at == incident.routed_at
        assert events[0].details["unit"] == incident.unit.code
        assert [event.at for event in events] == sorted(event.at for event in events)

        # Escalation steps, as take_step records them.
        escalated = [event for event in events if event.kind == "escalated"]
        assert [event.details["step"] for event in escalated] == list(
            range(1, incident.escalations + 1)
        )
        level_steps = steps[incident.level_id]
        for event in escalated:
            step = level_steps[event.details["step"] - 1]
            deadline = datetime.fromisoformat(event.details["deadline"])
            due_at = datetime.fromisoformat(event.details["due_at"])
            assert event.details["target"] == step.target
            assert due_at == deadline + step.after <= event.at
            acknowledged = incident.acknowledged_at
            if acknowledged is None or event.at < acknowledged:
                assert event.details["missed"] == "acknowledge"
                assert deadline == incident.acknowledge_due_at
            else:
                assert event.details["missed"] == "respond"
                assert deadline == incident.respond_due_at
            for stop in (incident.responded_at, incident.closed_at):
                assert stop is None or event.at < stop
            assert set(event.details) == {
                "step",
                "target",
                "unit",
                "missed",
                "deadline",
                "due_at",
                "phones",
                "officers",
            }
        if incident.pending_deadline is not None:  # open and unanswered: every step taken
            assert incident.escalations == len(level_steps)

        # Answers: each first time on the incident is its event's time.
        if incident.acknowledged_at is not None:
            acknowledging = [
                event
                for event in events
                if event.kind == "acknowledged"
                or (event.kind == "responded" and event.details.get("acknowledged"))
            ]
            assert len(acknowledging) == 1 and acknowledging[0].at == incident.acknowledged_at
            if acknowledging[0].kind == "acknowledged":
                late = incident.acknowledged_at > incident.acknowledge_due_at
                assert acknowledging[0].details["late"] is late
        responded = [event for event in events if event.kind == "responded"]
        if incident.responded_at is not None:
            assert responded[0].at == incident.responded_at
            late = incident.responded_at > incident.respond_due_at
            assert responded[0].details["late"] is late
            assert responded[-1].details["response"] == incident.response
            if responded[0].details["response"] == "no_action":
                assert responded[0].details["reason"]
        else:
            assert not responded and not incident.response
        if incident.status == Incident.Status.CLOSED:
            closed = [event for event in events if event.kind == "closed"]
            assert len(closed) == 1 and closed[0].at == incident.closed_at == events[-1].at
            assert closed[0].details["outcome"] == incident.outcome != ""
        elif incident.status == Incident.Status.DISMISSED:
            assert kinds[-1] == "dismissed" and events[-1].details["reason"]
            assert not incident.outcome
        else:
            assert "closed" not in kinds and incident.closed_at is None

        # Who: a duty phone of the chain by reply code, or a login.
        for event in events:
            channels_seen[event.channel] += 1
            if event.channel == "sms":
                message = InboundMessage.objects.get(pk=event.details["inbound"])
                code = replies.parse(message.text)
                assert code is not None and code.reference == incident.reference
                phone = DutyPhone.objects.get(number=message.sender)
                assert phone.unit_id in chain
                assert event.details["phone"] == f"{phone.unit.code} {phone.label}"
                assert event.details["unit"] == phone.unit.code and event.actor is None
            elif event.channel in ("web", "api"):
                assert event.actor is not None
                if "unit" in event.details:
                    assert event.details["unit"] in {unit.code for unit in chain.values()}
            else:
                assert event.channel == "system" and event.actor is None
    assert {"sms", "web", "api", "system"} <= set(channels_seen)


def test_a_sample_of_the_history_passes_full_clean(demo):
    incidents = list(history_incidents())
    for incident in incidents[::10]:
        incident.full_clean()
        for alert in incident.alerts.all():
            alert.full_clean()
            if alert.inbound_id:
                alert.inbound.full_clean()
        for event in incident.events.all():
            event.full_clean()


def test_the_history_is_created_once(demo):
    before = counts()
    assert history.ensure(2026).already
    assert history.ensure(7).already  # another seed does not add a second history
    assert counts() == before


def history_dump():
    incidents = history_incidents().order_by("reference")
    return [
        (
            incident.reference,
            incident.area.pcode,
            incident.unit.code,
            incident.level.code,
            incident.threat,
            incident.status,
            incident.response,
            incident.outcome,
            incident.escalations,
            incident.first_reported_at,
            incident.acknowledged_at,
            incident.closed_at,
            [
                (event.kind, event.at, event.channel, event.actor_id is not None)
                for event in incident.events.all()
            ],
            sorted(incident.alerts.values_list("reference", "text", "occurred_at")),
        )
        for incident in incidents.select_related("area", "unit", "level")
    ]


def test_the_same_seed_gives_the_same_history(demo):
    moment = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        first = history_dump()
        wipe()
        call_command("demo", stdout=StringIO())
        again = history_dump()
        wipe()
        call_command("demo", "--seed", "7", stdout=StringIO())
        other = history_dump()
    assert again == history_dump_at(first, again)
    assert other != again


def history_dump_at(first, again):
    """`first` was made at another moment: compare it shifted to `again`'s."""
    shift = again[0][9] - first[0][9]

    def moved(value):
        return value + shift if isinstance(value, datetime) else value

    return [
        (
            *row[:9],
            *(moved(value) for value in row[9:12]),
            [(kind, moved(at), *rest) for kind, at, *rest in row[12]],
            sorted((ref, text, moved(at)) for ref, text, at in row[13]),
        )
        for row in first
    ]


def test_the_history_texts_are_read_as_their_threat(demo):
    mission = demo["mission"]
    for language, texts in history.TEXTS.items():
        for threat, variants in texts.items():
            for variant in variants:
                for urgent in ("", history.URGENT[language]):
                    text = urgent + variant.format(place="Butembo")
                    understood = interpret(mission, text)
                    assert understood.threat == threat, text
                    assert (understood.level_code == "critical") == bool(urgent), text
                    assert understood.area.name == "Butembo", text


def test_the_pages_show_the_history(demo, client):
    client.force_login(User.objects.get(username="ewo"))
    escalated = history_incidents().filter(escalations=4).first()
    page = client.get(f"/incidents/{escalated.reference}/")
    assert page.status_code == 200
    assert client.get("/incidents/").status_code == 200
    assert client.get("/outbox/").status_code == 200
