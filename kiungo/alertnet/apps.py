from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertNetConfig(AppConfig):
    name = "kiungo.alertnet"
    verbose_name = _("Community alert network")

    def ready(self):
        from kiungo.alertnet import health  # registers the worker task
        from kiungo.messaging import commands

        commands.register(health.NetworkTestReplies())
