from django.urls import path

from kiungo.forces import views

urlpatterns = [
    path("bases/<int:pk>/", views.base_detail, name="base-detail"),
    path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("areas/<code:pcode>/", views.area_detail, name="area-detail"),
    path("responsibility/", views.responsibility_lookup, name="responsibility"),
]
