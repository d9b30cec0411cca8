from django.apps import AppConfig


class ReimbursementsConfig(AppConfig):
    name = "evdms.reimbursements"
    label = "reimbursements"
