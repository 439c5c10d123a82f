from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertNetConfig(AppConfig):
    name = "kiungo.alertnet"
    verbose_name = _("Community alert network")

    def ready(self):
        from kiungo.alertnet import health, signals  # noqa: F401 -- worker task, signal
        from kiungo.messaging import commands

        commands.register(health.NetworkTestReplies())
