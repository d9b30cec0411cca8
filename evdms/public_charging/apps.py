from django.apps import AppConfig


class PublicChargingConfig(AppConfig):
    name = "evdms.public_charging"
    label = "public_charging"
    verbose_name = "Public charging"

    def ready(self) -> None:
        # Enrolment and connections never import public charging: they send signals, and
        # the tokens follow from here.
        from evdms.connections.signals import connection_changed
        from evdms.enrolment.signals import membership_connected, membership_ended, membership_moved
        from evdms.public_charging import receivers

        membership_connected.connect(receivers.on_membership_connected, dispatch_uid="tokens_on")
        membership_ended.connect(receivers.on_membership_ended, dispatch_uid="tokens_end")
        membership_moved.connect(receivers.on_membership_moved, dispatch_uid="tokens_move")
        connection_changed.connect(receivers.on_connection_changed, dispatch_uid="tokens_conn")
