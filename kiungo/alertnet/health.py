"""Network health: network tests, their answers, reachability, and silent contacts.

A network test sends one short SMS (in the contact's language, GSM-7) to every reachable
contact of a base (coverage.reachable: active, consenting, not opted out) and records each
recipient. An answer is any SMS from a recipient within the test's window: a short test reply
("OK", "TEST", "RECU"...) is taken by the `NetworkTestReplies` SMS command
(kiungo/messaging/commands.py) and goes no further; anything else from the contact is an
alert like any other, and counts as an answer too: the figures read it from the alerts
(`reachability`), so intake does no extra work for network tests. A short reply from a contact
with no open test is not a command: it goes through as an alert.

Both automatic tasks run in `manage.py worker` (`network_health`, at most once a minute per
process) and are safe with several workers:
- scheduled tests: one per base and schedule period, guarded by a partial unique constraint
  on (base, period); the loser's insert fails and its transaction (recipients, SMS) rolls back;
- silent contacts: one SilenceNotice per contact and silence period (unique constraints); a
  notice and its e-mail are written in one savepoint, so a worker that loses the race writes
  and sends nothing.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alertnet.coverage import base_contacts, reachable
from kiungo.alertnet.models import NetworkPolicy, NetworkTest, NetworkTestRecipient, SilenceNotice
from kiungo.forces.models import Base
from kiungo.lib import worker
from kiungo.lib.crypto import keyed_hash
from kiungo.lib.text import fold
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import notification_channel, queue_email, queue_sms
from kiungo.missions.models import Mission
from kiungo.network.models import Contact
from kiungo.people.models import CLAProfile

logger = logging.getLogger(__name__)

# Outbox purpose: messaging.Purpose has no "network test" member yet (adding one needs a
# migration in kiungo/messaging); the recipient label says what the message is.
PURPOSE = Purpose.OTHER

# Folded words a contact may answer a test with (English, French, Swahili, Lingala).
REPLY_WORDS = frozenset(
    {"ok", "okay", "test", "recu", "bien", "oui", "yes", "received", "sawa", "ndiyo", "eyo", "ee"}
)
REPLY_MAX_WORDS = 2  # "OK TEST", "BIEN RECU": longer texts are alerts


def test_message(mission: Mission, contact: Contact) -> str:
    """The test SMS in the contact's language: neutral (a phone can be seized) and GSM-7."""
    from kiungo.alerts.notify import language_for

    with translation.override(language_for(mission, contact.language)):
        return _("Kiungo: test. Please reply OK. Thank you.")


def start_test(
    base: Base, *, by=None, now: datetime | None = None, period: date | None = None
) -> NetworkTest:
    """Send a network test to the base's reachable contacts (one transaction).

    Raises ValidationError when nothing can be sent (no contact to test, no SMS channel), and
    IntegrityError when an automatic test for `period` exists already.
    """
    now = now or timezone.now()
    mission = base.mission
    contacts = list(reachable(base_contacts(base)).select_related("home_locality").order_by("code"))
    if not contacts:
        raise ValidationError(
            _("No contact of this base can be tested: none is active, consenting and reachable.")
        )
    channel = notification_channel(mission.pk)
    if channel is None:
        raise ValidationError(_("The mission has no active SMS channel to send the test."))
    policy = NetworkPolicy.of(mission)
    with transaction.atomic():
        test = NetworkTest.objects.create(
            base=base,
            started_at=now,
            closes_at=now + policy.answer_window,
            started_by=by,
            period=period,
        )
        NetworkTestRecipient.objects.bulk_create(
            NetworkTestRecipient(test=test, contact=contact, locality=contact.home_locality)
            for contact in contacts
        )
        for contact in contacts:
            queue_sms(
                channel,
                contact.phone,
                test_message(mission, contact),
                purpose=PURPOSE,
                recipient_label=_("network test, contact %(code)s") % {"code": contact.code},
            )
    return test


def schedule_period(mission: Mission, policy: NetworkPolicy, now: datetime) -> date | None:
    """The first day (mission time) of the schedule period holding `now`; None when off.

    Periods are `test_every_days` long, counted from 1 January 2000, so every worker computes
    the same period without shared state.
    """
    if not policy.test_every_days:
        return None
    today = timezone.localtime(now, ZoneInfo(mission.time_zone)).date()
    epoch = date(2000, 1, 1)
    index = (today - epoch).days // policy.test_every_days
    return epoch + timedelta(days=index * policy.test_every_days)


def run_scheduled_tests(now: datetime | None = None) -> int:
    """Start the due automatic tests: for each open base of an open mission whose schedule is
    on, one per period. A base tested by hand within the period is not tested again."""
    now = now or timezone.now()
    started = 0
    for mission in Mission.objects.filter(closed_on__isnull=True):
        policy = NetworkPolicy.of(mission)
        period = schedule_period(mission, policy, now)
        if period is None:
            continue
        zone = ZoneInfo(mission.time_zone)
        period_start = datetime.combine(period, datetime.min.time(), tzinfo=zone)
        due = (
            Base.objects.filter(mission=mission, closed_on__isnull=True)
            .exclude(Exists(NetworkTest.objects.filter(base=OuterRef("pk"), period=period)))
            .exclude(
                Exists(
                    NetworkTest.objects.filter(base=OuterRef("pk"), started_at__gte=period_start)
                )
            )
            .select_related("mission")
        )
        for base in due:
            try:
                start_test(base, now=now, period=period)
                started += 1
            except ValidationError:
                continue  # nobody to test, or no channel: nothing to do this period
            except IntegrityError:
                continue  # another worker started it first
    return started


# Answers


def open_recipient(mission: Mission, sender: str, now: datetime) -> NetworkTestRecipient | None:
    """The latest unanswered test row of the contact with this number, in an open window."""
    if not sender.startswith("+"):
        return None
    return (
        NetworkTestRecipient.objects.filter(
            test__base__mission=mission,
            contact__mission=mission,
            contact__phone_hash=keyed_hash(sender),
            answered_at__isnull=True,
            test__started_at__lte=now,
            test__closes_at__gt=now,
        )
        .order_by("-test__started_at")
        .first()
    )


def is_test_reply(text: str) -> bool:
    words = fold(text).replace(".", " ").replace("!", " ").split()
    return 0 < len(words) <= REPLY_MAX_WORDS and all(word in REPLY_WORDS for word in words)


class NetworkTestReplies:
    """A contact's short answer to a network test, as an SMS command (messaging/commands.py).

    Recognised only when the text is a short test reply AND the sender has an open test:
    otherwise the message is an alert like any other.
    """

    def recognise(self, mission, sender: str, text: str) -> int | None:
        if not is_test_reply(text):
            return None  # the cheap check first: most messages stop here
        recipient = open_recipient(mission, sender, timezone.now())
        return recipient.pk if recipient else None

    def apply(self, channel, message, sender: str, recipient_id: int) -> None:
        mark_answered(recipient_id, message.received_at)


def mark_answered(recipient_id: int, at: datetime) -> bool:
    """Record the reply (the first one counts) and that the contact was heard from."""
    changed = NetworkTestRecipient.objects.filter(pk=recipient_id, answered_at__isnull=True).update(
        answered_at=at
    )
    if changed:
        contact_id = NetworkTestRecipient.objects.filter(pk=recipient_id).values("contact_id")
        Contact.objects.filter(pk__in=contact_id).filter(
            Q(last_heard_at__isnull=True) | Q(last_heard_at__lt=at)
        ).update(last_heard_at=at)
    return bool(changed)


def with_answers(recipients):
    """Recipients annotated with `answered`: replied to the test, or sent an SMS alert within
    its window."""
    from kiungo.alerts.models import Alert

    alerted = Alert.objects.filter(
        contact_id=OuterRef("contact_id"),
        source=Alert.Source.SMS,
        received_at__gte=OuterRef("test__started_at"),
        received_at__lt=OuterRef("test__closes_at"),
    )
    return recipients.annotate(answered=Q(answered_at__isnull=False) | Exists(alerted))


# Reachability


@dataclass
class Cell:
    answered: int = 0
    sent: int = 0

    @property
    def share(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)


@dataclass
class ReachColumn:
    test: NetworkTest
    total: Cell = field(default_factory=Cell)


@dataclass
class LocalityRow:
    area_name: str
    pcode: str
    cells: list[Cell]  # one per column; sent == 0 where nobody of the locality was tested


@dataclass
class Reachability:
    columns: list[ReachColumn]
    rows: list[LocalityRow]


def reachability(base: Base, last: int = 6) -> Reachability:
    """Share of recipients who answered, per locality, for the base's `last` tests (oldest
    first, so time runs left to right)."""
    tests = list(NetworkTest.objects.filter(base=base).order_by("-started_at")[:last])[::-1]
    columns = [ReachColumn(test) for test in tests]
    index = {test.pk: i for i, test in enumerate(tests)}
    rows: dict[int, LocalityRow] = {}
    recipients = with_answers(NetworkTestRecipient.objects.filter(test__in=tests))
    for test_id, area_id, name, pcode, answered in recipients.values_list(
        "test_id", "locality_id", "locality__name", "locality__pcode", "answered"
    ):
        row = rows.setdefault(area_id, LocalityRow(name, pcode, [Cell() for _test in tests]))
        for cell in (columns[index[test_id]].total, row.cells[index[test_id]]):
            cell.sent += 1
            cell.answered += bool(answered)
    return Reachability(columns, sorted(rows.values(), key=lambda row: (row.area_name, row.pcode)))


def latest_tests(bases: list[Base]) -> dict[int, tuple[NetworkTest, Cell]]:
    """Each base's latest network test and its answers (base id -> (test, cell))."""
    latest: dict[int, NetworkTest] = {}
    for test in NetworkTest.objects.filter(base__in=bases).order_by("base_id", "-started_at"):
        latest.setdefault(test.base_id, test)
    cells = {test.pk: Cell() for test in latest.values()}
    recipients = with_answers(NetworkTestRecipient.objects.filter(test__in=list(latest.values())))
    for test_id, answered in recipients.values_list("test_id", "answered"):
        cells[test_id].sent += 1
        cells[test_id].answered += bool(answered)
    return {base_id: (test, cells[test.pk]) for base_id, test in latest.items()}


# Silent contacts

SILENCE_BATCH = 200


def _clas_of(contact: Contact) -> list[CLAProfile]:
    """Who keeps the contact: their managing CLA, else the CLAs of the base holding their
    home locality."""
    if contact.managed_by_id:
        return [contact.managed_by]
    if contact.home_locality_id is None:
        return []
    pcodes = [*contact.home_locality.ancestor_pcodes(), contact.home_locality.pcode]
    return list(
        CLAProfile.objects.filter(
            base__responsibility__area__pcode__in=pcodes,
            base__mission_id=contact.mission_id,
            user__is_active=True,
        ).select_related("user")
    )


def silent_contacts(mission: Mission, now: datetime) -> "QuerySet[Contact]":  # noqa: F821
    """Active, not opted-out contacts heard from longer ago than the threshold, or never heard
    from though a network test sent to them has closed (a contact just registered is not
    silent yet: nothing says since when), without a notice for this silence period yet."""
    since = now - NetworkPolicy.of(mission).silence
    notices = SilenceNotice.objects.filter(contact=OuterRef("pk"))
    missed_a_test = NetworkTestRecipient.objects.filter(
        contact=OuterRef("pk"), test__closes_at__lte=now
    )
    never_heard = Q(last_heard_at__isnull=True) & Exists(missed_a_test)
    return (
        Contact.objects.filter(mission=mission, active=True, opted_out_at__isnull=True)
        .filter(Q(last_heard_at__lt=since) | never_heard)
        .exclude(
            Exists(notices.filter(last_heard_at=OuterRef("last_heard_at")))
            | Exists(notices.filter(last_heard_at__isnull=True, contact__last_heard_at=None))
        )
    )


def flag_silent_contacts(now: datetime | None = None) -> int:
    """Tell each silent contact's CLA, once per contact and silence period: a notice (shown on
    the CLA's network pages) and one e-mail per CLA listing the pseudonyms. Returns notices
    written."""
    now = now or timezone.now()
    written = 0
    for mission in Mission.objects.filter(closed_on__isnull=True):
        contacts = list(
            silent_contacts(mission, now)
            .select_related("managed_by__user", "home_locality")
            .order_by("code")[:SILENCE_BATCH]
        )
        if not contacts:
            continue
        with transaction.atomic():
            told: dict[int, tuple[CLAProfile, list[Contact]]] = {}
            for contact in contacts:
                clas = _clas_of(contact)
                try:
                    with transaction.atomic():
                        SilenceNotice.objects.create(
                            contact=contact,
                            last_heard_at=contact.last_heard_at,
                            cla=clas[0] if clas else None,
                            noticed_at=now,
                        )
                except IntegrityError:
                    continue  # another worker flagged it first
                written += 1
                for cla in clas:
                    told.setdefault(cla.pk, (cla, []))[1].append(contact)
            for cla, silent in told.values():
                _email_cla(mission, cla, silent, now)
    return written


def _email_cla(mission: Mission, cla: CLAProfile, contacts: list[Contact], now: datetime):
    from kiungo.alerts.notify import language_for

    if not cla.user.email:
        return
    days = NetworkPolicy.of(mission).silence_days
    with translation.override(language_for(mission, (cla.languages or [""])[0])):
        lines = [
            _("These key contacts have not been heard from for more than %(days)d days:")
            % {"days": days},
            "",
        ]
        for contact in contacts:
            heard = (
                timezone.localtime(contact.last_heard_at, ZoneInfo(mission.time_zone)).date()
                if contact.last_heard_at
                else None
            )
            lines.append(
                f"- {contact.code}: "
                + (
                    _("last heard on %(date)s") % {"date": heard.isoformat()}
                    if heard
                    else _("never heard from")
                )
            )
        lines += ["", _("Please check on them (a visit, a call) and record what you find.")]
        queue_email(
            cla.user.email,
            _("[Kiungo] %(count)d silent key contact(s)") % {"count": len(contacts)},
            "\n".join(lines),
            purpose=PURPOSE,
            recipient_label=_("CLA %(staff_id)s") % {"staff_id": cla.staff_id},
        )


# The worker task


@worker.register(every=60)  # health work is counted in days: no need to poll every second
def network_health() -> bool:
    """Scheduled network tests and silent-contact notices."""
    started = run_scheduled_tests()
    flagged = flag_silent_contacts()
    if started or flagged:
        logger.info("network health: %s tests started, %s contacts flagged", started, flagged)
    return False
