"""Tenant-scoped look-ups of the platform's invoices to organisations.

An organisation sees an invoice when it is the buyer (the invoice is addressed to it,
also for a customer that named it as payer) or when the charges are its own (a customer
whose lease company pays still sees what it was charged). Only roles with
``VIEW_INVOICES`` see any; for everyone else, and for another organisation's invoice,
a look-up answers 404 exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.permissions import Actor, Permission
from evdms.invoicing.models import Invoice


def invoices_of(actor: Actor) -> QuerySet[Invoice]:
    # Not through a grant's reach (evdms.accounts.scope): a grant lets a lease company
    # manage a customer's drivers, not read the customer's bills; an invoice reaches the
    # lease company only when it is addressed to it (the customer named it as payer).
    # An invoice covers every connection of the organisation: an admin limited to chosen
    # connections does not see it.
    if not actor.can(Permission.VIEW_INVOICES) or actor.limited:
        return Invoice.objects.none()
    own = actor.organisation.pk
    # The rendered PDF stays in the database until a download asks for it.
    return Invoice.objects.filter(Q(buyer_id=own) | Q(organisation_id=own)).defer("pdf")


def get_invoice_for(actor: Actor, invoice_id: int) -> Invoice:
    return get_object_or_404(
        invoices_of(actor).select_related("organisation", "buyer", "driver", "credits"),
        pk=invoice_id,
    )
