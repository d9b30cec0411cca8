"""The EN 16931 e-invoice of an issued invoice: UN/CEFACT CII XML, the syntax Factur-X and
ZUGFeRD embed in the PDF (``invoice_pdf``), built with drafthorse.

Everything comes from the invoice as issued (its copied parties, lines and VAT
breakdown), never from the organisation as it is now, so the XML made a year later is
the XML of the day. drafthorse validates the document against the Factur-X EN 16931 XSD
it ships while serialising (``schema=SCHEMA``): an invoice the schema refuses raises
here, in the worker, instead of reaching a buyer's system.

Credit notes are type 381 with positive amounts and name the invoice they correct
(BG-3). A credited public session (a negative line on a Transactions invoice) keeps a
positive net price with a negative quantity, as EN 16931 wants (BR-27: the price is
never negative).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceVat, VatCategory

# The EN 16931 core, as Factur-X's EN 16931 level declares it (BT-24).
GUIDELINE_ID = "urn:cen.eu:en16931:2017"
SCHEMA = "FACTUR-X_EN16931"
TYPE_INVOICE = "380"  # UNTDID 1001: commercial invoice
TYPE_CREDIT_NOTE = "381"
# UNTDID 4461: SEPA credit transfer.
PAYMENT_MEANS_SEPA_CREDIT_TRANSFER = "58"

ZERO = Decimal("0.00")


def _month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _party(
    party: TradeParty, details: dict[str, str], *, fallback_country: str, vat_number: bool
) -> None:
    """Name, postal address, e-mail and VAT number of a seller or buyer (BG-4 / BG-7).
    A buyer without a billing country is addressed in the seller's country: the VAT
    rules (``vat.treatment_for``) treat it as domestic too."""
    party.name = details.get("name", "")
    address = party.address
    if details.get("address"):
        address.line_one = details["address"]
    if details.get("postcode"):
        address.postcode = details["postcode"]
    if details.get("city"):
        address.city_name = details["city"]
    address.country_id = (details.get("country") or fallback_country).upper()
    if details.get("email"):
        # BT-34 / BT-49, scheme EM: an e-mail address.
        party.electronic_address.uri_ID = ("EM", details["email"])
    if vat_number and details.get("vat_number"):
        party.tax_registrations.add(TaxRegistration(id=("VA", details["vat_number"])))


def _line_item(line: InvoiceLine) -> LineItem:
    item = LineItem()
    item.document.line_id = str(line.position)
    item.product.name = line.description
    quantity, price = line.quantity, line.unit_price
    if price < 0:  # BR-27: the net price is never negative; the quantity carries the sign
        quantity, price = -quantity, -price
    item.agreement.net.amount = price
    item.delivery.billed_quantity = (quantity, line.unit)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = line.vat_category
    if line.vat_category != VatCategory.OUT_OF_SCOPE:  # BR-O-5: no rate on an O line
        item.settlement.trade_tax.rate_applicable_percent = line.vat_rate
    item.settlement.monetary_summation.total_amount = line.net_amount
    return item


def _trade_tax(row: InvoiceVat) -> ApplicableTradeTax:
    tax = ApplicableTradeTax()
    tax.calculated_amount = row.amount
    tax.type_code = "VAT"
    tax.basis_amount = row.basis
    tax.category_code = row.category
    if row.category != VatCategory.STANDARD:
        # BR-AE-10, BR-E-10, BR-O-10: a reason (text or code) is required.
        tax.exemption_reason = row.exemption_reason or row.get_category_display()
        if row.exemption_code:
            tax.exemption_reason_code = row.exemption_code
    if row.category != VatCategory.OUT_OF_SCOPE:  # BR-O-9: no rate in an O breakdown
        tax.rate_applicable_percent = row.rate
    return tax


def invoice_xml(
    invoice: Invoice,
    lines: Sequence[InvoiceLine] | None = None,
    vat_lines: Sequence[InvoiceVat] | None = None,
) -> bytes:
    """The CII XML (UTF-8 bytes) of an issued invoice or credit note, schema-checked.
    ``lines``, ``vat_lines``: the invoice's rows when the caller has read them already
    (the PDF)."""
    seller, buyer = invoice.seller, invoice.buyer_details
    credit_note = invoice.kind == InvoiceKind.CREDIT_NOTE

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE_ID
    doc.header.id = invoice.number
    doc.header.type_code = TYPE_CREDIT_NOTE if credit_note else TYPE_INVOICE
    doc.header.issue_date_time = invoice.issue_date

    agreement = doc.trade.agreement
    purchase_order = buyer.get("purchase_order_reference", "")
    if purchase_order:
        agreement.buyer_reference = purchase_order  # BT-10
        agreement.buyer_order.issuer_assigned_id = purchase_order  # BT-13
    lines = list(invoice.lines.all()) if lines is None else lines
    # BR-O-2: an invoice with "not subject to VAT" lines (a buyer outside the EU) names
    # no VAT identifier, the seller's nor the buyer's. BR-CO-26 still wants the seller
    # identified: its VAT number then serves as the seller identifier (BT-29), the one
    # identifier the platform's settings hold.
    out_of_scope = any(line.vat_category == VatCategory.OUT_OF_SCOPE for line in lines)
    if out_of_scope and seller.get("vat_number"):
        agreement.seller.id = seller["vat_number"]
    _party(
        agreement.seller, seller, fallback_country=seller["country"], vat_number=not out_of_scope
    )
    _party(agreement.buyer, buyer, fallback_country=seller["country"], vat_number=not out_of_scope)

    for line in lines:
        doc.trade.items.add(_line_item(line))

    settlement = doc.trade.settlement
    settlement.payment_reference = invoice.payment_reference  # BT-83: the RF reference
    settlement.currency_code = invoice.currency
    means = PaymentMeans()
    means.type_code = PAYMENT_MEANS_SEPA_CREDIT_TRANSFER
    means.payee_account.iban = seller["iban"]
    if seller.get("bic"):
        means.payee_institution.bic = seller["bic"]
    settlement.payment_means.add(means)
    for row in invoice.vat_lines.all() if vat_lines is None else vat_lines:
        settlement.trade_tax.add(_trade_tax(row))
    # BG-14: the month invoiced.
    settlement.period.start = invoice.month
    settlement.period.end = _month_end(invoice.month)
    terms = PaymentTerms()
    # In the language of the invoice's lines (the buyer organisation's, see
    # render_invoice_pdf): one document in one language.
    terms.description = (
        _("Credit note correcting invoice %(number)s") % {"number": invoice.credits.number}
        if credit_note and invoice.credits is not None
        else _("Payable by %(date)s, quoting %(reference)s")
        % {
            "date": date_format(invoice.due_date, "DATE_FORMAT"),
            "reference": invoice.payment_reference,
        }
    )
    terms.due = invoice.due_date
    settlement.terms.add(terms)

    totals = settlement.monetary_summation
    totals.line_total = invoice.total_excl_vat
    totals.charge_total = ZERO
    totals.allowance_total = ZERO
    totals.tax_basis_total = invoice.total_excl_vat
    totals.tax_total = (invoice.total_vat, invoice.currency)
    totals.grand_total = invoice.total_incl_vat
    totals.due_amount = invoice.total_incl_vat

    if credit_note and invoice.credits is not None:
        # BG-3: the invoice this credit note corrects.
        reference = settlement.invoice_referenced_document
        reference.issuer_assigned_id = invoice.credits.number
        reference.issue_date_time = invoice.credits.issue_date

    return bytes(doc.serialize(schema=SCHEMA))
