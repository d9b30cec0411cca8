from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "evdms.charging"
    label = "charging"
