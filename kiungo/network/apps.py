from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "kiungo.network"
    verbose_name = _("Community alert networks")

    def ready(self):
        from kiungo.messaging import commands
        from kiungo.network.optout import OptOut

        commands.register(OptOut())
