"""Who an escalation reaches in the demo: duty phones up the MONUSCO chain, duty-officer logins.

The scenario gives every battalion and company a duty phone. This adds one to each MONUSCO
sector and to force HQ, from a range that is plainly fictitious (+243 99 100 0xxx), so that
every step of an escalation (battalion, sector, force HQ) reaches a phone; the early-warning
cell is reached by e-mail (the `ewo` login). The duty-officer logins of the chain above the
`duty` login's companies (`duty`, `sector`, `forcehq`) are created with the scenario; on a
database loaded before they existed, they are added here with the demo password.

Idempotent: run by every `manage.py demo`; an existing phone number or username is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiungo.demo.scenario import DEMO_LOGINS, DEMO_PASSWORD, DUTY_UNITS, EMAIL_DOMAIN, STAFF_LOGINS

DEMO_MISSION = "MONUSCO"

# unit code -> (number, label). The numbers are valid DR Congo mobile numbers (so they pass
# validation) in a block chosen to look made up; nothing is ever sent to them (the demo's
# SMS go to the console channel's log).
CHAIN_PHONES = {
    "force-hq": ("+243991000100", "Duty phone, Force HQ operations centre"),
    "sector-north-kivu": ("+243991000201", "Duty phone, Sector North Kivu"),
    "sector-ituri": ("+243991000202", "Duty phone, Sector Ituri"),
    "sector-south-kivu": ("+243991000203", "Duty phone, Sector South Kivu"),
    "sector-west": ("+243991000204", "Duty phone, Sector West"),
}


@dataclass
class Added:
    phones: list[str] = field(default_factory=list)  # unit codes
    users: list[str] = field(default_factory=list)  # usernames
    emails: list[str] = field(default_factory=list)  # usernames given an address

    def __bool__(self) -> bool:
        return bool(self.phones or self.users or self.emails)


def ensure() -> Added:
    """Add the chain's duty phones and the duty-officer logins where missing (one transaction)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from kiungo.forces.models import DutyPhone, Unit
    from kiungo.missions.models import Mission
    from kiungo.people.models import Role, RoleAssignment, User

    added = Added()
    with transaction.atomic():
        mission = Mission.objects.filter(code=DEMO_MISSION).first()
        if mission is None:
            return added
        units = {
            unit.code: unit
            for unit in Unit.objects.filter(mission=mission, code__in=list(CHAIN_PHONES))
        }
        taken = set(
            DutyPhone.objects.filter(
                number__in=[number for number, _label in CHAIN_PHONES.values()]
            ).values_list("number", flat=True)
        )
        for code, (number, label) in CHAIN_PHONES.items():
            if code in units and number not in taken:
                DutyPhone.objects.create(unit=units[code], number=number, label=label)
                added.phones.append(code)

        names = {username: (first, last) for username, first, last, *_rest in STAFF_LOGINS}
        existing = set(
            User.objects.filter(username__in=list(DUTY_UNITS)).values_list("username", flat=True)
        )
        for username, (code, unit_code) in DUTY_UNITS.items():
            if username in existing:
                continue  # never take over an account that is already there
            unit = Unit.objects.filter(mission__code=code, code=unit_code).first()
            if unit is None:
                continue
            first, last = names[username]
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@{EMAIL_DOMAIN}",
                password=make_password(DEMO_PASSWORD),
            )
            RoleAssignment.objects.create(
                user=user,
                role=Role.UNIT_DUTY_OFFICER,
                mission=unit.mission,
                scope=RoleAssignment.Scope.UNIT,
                unit=unit,
            )
            added.users.append(username)

        # Officers are e-mailed only if they have an address (kiungo.alerts.notify).
        for user in User.objects.filter(username__in=[login[0] for login in DEMO_LOGINS], email=""):
            user.email = f"{user.username}@{EMAIL_DOMAIN}"
            user.save(update_fields=["email"])
            added.emails.append(user.username)
    return added


def format_added(added: Added) -> list[str]:
    lines = []
    if added.phones:
        lines.append("Duty phones added (MONUSCO chain): " + ", ".join(added.phones) + ".")
    if added.users:
        lines.append("Duty-officer logins added: " + ", ".join(added.users) + ".")
    if added.emails:
        lines.append("E-mail addresses given to: " + ", ".join(added.emails) + ".")
    return lines
