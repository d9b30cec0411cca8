from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _monthly_figures(using: str = "default", **kwargs: Any) -> None:
    # After every migrate: a migration that remakes the sessions or statements table
    # (SQLite) drops its triggers, and a changed time zone needs new ones (monthly.py).
    from evdms.reports import monthly

    monthly.install(connections[using])


class ReportsConfig(AppConfig):
    name = "evdms.reports"
    label = "reports"

    def ready(self) -> None:
        post_migrate.connect(_monthly_figures, sender=self, dispatch_uid="monthly_figures")
