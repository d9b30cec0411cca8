"""The organisation's billing details over the API: ``/api/v1/organisation/billing``.

Read by whoever reads the invoices (Network Manager, Analyst); changed only by the
Network Manager's role. Always the key's own organisation: there is no id to guess.
"""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from evdms.accounts.models import Organisation
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.services.billing import billing_details_update, payer_candidates
from evdms.ui.api import requires
from evdms.ui.http import ApiRequest

router = Router(tags=["organisation"])


class PayerOut(Schema):
    id: int
    name: str


class BillingOut(Schema):
    billing_name: str
    billing_address: str
    billing_postcode: str
    billing_city: str
    billing_country: str  # ISO 3166-1 alpha-2, or blank
    vat_number: str  # compact, with its country prefix, or blank
    accounts_payable_email: str
    purchase_order_reference: str
    # Who the invoices are addressed to; null: the organisation itself (also once its
    # grant to the payer it named is revoked).
    invoice_payer: PayerOut | None
    # Whom ``invoice_payer`` may name: the organisations yours granted rights to.
    payer_choices: list[PayerOut]


class BillingPatchIn(Schema):
    """Only the fields sent change. Loosely typed on purpose: the service checks every
    value with the same rules and messages as the Settings page. ``null`` clears a text
    field; ``invoice_payer: null`` has your organisation invoiced itself."""

    billing_name: str | None = None
    billing_address: str | None = None
    billing_postcode: str | None = None
    billing_city: str | None = None
    billing_country: str | None = None
    vat_number: str | None = None
    accounts_payable_email: str | None = None
    purchase_order_reference: str | None = None
    invoice_payer: int | None = None


def _out(organisation: Organisation) -> dict[str, Any]:
    candidates = list(payer_candidates(organisation).only("name"))
    # The payer in effect: a payer whose grant was revoked since no longer receives the
    # invoices (``invoicing.services.issue.buyer_of``), so it is not shown as one.
    payer = next((o for o in candidates if o.pk == organisation.invoice_payer_id), None)
    return {
        "billing_name": organisation.billing_name,
        "billing_address": organisation.billing_address,
        "billing_postcode": organisation.billing_postcode,
        "billing_city": organisation.billing_city,
        "billing_country": organisation.billing_country,
        "vat_number": organisation.vat_number,
        "accounts_payable_email": organisation.accounts_payable_email,
        "purchase_order_reference": organisation.purchase_order_reference,
        "invoice_payer": {"id": payer.pk, "name": payer.name} if payer else None,
        "payer_choices": [{"id": o.pk, "name": o.name} for o in candidates],
    }


def _fresh(actor: Actor) -> Organisation:
    # The key's organisation was read when the key was checked; read it again so the
    # answer is what is stored now.
    return Organisation.objects.get(pk=actor.organisation.pk)


@router.get("/organisation/billing", response=BillingOut, auth=requires(Permission.VIEW_INVOICES))
def billing_read(request: ApiRequest) -> dict[str, Any]:
    """Your organisation's billing details, as the next invoices will carry them."""
    return _out(_fresh(request.auth))


@router.patch(
    "/organisation/billing", response=BillingOut, auth=requires(Permission.MANAGE_SETTINGS)
)
def billing_update(request: ApiRequest, payload: BillingPatchIn) -> dict[str, Any]:
    """Change the fields sent (422 with a message per wrong field; then nothing changes)."""
    actor: Actor = request.auth
    billing_details_update(
        actor=actor, organisation=actor.organisation, **payload.model_dump(exclude_unset=True)
    )
    return _out(_fresh(actor))
