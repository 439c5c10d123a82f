from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForcesConfig(AppConfig):
    name = "kiungo.forces"
    verbose_name = _("Units and bases")
