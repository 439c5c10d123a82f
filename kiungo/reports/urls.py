from django.urls import path

from kiungo.reports import dashboard, views

urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/new/<str:kind>/", views.new_report, name="report-new"),
    path("reports/compliance/", dashboard.compliance_dashboard, name="reports-compliance"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/v<int:number>/", views.report_version, name="report-version"),
    path("reports/<int:pk>/edit/", views.edit_report, name="report-edit"),
    path("reports/<int:pk>/autosave/", views.autosave, name="report-autosave"),
    path("reports/<int:pk>/merge/", views.merge_report, name="report-merge"),
    path("reports/<int:pk>/review/", views.review_report, name="report-review"),
]
