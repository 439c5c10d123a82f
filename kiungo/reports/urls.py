from django.urls import path

from kiungo.reports import consolidated_views, dashboard, search_views, views

urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/new/<str:kind>/", views.new_report, name="report-new"),
    path("reports/compliance/", dashboard.compliance_dashboard, name="reports-compliance"),
    path(
        "reports/consolidated/", consolidated_views.consolidated_report, name="reports-consolidated"
    ),
    path(
        "reports/consolidated/pdf/",
        consolidated_views.consolidated_pdf,
        name="reports-consolidated-pdf",
    ),
    path(
        "reports/consolidated/docx/",
        consolidated_views.consolidated_docx,
        name="reports-consolidated-docx",
    ),
    path(
        "reports/consolidated/summary/",
        consolidated_views.consolidated_summary,
        name="reports-consolidated-summary",
    ),
    path(
        "reports/consolidated/send/",
        consolidated_views.consolidated_send,
        name="reports-consolidated-send",
    ),
    path("search/", search_views.search_page, name="search"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/v<int:number>/", views.report_version, name="report-version"),
    path("reports/<int:pk>/edit/", views.edit_report, name="report-edit"),
    path("reports/<int:pk>/autosave/", views.autosave, name="report-autosave"),
    path("reports/<int:pk>/merge/", views.merge_report, name="report-merge"),
    path("reports/<int:pk>/review/", views.review_report, name="report-review"),
]
