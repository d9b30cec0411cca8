"""Background work of invoicing, run by the worker (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from evdms.invoicing.delivery import invoice_send


@task()
def invoice_deliver(*, invoice_id: int) -> bool:
    """E-mail one issued invoice to its buyer, once (``delivery.invoice_send``): a retried
    or duplicated task finds it claimed and sends nothing."""
    return invoice_send(invoice_id)
