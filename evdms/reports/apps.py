from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "evdms.reports"
    label = "reports"
