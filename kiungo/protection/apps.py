from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "kiungo.protection"
    verbose_name = _("Protection committees and plans")
