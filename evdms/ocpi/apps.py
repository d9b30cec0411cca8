from django.apps import AppConfig


class OcpiConfig(AppConfig):
    name = "evdms.ocpi"
    label = "ocpi"
    verbose_name = "OCPI roaming"

    def ready(self) -> None:
        # Token changes (public_charging sends them, never importing us) become pushes.
        from evdms.ocpi.pushes import on_token_changed
        from evdms.public_charging.signals import token_changed

        token_changed.connect(on_token_changed, dispatch_uid="evdms.ocpi.token_pushes")
