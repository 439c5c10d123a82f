from django.urls import path

from kiungo.messaging import views

app_name = "messaging"

urlpatterns = [
    path("<str:kind>/<uuid:channel_uuid>/receive", views.receive, name="receive"),
    path("<str:kind>/<uuid:channel_uuid>/status", views.status, name="status"),
]
