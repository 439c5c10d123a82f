from django.contrib import admin
from django.urls import include, path

import kiungo.lib.converters  # noqa: F401 -- registers <code:...>
from kiungo.api.api import api
from kiungo.lib.env import env_bool
from kiungo.lib.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("sms/", include("kiungo.messaging.urls")),
    path("", include("kiungo.people.urls")),
    path("", include("kiungo.forces.urls")),
    path("", include("kiungo.alerts.urls")),
    path("", include("kiungo.accountability.urls")),
    path("", include("kiungo.safety.urls")),
    path("", include("kiungo.protection.urls")),
    path("", include("kiungo.network.urls")),
    path("", include("kiungo.reports.urls")),
    path("", include("kiungo.alertnet.urls")),
]

if env_bool("KIUNGO_BENCH"):  # bench/intake.py's baseline view; never on otherwise
    urlpatterns.append(path("", include("kiungo.bench.urls")))
