from django.urls import path

from kiungo.safety import views

urlpatterns = [
    path("safety/", views.overview, name="safety"),
    path("safety/check-in/", views.check_in, name="safety-check-in"),
    path("safety/sos/", views.sos, name="safety-sos"),
    path("safety/clas/<int:pk>/", views.cla_safety, name="safety-cla"),
    path("safety/alarms/<int:pk>/close/", views.close_alarm, name="safety-alarm-close"),
]
