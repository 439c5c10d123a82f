"""Who hears about a CLA's safety, and what they read.

Only the people who may see a CLA's safety are ever told: the CLA's supervisor, the CLA
managers and security officers whose scope covers the CLA (kiungo.people.access). Staff have
no registered phone yet, so they are told by e-mail; the outbox carries it with an urgent
purpose (ALERT for an SOS, ESCALATION for a missed check-in), ahead of community messages.
Messages name the CLA by staff id and name, never by phone number, and never say where the
CLA said they were (that stays on the page, behind the login).
"""

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for, local_time
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_email
from kiungo.people.access import visible_safety_clas
from kiungo.people.models import CLAProfile, Role, User
from kiungo.safety.models import Alarm, EscalationTarget


def _may_see(user: User, cla: CLAProfile) -> bool:
    return visible_safety_clas(user).filter(pk=cla.pk).exists()


def _holders(cla: CLAProfile, mission_id: int, role: str) -> list[User]:
    candidates = User.objects.filter(
        is_active=True, role_assignments__role=role, role_assignments__mission_id=mission_id
    ).distinct()
    return [user for user in candidates if _may_see(user, cla)]


def managers(cla: CLAProfile, mission_id: int) -> list[User]:
    """The CLA's supervisor; if they have none (or an inactive one), the CLA managers whose
    area covers the CLA."""
    if cla.supervisor_id and cla.supervisor.is_active:
        return [cla.supervisor]
    return _holders(cla, mission_id, Role.CLA_MANAGER)


def recipients(cla: CLAProfile, mission_id: int, target: str) -> list[User]:
    if target == EscalationTarget.MANAGER:
        return managers(cla, mission_id)
    if target == EscalationTarget.SECURITY:
        return _holders(cla, mission_id, Role.SECURITY_OFFICER)
    told = {user.pk for user in managers(cla, mission_id)}
    return [user for user in _holders(cla, mission_id, Role.CLA_MANAGER) if user.pk not in told]


def _name(cla: CLAProfile) -> str:
    full = cla.user.get_full_name()
    return f"{cla.staff_id} ({full})" if full else cla.staff_id


def _send(users: list[User], subject: str, body: str, purpose: str) -> int:
    sent = 0
    for user in users:
        if user.email:
            queue_email(
                user.email, subject, body, purpose=purpose, recipient_label=user.get_username()
            )
            sent += 1
    return sent


def tell_missed(cla: CLAProfile, mission, target: str, due_at, step: int) -> list[str]:
    """Tell `target` that the CLA missed the check-in due at `due_at`; the usernames told."""
    users = recipients(cla, mission.pk, target)
    link = reverse("safety-cla", args=[cla.pk])
    with translation.override(language_for(mission)):
        subject = _("Kiungo safety: CLA %(cla)s has not checked in since %(due)s") % {
            "cla": _name(cla),
            "due": local_time(mission, due_at),
        }
        body = _(
            "CLA %(cla)s has not checked in: the check-in was due at %(due)s (%(zone)s).\n"
            "Escalation step %(step)s of 3. Try to reach them, and follow up on Kiungo: "
            "%(link)s\nA check-in stops this escalation."
        ) % {
            "cla": _name(cla),
            "due": local_time(mission, due_at),
            "zone": mission.time_zone,
            "step": step,
            "link": link,
        }
    _send(users, subject, body, Purpose.ESCALATION)
    return [user.get_username() for user in users]


def tell_alarm(alarm: Alarm) -> list[str]:
    """Tell the CLA's manager and the security officers of an SOS or duress alarm, at once."""
    cla, mission = alarm.cla, alarm.mission
    told: dict[int, User] = {}
    for target in (EscalationTarget.MANAGER, EscalationTarget.SECURITY):
        for user in recipients(cla, mission.pk, target):
            told[user.pk] = user
    link = reverse("safety-cla", args=[cla.pk])
    with translation.override(language_for(mission)):
        if alarm.kind == Alarm.Kind.DURESS:
            subject = _("Kiungo URGENT: CLA %(cla)s sent the duress word") % {"cla": _name(cla)}
            lead = _(
                "CLA %(cla)s sent the duress word at %(at)s: they may be under threat and "
                "watched. They received an ordinary check-in confirmation; do not call them "
                "openly."
            )
        else:
            subject = _("Kiungo URGENT: SOS from CLA %(cla)s") % {"cla": _name(cla)}
            lead = _("CLA %(cla)s sent an SOS at %(at)s.")
        body = (
            lead % {"cla": _name(cla), "at": local_time(mission, alarm.last_signal_at)}
            + "\n"
            + _("Signals so far: %(count)s. Details and closing: %(link)s")
            % {"count": alarm.signals, "link": link}
        )
    _send(list(told.values()), subject, body, Purpose.ALERT)
    return [user.get_username() for user in told.values()]
