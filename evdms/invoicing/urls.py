"""The organisation's invoice pages."""

from __future__ import annotations

from django.urls import path

from evdms.invoicing import views

app_name = "invoicing"

urlpatterns = [
    path("invoices/", views.invoices, name="list"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="detail"),
    path("invoices/<int:invoice_id>/pdf", views.invoice_pdf, name="pdf"),
    path("invoices/<int:invoice_id>/lines.csv", views.invoice_lines_csv, name="lines_csv"),
]
