"""The SEPA file read back as XML: count, control sum, each IBAN and amount, unique ids."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from evdms.reimbursements.sepa import Payment, credit_transfer_xml, to_cents

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}

PAYMENTS = [
    Payment(
        "STMT-1-2026-10",
        "Anna de Vries",
        "NL91ABNA0417164300",
        "ABNANL2A",
        Decimal("12.34"),
        "Home charging October 2026",
    ),
    Payment(
        "STMT-2-2026-10",
        "Jürgen Müller",
        "DE89370400440532013000",
        "",
        Decimal("0.01"),
        "Home charging October 2026",
    ),
    Payment(
        "STMT-3-2026-10",
        "Chloé Dupont",
        "FR1420041010050500013M02606",
        "",
        Decimal("1000.00"),
        "Home charging October 2026",
    ),
]


def text(element: ET.Element | None, path: str) -> str:
    assert element is not None
    found = element.findtext(path, namespaces=NS)
    assert found is not None, path
    return found


def test_the_file_pays_each_statement_once_and_adds_up():
    xml, message_id = credit_transfer_xml(payments=PAYMENTS, execution_date=date(2026, 11, 5))
    root = ET.fromstring(xml)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert text(header, "p:MsgId") == message_id
    assert text(header, "p:NbOfTxs") == "3"
    assert Decimal(text(header, "p:CtrlSum")) == Decimal("1012.35")
    assert text(root, ".//p:PmtInf/p:DbtrAcct/p:Id/p:IBAN") == "NL91ABNA0417164300"
    transactions = root.findall(".//p:CdtTrfTxInf", NS)
    read = [
        (
            text(t, "p:PmtId/p:EndToEndId"),
            text(t, "p:CdtrAcct/p:Id/p:IBAN"),
            Decimal(text(t, "p:Amt/p:InstdAmt")),
        )
        for t in transactions
    ]
    assert read == [(p.end_to_end_id, p.iban, p.amount) for p in PAYMENTS]
    assert len({r[0] for r in read}) == 3
    # Names are transliterated to the SEPA character set.
    assert text(transactions[1], "p:Cdtr/p:Nm") == "Jurgen Muller"


def test_amounts_must_be_whole_cents():
    assert to_cents(Decimal("12.34")) == 1234
    with pytest.raises(ValueError, match="whole number of cents"):
        to_cents(Decimal("0.005"))


def test_only_euro_can_be_paid_by_sepa():
    with pytest.raises(ValueError, match="euro"):
        credit_transfer_xml(payments=PAYMENTS, execution_date=date(2026, 11, 5), currency="GBP")
