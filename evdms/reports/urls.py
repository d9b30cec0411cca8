from django.urls import path

from evdms.reports import views

app_name = "reports"

urlpatterns = [
    path("reports/transactions/", views.transactions, name="transactions"),
    path("reports/transactions/export/", views.transactions_export, name="transactions_export"),
    path("reports/exports/<int:export_id>/", views.export_status, name="export_status"),
    path("reports/exports/<int:export_id>/file/", views.export_file, name="export_file"),
]
