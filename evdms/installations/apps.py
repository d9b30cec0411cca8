from django.apps import AppConfig


class InstallationsConfig(AppConfig):
    name = "evdms.installations"
    label = "installations"
    verbose_name = "Installations"

    def ready(self) -> None:
        # Enrolment and charging never import installations: they send signals, and the
        # jobs follow from here.
        from evdms.charging.signals import charger_booted
        from evdms.enrolment.signals import membership_connected, membership_ended, membership_moved
        from evdms.installations.services import jobs

        membership_connected.connect(jobs.on_membership_connected, dispatch_uid="installation_job")
        membership_ended.connect(jobs.on_membership_ended, dispatch_uid="installation_job_end")
        membership_moved.connect(jobs.on_membership_moved, dispatch_uid="installation_job_move")
        charger_booted.connect(jobs.on_charger_booted, dispatch_uid="installation_commission")
