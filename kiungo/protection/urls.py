from django.urls import path

from kiungo.protection import views

urlpatterns = [
    path("protection/committees/", views.committee_list, name="committees"),
    path("protection/committees/new/", views.committee_new, name="committee-new"),
    path("protection/committees/<int:pk>/", views.committee_detail, name="committee-detail"),
    path("protection/committees/<int:pk>/members/", views.member_add, name="member-add"),
    path(
        "protection/committees/<int:pk>/members/<int:member>/leave/",
        views.member_leave,
        name="member-leave",
    ),
    path("protection/committees/<int:pk>/meetings/", views.meeting_add, name="meeting-add"),
    path("protection/committees/<int:pk>/trainings/", views.training_add, name="training-add"),
    path("protection/committees/<int:pk>/plans/", views.plan_start, name="plan-start"),
    path("protection/plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("protection/plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("protection/plans/<int:pk>/threats/", views.threat_add, name="threat-add"),
    path("protection/plans/<int:pk>/measures/", views.measure_add, name="measure-add"),
    path(
        "protection/plans/<int:pk>/<str:kind>/<int:item>/remove/",
        views.plan_item_remove,
        name="plan-item-remove",
    ),
    path(
        "protection/plans/<int:pk>/measures/<int:item>/status/",
        views.measure_status,
        name="measure-status",
    ),
    path("protection/plans/<int:pk>/activate/", views.plan_activate, name="plan-activate"),
    path("protection/plans/<int:pk>/revise/", views.plan_revise, name="plan-revise"),
    path("protection/plans/<int:pk>/plan.pdf", views.plan_pdf, name="plan-pdf"),
    path("protection/plans/<int:pk>/plan.docx", views.plan_docx, name="plan-docx"),
    path("protection/requests/", views.plan_requests, name="plan-requests"),
    path("protection/requests/<int:pk>/", views.plan_request_detail, name="plan-request"),
    path(
        "protection/requests/<int:pk>/answer/",
        views.plan_request_answer,
        name="plan-request-answer",
    ),
    path("protection/visits/", views.visit_list, name="visits"),
    path("protection/visits/new/", views.visit_new, name="visit-new"),
    path("protection/visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("protection/visits/<int:pk>/actions/", views.action_add, name="action-add"),
    path(
        "protection/visits/<int:pk>/actions/<int:action>/status/",
        views.action_status,
        name="action-status",
    ),
]
