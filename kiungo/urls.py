from django.contrib import admin
from django.urls import include, path

from kiungo.lib.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("kiungo.people.urls")),
    path("", include("kiungo.forces.urls")),
]
