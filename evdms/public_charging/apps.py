from django.apps import AppConfig


class PublicChargingConfig(AppConfig):
    name = "evdms.public_charging"
    label = "public_charging"
    verbose_name = "Public charging"
