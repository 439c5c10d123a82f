from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "kiungo.safety"
    verbose_name = _("CLA safety")

    def ready(self):
        from kiungo.messaging import commands
        from kiungo.safety import escalation  # noqa: F401 -- registers the worker task
        from kiungo.safety.sms import SafetyBySMS

        commands.register(SafetyBySMS())
