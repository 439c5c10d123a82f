from django.urls import path

from kiungo.accountability import views

urlpatterns = [
    path("accountability/", views.report, name="accountability"),
    path("accountability.csv", views.report_csv, name="accountability-csv"),
]
