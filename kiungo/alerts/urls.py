from django.urls import path

from kiungo.alerts import views
from kiungo.messaging import screens

urlpatterns = [
    path("incidents/", views.board, name="board"),
    path("incidents/board-stamp", views.board_stamp, name="board-stamp"),
    path("incidents/<code:reference>/", views.incident_detail, name="incident-detail"),
    path("incidents/<code:reference>/merge", views.incident_merge, name="incident-merge"),
    path("incidents/<code:reference>/split", views.incident_split, name="incident-split"),
    path(
        "incidents/<code:reference>/acknowledge",
        views.incident_acknowledge,
        name="incident-acknowledge",
    ),
    path("incidents/<code:reference>/respond", views.incident_respond, name="incident-respond"),
    path("incidents/<code:reference>/close", views.incident_close, name="incident-close"),
    path("incidents/<code:reference>/dismiss", views.incident_dismiss, name="incident-dismiss"),
    path("incidents/<code:reference>/verify", views.incident_verify, name="incident-verify"),
    path("incidents/<code:reference>/relevel", views.incident_relevel, name="incident-relevel"),
    path("incidents/<code:reference>/reassign", views.incident_reassign, name="incident-reassign"),
    path("queue/", views.queue, name="queue"),
    path("alerts/new/", views.alert_new, name="alert-new"),
    path("alerts/<code:reference>/", views.alert_detail, name="alert-detail"),
    path("alerts/<code:reference>/correct", views.alert_correct, name="alert-correct"),
    path("inbound/", views.inbound, name="inbound"),
    # The outbox is messaging's page, but lives here: kiungo.messaging.urls is mounted under
    # /sms/, the gateways' own address space.
    path("outbox/", screens.outbox, name="outbox"),
]
