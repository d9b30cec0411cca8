from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "evdms.ui"
    label = "ui"
