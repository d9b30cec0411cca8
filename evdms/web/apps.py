from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "evdms.web"
    label = "web"
