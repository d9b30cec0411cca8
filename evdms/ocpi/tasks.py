"""Background work of OCPI: sending token pushes to partners (``evdms.ocpi.pushes``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from evdms.ocpi import pushes


@task()
def ocpi_token_pushes_send(*, partner_id: int) -> dict[str, Any]:
    """Send one partner's due token pushes; safe to run any number of times."""
    run = pushes.token_pushes_send(partner_id)
    result = asdict(run)
    result["retry_at"] = run.retry_at.isoformat() if run.retry_at else None
    return result


@task()
def ocpi_token_pushes_due() -> list[int]:
    """The safety net (every 10 minutes, from the scheduler): enqueue a send for each
    partner with pushes due (retries after a failure, or a lost task)."""
    return pushes.token_pushes_due()
