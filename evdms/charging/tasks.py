"""Background work of charging: the daily purge of old protocol issues."""

from __future__ import annotations

from django_tasks import task

from evdms.charging.services.protocol_issues import protocol_issues_purge


@task()
def purge_protocol_issues() -> int:
    """Delete protocol issues past their keeping time; safe to run any number of times."""
    return protocol_issues_purge()
