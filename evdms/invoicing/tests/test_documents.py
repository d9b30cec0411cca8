"""The invoice's documents: the PDF a finance department reads, the EN 16931 e-invoice
embedded in it (Factur-X, schema-valid), and the CSV of the lines."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import drafthorse
import facturx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree
from pypdf import PdfReader

from evdms.accounts.models import User
from evdms.invoicing import documents
from evdms.invoicing.documents import invoice_lines_csv, invoice_pdf
from evdms.invoicing.einvoice import invoice_xml
from evdms.invoicing.models import Invoice, InvoiceKind, LineSource
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.invoicing.tests.documents_fixtures import (
    MONTH,
    billed_organisation,
    credit_note,
    services_invoice,
    transactions_invoice,
)

pytestmark = pytest.mark.django_db

XSD = Path(drafthorse.__file__).parent / "schema" / "Factur-X_1.0.07_EN16931.xsd"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def schema_valid(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    schema = etree.XMLSchema(file=str(XSD))
    assert schema.validate(root), schema.error_log
    return root


def xpath(root: etree._Element, path: str) -> list[str]:
    found = root.xpath(path, namespaces=NS)
    return [item if isinstance(item, str) else (item.text or "") for item in found]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def embedded(data: bytes) -> etree._Element:
    filename, xml = facturx.get_facturx_xml_from_pdf(data, check_xsd=False)
    assert filename == "factur-x.xml"
    return schema_valid(xml)


def test_the_e_invoice_of_a_services_invoice_is_en16931_and_says_what_the_invoice_says():
    invoice = services_invoice(billed_organisation())
    root = schema_valid(invoice_xml(invoice))
    assert facturx.get_level(root) == "en16931"
    h = "/rsm:CrossIndustryInvoice"
    agreement = f"{h}/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    settlement = f"{h}/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    assert xpath(root, f"{h}/rsm:ExchangedDocument/ram:ID") == ["SRV-2026-000001"]
    assert xpath(root, f"{h}/rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert xpath(root, f"{h}/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == [
        "20261201"
    ]
    assert xpath(root, f"{agreement}/ram:SellerTradeParty/ram:Name") == ["evdms Platform B.V."]
    assert xpath(root, f"{agreement}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        "NL004495445B01"
    ]
    buyer = f"{agreement}/ram:BuyerTradeParty"
    assert xpath(root, f"{buyer}/ram:Name") == ["Acme Leasing B.V."]
    assert xpath(root, f"{buyer}/ram:PostalTradeAddress/ram:CityName") == ["Utrecht"]
    assert xpath(root, f"{buyer}/ram:PostalTradeAddress/ram:CountryID") == ["NL"]
    assert xpath(root, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == ["VA"]
    assert xpath(root, f"{agreement}/ram:BuyerReference") == ["PO-4711"]
    assert xpath(root, f"{agreement}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == [
        "PO-4711"
    ]
    assert xpath(root, f"{settlement}/ram:InvoiceCurrencyCode") == ["EUR"]
    assert xpath(root, f"{settlement}/ram:PaymentReference") == [invoice.payment_reference]
    means = f"{settlement}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert xpath(root, f"{means}/ram:TypeCode") == ["58"]
    assert xpath(root, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == [
        invoice.seller["iban"]
    ]
    assert xpath(
        root, f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"
    ) == ["20261231"]
    items = root.xpath(
        f"{h}/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", namespaces=NS
    )
    assert len(items) == 10
    first = items[0]
    assert xpath(first, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity") == ["3.000"]
    assert xpath(first, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode") == ["MON"]
    assert xpath(
        first, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"
    ) == ["4.9500"]
    assert xpath(
        first, "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode"
    ) == ["S"]
    assert xpath(
        first, "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
    ) == ["21.00"]
    assert xpath(
        first,
        "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
    ) == ["14.85"]
    sums = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert xpath(root, f"{sums}/ram:LineTotalAmount") == ["148.50"]
    assert xpath(root, f"{sums}/ram:TaxTotalAmount") == [str(invoice.total_vat)]
    assert xpath(root, f"{sums}/ram:TaxTotalAmount/@currencyID") == ["EUR"]
    assert xpath(root, f"{sums}/ram:GrandTotalAmount") == [str(invoice.total_incl_vat)]
    assert invoice.total_incl_vat == Decimal("179.69")  # 148.50 + 31.185 → 31.19


def test_the_transactions_e_invoice_has_the_exempt_breakdown_and_a_credit_with_a_positive_price():
    invoice = transactions_invoice(billed_organisation())
    root = schema_valid(invoice_xml(invoice))
    taxes = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
    )
    assert [xpath(t, "ram:CategoryCode")[0] for t in taxes] == ["E", "S"]
    exempt, standard = taxes
    assert xpath(exempt, "ram:BasisAmount") == ["12.34"]
    assert xpath(exempt, "ram:ExemptionReasonCode") == ["VATEX-EU-79-C"]
    assert "art. 79(c)" in xpath(exempt, "ram:ExemptionReason")[0]
    assert xpath(standard, "ram:BasisAmount") == ["13.12"]  # 7.81 + 7.81 - 2.50
    credited = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)[2]
    assert xpath(credited, ".//ram:ChargeAmount") == ["2.5000"]
    assert xpath(credited, ".//ram:BilledQuantity") == ["-1.000"]
    assert xpath(credited, ".//ram:LineTotalAmount") == ["-2.50"]


def test_reverse_charge_and_out_of_scope_carry_their_reasons():
    belgian = billed_organisation("be", country="BE", vat_number="BE0403170701")
    root = schema_valid(invoice_xml(services_invoice(belgian, lines=1)))
    assert xpath(
        root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode"
    ) == ["AE"]
    assert xpath(
        root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReasonCode"
    ) == ["VATEX-EU-AE"]
    swiss = billed_organisation("ch", country="CH", vat_number="")
    root = schema_valid(invoice_xml(services_invoice(swiss, lines=1)))
    tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath(root, f"{tax}/ram:CategoryCode") == ["O"]
    assert xpath(root, f"{tax}/ram:RateApplicablePercent") == []  # BR-O-9
    # BR-O-2: no VAT identifier on such an invoice; BR-CO-26: the seller identified.
    assert xpath(root, "//ram:SpecifiedTaxRegistration/ram:ID") == []
    assert xpath(root, "//ram:SellerTradeParty/ram:ID") == ["NL004495445B01"]


def test_a_credit_note_is_type_381_and_names_the_invoice_it_corrects():
    invoice = services_invoice(billed_organisation())
    credit = credit_note(invoice)
    root = schema_valid(invoice_xml(credit))
    assert xpath(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert xpath(root, "//rsm:ExchangedDocument/ram:ID") == ["CRN-2026-000001"]
    assert xpath(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [
        "SRV-2026-000001"
    ]
    assert xpath(root, "//ram:GrandTotalAmount") == ["5.99"]  # 4.95 + 1.04 VAT

    text = pdf_text(invoice_pdf(credit))
    assert "Credit note" in text
    assert "Corrects invoice SRV-2026-000001\nInvoice issued 1 December 2026" in text
    assert "Driver left in October" in text
    assert "Nothing to pay" in text
    assert "Total credited €5.99" in text


def test_the_pdf_reads_like_an_invoice_and_embeds_its_e_invoice_as_pdfa3():
    invoice = services_invoice(billed_organisation())
    data = invoice_pdf(invoice)
    text = pdf_text(data)
    for expected in [
        "evdms Platform B.V.",
        "Services invoice",
        "Bill to",
        "Acme Leasing B.V.",
        "Kerkstraat 12",
        "3511 AB Utrecht",
        "VAT number NL004495445B01",
        "Invoice number SRV-2026-000001",
        "Issue date 1 December 2026",
        "Due date 31 December 2026",
        "Month invoiced November 2026",
        "Purchase order PO-4711",
        "Zoë's team",  # accents in the embedded font
        "Standard rate 21%",
        "Total excl. VAT €148.50",
        "Total to pay €179.69",
        "NL91 ABNA 0417 1643 00",
        f"Payment reference {invoice.payment_reference}",
    ]:
        assert expected in text, expected
    root = embedded(data)
    assert facturx.get_level(root) == "en16931"
    assert xpath(root, "//rsm:ExchangedDocument/ram:ID") == [invoice.number]
    reader = PdfReader(io.BytesIO(data))
    xmp = reader.xmp_metadata
    assert xmp is not None
    metadata = xmp.stream.get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata  # PDF/A-3…
    assert b"<pdfaid:conformance>B</pdfaid:conformance>" in metadata  # …B
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in metadata
    catalogue: Any = reader.trailer["/Root"]
    intent = catalogue["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"  # the colour profile PDF/A requires
    attached = catalogue["/AF"][0].get_object()
    assert (attached["/F"], attached["/AFRelationship"]) == ("factur-x.xml", "/Data")
    resources: Any = reader.pages[0]["/Resources"]
    for font in resources["/Font"].values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"]  # every font embedded


def test_a_reverse_charge_invoice_says_so_with_the_customers_vat_number():
    belgian = billed_organisation("be", country="BE", vat_number="BE0403170701")
    text = pdf_text(invoice_pdf(services_invoice(belgian, lines=1)))
    assert "Reverse charge (AE)" in text
    assert "AE: Reverse charge: VAT to be accounted for by the recipient (VATEX-EU-AE)" in text
    assert "Customer's VAT number: BE0403170701" in text


def test_a_long_transactions_invoice_runs_over_pages_with_its_headings_repeated():
    invoice = transactions_invoice(billed_organisation(), sessions=150)
    reader = PdfReader(io.BytesIO(invoice_pdf(invoice)))
    assert len(reader.pages) >= 3
    last = reader.pages[-1].extract_text()
    second = reader.pages[1].extract_text()
    assert "Unit price" in second  # the headings again
    assert f"{invoice.number} · page 2 of {len(reader.pages)}" in second
    assert "Public charging session 150" in "".join(p.extract_text() for p in reader.pages)
    assert "Total to pay" in last
    first = reader.pages[0].extract_text()
    # A description too long for its column wraps onto a second line of the same row.
    assert (
        "2 Public charging session 2, Fastned Utrecht Centrum,\n"
        "Croeselaan 28, charger NL*FAS*E1234*2" in first
    )
    assert "E: Disbursement: paid in the name and for the account of the customer" in last


def test_the_pdf_is_rendered_once_and_downloads_give_the_same_bytes(django_assert_num_queries):
    invoice = services_invoice(billed_organisation())
    first = invoice_pdf(invoice)
    stored = Invoice.objects.get(pk=invoice.pk).pdf
    assert stored is not None and bytes(stored) == first
    again = Invoice.objects.get(pk=invoice.pk)
    with django_assert_num_queries(1):  # read back, not rendered again
        assert invoice_pdf(again) == first


def test_a_render_that_loses_the_race_returns_the_stored_document(monkeypatch):
    invoice = services_invoice(billed_organisation())
    real = documents.render_invoice_pdf

    def render_while_another_worker_stores(inv: Invoice) -> bytes:
        mine = real(inv)
        Invoice.objects.filter(pk=inv.pk).update(pdf=b"%PDF- the other worker's")
        return mine

    monkeypatch.setattr(documents, "render_invoice_pdf", render_while_another_worker_stores)
    assert invoice_pdf(invoice) == b"%PDF- the other worker's"
    stored = Invoice.objects.get(pk=invoice.pk).pdf
    assert stored is not None and bytes(stored) == b"%PDF- the other worker's"


def test_the_lines_csv_lists_every_session_with_a_formula_neutralised():
    invoice = transactions_invoice(
        billed_organisation(), driver_name='=HYPERLINK("http://x","Anna")'
    )
    text = invoice_lines_csv(invoice)
    assert text.startswith("\ufeff")
    header, *rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    assert header[:7] == [
        "Line",
        "Date (local time)",
        "Driver",
        "Verification 1",
        "Verification 2",
        "Customer ID",
        "Location or charger",
    ]
    assert len(rows) == 4
    first = dict(zip(header, rows[0], strict=True))
    assert first["Date (local time)"] == "2026-11-04 00:30"  # 23:30 UTC, in Amsterdam
    assert first["Driver"] == '\'=HYPERLINK("http://x","Anna")'
    assert first["Verification 2"] == "'+31 6 1234"
    assert first["Customer ID"] == "EMP-0099"
    assert first["Location or charger"] == "Fastned Utrecht Centrum"
    assert first["kWh"] == "23.456"
    assert first["Amount excl. VAT"] == "7.81"
    assert (first["VAT category"], first["VAT rate"]) == ("S", "21.00")
    credit = dict(zip(header, rows[2], strict=True))
    assert credit["Amount excl. VAT"] == "-2.50"  # a number stays a number
    assert credit["kWh"] == "-1.000"
    home = dict(zip(header, rows[3], strict=True))
    assert (home["Amount excl. VAT"], home["VAT category"], home["VAT rate"]) == (
        "12.34",
        "E",
        "0.00",
    )
    assert sum(Decimal(r[header.index("Amount excl. VAT")]) for r in rows) == invoice.total_excl_vat


def test_a_bundle_invoice_names_its_driver():
    org = billed_organisation()
    dan = User.objects.create_user(
        "dan@example.com", "dan's long passphrase", full_name="Dan Driver"
    )
    invoice = invoice_issue(
        organisation=org,
        kind=InvoiceKind.BUNDLE,
        month=MONTH,
        driver=dan,
        lines=[
            DraftLine(
                source=LineSource.INSTALLATION,
                description="Home charger and its installation",
                quantity=Decimal("1"),
                unit_price=Decimal("1249.00"),
            )
        ],
    )
    text = pdf_text(invoice_pdf(invoice))
    assert "Bundle invoice" in text
    assert "Driver Dan Driver" in text
    assert "Total to pay €1,511.29" in text  # 1,249.00 + 21% VAT (262.29)


def test_the_documents_read_a_fixed_number_of_rows_whatever_the_line_count():

    counts = []
    for slug, sessions in [("small", 1), ("large", 60)]:
        invoice = transactions_invoice(billed_organisation(slug), sessions=sessions)
        invoice = Invoice.objects.get(pk=invoice.pk)
        with CaptureQueriesContext(connection) as queries:
            invoice_pdf(invoice)
            invoice_lines_csv(invoice)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 6  # stored PDF?, lines, VAT rows, store, the CSV's lines


def test_an_e_invoice_the_schema_refuses_is_never_made():
    """drafthorse checks the XML against the EN 16931 XSD while serialising: an invoice
    without lines (EN 16931 wants at least one, BG-25) raises instead of going out."""
    org = billed_organisation()
    empty = invoice_issue(organisation=org, kind=InvoiceKind.SERVICES, month=MONTH, lines=[])
    with pytest.raises(etree.XMLSyntaxError, match="IncludedSupplyChainTradeLineItem"):
        invoice_xml(empty)
    with pytest.raises(etree.XMLSyntaxError):
        invoice_pdf(empty)
    empty.refresh_from_db()
    assert empty.pdf is None  # nothing stored
