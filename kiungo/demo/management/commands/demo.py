"""`manage.py demo [--seed N]`: load the demo scenario (never in production).

Run by every `make run`, so each step is idempotent and cheap once done: the scenario (once),
the demo SMS channels and key contacts (routed through the console channel), the duty phones
and duty-officer logins of the escalation chain, 30 days of incident history (once), two weeks
of field reports (once, kiungo/demo/reports.py), and a
live incident about to escalate (kiungo/demo/live.py).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kiungo.demo import (
    alertnet,
    channels,
    contacts,
    duty,
    history,
    live,
    protection,
    reports,
    safety,
    scenario,
)


class Command(BaseCommand):
    help = (
        "Load the demo scenario: MONUSCO, UNMISS, MINUSCA and MINUSMA (closed) on real "
        "geography, with units, bases, CLAs, demo logins, SMS channels, 30 days of MONUSCO "
        "incidents, and one critical incident about to escalate. What is already there is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=scenario.DEFAULT_SEED,
            help=f"Seed of the generated data (default {scenario.DEFAULT_SEED}); "
            "the same seed always gives the same data.",
        )

    def handle(self, *args, seed: int, **options):
        if not getattr(settings, "DEMO_ALLOWED", False):
            raise CommandError(
                "The demo scenario is disabled here (DEMO_ALLOWED is False, as in production): "
                "it creates accounts whose password is published."
            )
        started = time.monotonic()
        present = scenario.loaded_missions()
        already = len(present) == len(scenario.DEMO_MISSION_CODES)
        if present and not already:
            raise CommandError(
                "Only part of the demo scenario is here (missions "
                + ", ".join(present)
                + "). Remove those missions, or start from an empty database, then run again."
            )
        lines = []
        if not already:
            try:
                summary = scenario.load(seed)
            except scenario.ScenarioError as error:
                raise CommandError(f"Demo scenario not loaded: {error}") from error
            lines += scenario.format_summary(summary)
        created = channels.ensure()
        if already and (created.channels or created.contacts):
            # Channels and key contacts came later than the scenario: added if missing.
            lines.append(
                "Demo scenario already loaded; added the missing demo SMS channels "
                f"({len(created.channels)}) and key contacts ({len(created.contacts)})."
            )
            created.channels, created.contacts = [], []
        lines += channels.format_created(created)
        lines += duty.format_added(duty.ensure())
        lines += history.format_summary(history.ensure(seed))
        lines += safety.format_summary(safety.ensure(seed))
        lines += protection.ensure(seed)
        lines += contacts.format_summary(contacts.ensure(seed))
        lines += reports.format_summary(reports.ensure(seed))
        lines += alertnet.format_summary(alertnet.ensure(seed))
        if already and not lines:
            lines.append("Demo scenario already loaded; nothing changed.")
        elif already and not lines[0].startswith("Demo scenario already loaded"):
            lines.insert(0, "Demo scenario already loaded; added what it lacked:")
        for line in lines:
            self.stdout.write(line)
        for line in live.format_live(live.ensure()):
            self.stdout.write(line)
        self.stdout.write(f"Demo ready in {time.monotonic() - started:.1f} s.")
        self._write_logins()

    def _write_logins(self):
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        for line in scenario.format_logins():
            self.stdout.write("  " + line)
        lines = channels.format_channels()
        if lines:
            self.stdout.write("")
            self.stdout.write("Demo SMS channels (see manage.py play_gateway):")
            for line in lines:
                self.stdout.write("  " + line)
