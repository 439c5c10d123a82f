from django.urls import path

from kiungo.alerts import views

urlpatterns = [
    path("incidents/", views.board, name="board"),
    path("incidents/board-stamp", views.board_stamp, name="board-stamp"),
    path("incidents/<code:reference>/", views.incident_detail, name="incident-detail"),
    path("incidents/<code:reference>/merge", views.incident_merge, name="incident-merge"),
    path("incidents/<code:reference>/split", views.incident_split, name="incident-split"),
    path("alerts/new/", views.alert_new, name="alert-new"),
    path("alerts/<code:reference>/", views.alert_detail, name="alert-detail"),
    path("alerts/<code:reference>/correct", views.alert_correct, name="alert-correct"),
    path("inbound/", views.inbound, name="inbound"),
]
