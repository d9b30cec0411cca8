from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "evdms.invoicing"
    label = "invoicing"
