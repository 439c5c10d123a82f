from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "kiungo.reports"
    verbose_name = _("Field reports")

    def ready(self):
        from kiungo.messaging import commands
        from kiungo.reports import compliance  # noqa: F401 -- registers the worker tasks
        from kiungo.reports.sms import DailyReportBySMS

        commands.register(DailyReportBySMS())
