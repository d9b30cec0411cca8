from django.apps import AppConfig


class OcpiConfig(AppConfig):
    name = "evdms.ocpi"
    label = "ocpi"
    verbose_name = "OCPI roaming"
