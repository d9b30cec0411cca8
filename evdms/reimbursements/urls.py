from django.urls import path

from evdms.reimbursements import views

app_name = "reimbursements"

urlpatterns = [
    path("my/reimbursement/", views.my_reimbursement, name="mine"),
    path("my/reimbursement/bank-account/", views.bank_account, name="bank_account"),
    path("my/reimbursement/home-price/", views.home_price, name="home_price"),
    path(
        "my/reimbursement/statements/<int:statement_id>.pdf",
        views.statement_download,
        name="statement_pdf",
    ),
    path("statements/", views.statements, name="statements"),
    path("statements/<int:statement_id>/", views.statement_detail, name="statement_detail"),
    path(
        "statements/<int:statement_id>.pdf",
        views.statement_pdf_for_organisation,
        name="statement_pdf_for_organisation",
    ),
]
