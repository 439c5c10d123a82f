from django.urls import path

from kiungo.alerts import views

urlpatterns = [
    path("incidents/", views.board, name="board"),
    path("incidents/board-stamp", views.board_stamp, name="board-stamp"),
    path("incidents/<str:reference>/", views.incident_detail, name="incident-detail"),
    path("incidents/<str:reference>/merge", views.incident_merge, name="incident-merge"),
    path("incidents/<str:reference>/split", views.incident_split, name="incident-split"),
    path("alerts/new/", views.alert_new, name="alert-new"),
    path("alerts/<str:reference>/", views.alert_detail, name="alert-detail"),
    path("alerts/<str:reference>/correct", views.alert_correct, name="alert-correct"),
    path("inbound/", views.inbound, name="inbound"),
]
