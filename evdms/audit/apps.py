from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "evdms.audit"
    label = "audit"
