from django.urls import path

from kiungo.alertnet import views

urlpatterns = [
    path("network/", views.overview, name="network"),
    path("network/bases/<int:pk>/", views.base_network, name="network-base"),
    path("network/bases/<int:pk>/radios/new/", views.radio_new, name="network-radio-new"),
    path("network/bases/<int:pk>/hotline/new/", views.hotline_new, name="network-hotline-new"),
    path("network/bases/<int:pk>/health/", views.base_health, name="network-health"),
    path("network/bases/<int:pk>/tests/", views.test_start, name="network-test-start"),
    path("network/bases/<int:pk>/phones/", views.base_phones, name="network-phones"),
    path("network/phones/<int:pk>/return/", views.phone_return, name="network-phone-return"),
    path("network/phones/<int:pk>/missing/", views.phone_missing, name="network-phone-missing"),
    path("network/bases/<int:pk>/airtime/", views.base_airtime, name="network-airtime"),
    path("network/bases/<int:pk>/airtime/top-ups/", views.top_up_new, name="network-top-up"),
    path("network/bases/<int:pk>/airtime/budget/", views.budget_set, name="network-budget"),
    path("network/bases/<int:pk>/airtime.csv", views.airtime_csv, name="network-airtime-csv"),
]
