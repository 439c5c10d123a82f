from django.urls import path

from kiungo.network import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts.csv", views.contact_csv, name="contact-csv"),
    path("contacts/new", views.contact_new, name="contact-new"),
    path("contacts/identities", views.identity_export, name="contact-identities"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/consent", views.contact_consent, name="contact-consent"),
    path("contacts/<int:pk>/status", views.contact_status, name="contact-status"),
    path("contacts/<int:pk>/erase", views.contact_erase, name="contact-erase"),
    path("contacts/<int:pk>/reveal", views.contact_reveal, name="contact-reveal"),
    path("outreach/", views.outreach_list, name="outreach-list"),
    path("outreach/new", views.outreach_new, name="outreach-new"),
    path("broadcasts/", views.broadcast_list, name="broadcast-list"),
    path("broadcasts/new", views.broadcast_new, name="broadcast-new"),
    path("broadcasts/<int:pk>/", views.broadcast_detail, name="broadcast-detail"),
    path("broadcasts/<int:pk>/send", views.broadcast_send, name="broadcast-send"),
]
