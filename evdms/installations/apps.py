from django.apps import AppConfig


class InstallationsConfig(AppConfig):
    name = "evdms.installations"
    label = "installations"
    verbose_name = "Installations"
