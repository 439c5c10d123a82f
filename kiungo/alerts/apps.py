from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "kiungo.alerts"
    verbose_name = _("Alerts and incidents")

    def ready(self):
        from kiungo.alerts import escalation  # noqa: F401 -- registers the worker task
        from kiungo.alerts.replies import UnitReplies
        from kiungo.messaging import commands

        commands.register(UnitReplies())
