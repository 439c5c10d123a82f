"""`manage.py demo [--seed N]`: load the demo scenario (never in production)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kiungo.demo import channels, scenario


class Command(BaseCommand):
    help = (
        "Load the demo scenario: MONUSCO, UNMISS, MINUSCA and MINUSMA (closed) on real "
        "geography, with units, bases, CLAs and demo logins. Does nothing if already loaded."
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
        present = scenario.loaded_missions()
        if len(present) == len(scenario.DEMO_MISSION_CODES):
            # Channels and key contacts came later than the scenario: add them if missing.
            created = channels.ensure() if channels.missing() else None
            if created:
                self.stdout.write(
                    "Demo scenario already loaded; added the missing demo SMS channels "
                    f"({len(created.channels)}) and key contacts ({len(created.contacts)})."
                )
            else:
                self.stdout.write("Demo scenario already loaded; nothing changed.")
            self._write_logins()
            return
        if present:
            raise CommandError(
                "Only part of the demo scenario is here (missions "
                + ", ".join(present)
                + "). Remove those missions, or start from an empty database, then run again."
            )
        try:
            summary = scenario.load(seed)
        except scenario.ScenarioError as error:
            raise CommandError(f"Demo scenario not loaded: {error}") from error
        for line in scenario.format_summary(summary):
            self.stdout.write(line)
        for line in channels.format_created(channels.ensure()):
            self.stdout.write(line)
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
