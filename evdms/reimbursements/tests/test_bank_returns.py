"""The bank's return files: a pain.002 rejection or a camt.054 return fails the line it
names (by end-to-end id) exactly as the operator would by hand; reading it twice changes
nothing; a file that is not one is a clear error."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from evdms.notifications.models import OutboundEmail
from evdms.reimbursements.services.bank_returns import bank_returns_apply, parse_bank_returns

pytestmark = pytest.mark.django_db


def pain002(rows: str, group_status: str = "PART") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-05T09:00:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
   <GrpSts>{group_status}</GrpSts>
   <StsRsnInf><Rsn><Cd>FF01</Cd></Rsn><AddtlInf>invalid file format</AddtlInf></StsRsnInf>
  </OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId>{rows}</OrgnlPmtInfAndSts>
 </CstmrPmtStsRpt>
</Document>""".encode()


def rejected(end_to_end_id: str, code: str, extra: str = "") -> str:
    info = f"<AddtlInf>{extra}</AddtlInf>" if extra else ""
    return (
        f"<TxInfAndSts><OrgnlEndToEndId>{end_to_end_id}</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
        f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn>{info}</StsRsnInf></TxInfAndSts>"
    )


def accepted(end_to_end_id: str) -> str:
    return (
        f"<TxInfAndSts><OrgnlEndToEndId>{end_to_end_id}</OrgnlEndToEndId>"
        "<TxSts>ACSC</TxSts></TxInfAndSts>"
    )


def camt054(end_to_end_id: str, code: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>N1</MsgId><CreDtTm>2026-11-09T09:00:00</CreDtTm></GrpHdr>
  <Ntfctn><Id>N1</Id><Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
   <NtryDtls><TxDtls>
    <Refs><EndToEndId>{end_to_end_id}</EndToEndId></Refs>
    <RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf>
   </TxDtls></NtryDtls></Ntry></Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()


def test_a_rejection_in_a_status_report_fails_the_line_once(exported, operator):
    anna, bert = exported["anna"], exported["bert"]
    report = pain002(
        rejected(anna.end_to_end_id, "AC04")
        + accepted(bert.end_to_end_id)
        + rejected("ST-NOT-OURS", "AC01")
    )
    result = bank_returns_apply(content=report, operator=operator)
    assert (result.failed, result.unknown) == ([anna.end_to_end_id], ["ST-NOT-OURS"])
    anna.refresh_from_db()
    bert.refresh_from_db()
    assert (anna.status, anna.failure_reason) == ("failed", "AC04 closed account")
    assert bert.status == "pending"  # accepted is not yet paid: the operator marks the batch
    again = bank_returns_apply(content=report, operator=operator)
    assert (again.failed, again.already) == ([], [anna.end_to_end_id])
    assert OutboundEmail.objects.filter(template="payout_failed").count() == 1


def test_a_return_notified_later_fails_a_paid_line(exported, operator):
    from evdms.reimbursements.services.payouts import payout_batch_mark_paid

    payout_batch_mark_paid(batch=exported["batch"], operator=operator)
    bert = exported["bert"]
    result = bank_returns_apply(content=camt054(bert.end_to_end_id, "MD07"), operator=operator)
    assert result.failed == [bert.end_to_end_id]
    bert.refresh_from_db()
    assert (bert.status, bert.failure_reason) == ("failed", "MD07 end customer deceased")
    assert bert.statement.status == "failed"


def test_unknown_codes_keep_the_banks_words():
    (item,) = parse_bank_returns(pain002(rejected("E2E-1", "XX99", "account frozen")))
    assert item.reason == "XX99 account frozen"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not xml at all", "This is not an XML file"),
        (b'<?xml version="1.0" encoding="rot13"?><Document/>', "its encoding cannot be read"),
        (b'<?xml version="1.0" encoding="foo"?><Document/>', "its encoding cannot be read"),
        (b"<Document><Other/></Document>", "pain.002"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>',
            "DTD",
        ),
        (pain002("", group_status="RJCT"), "The bank rejected the whole file (FF01"),
        (
            b"<Document/>" + b" " * 6_000_000,
            "The file is 5.7 MB (6,000,011 bytes); a bank file may be at most 5 MB.",
        ),
    ],
)
def test_a_file_that_cannot_be_used_says_why(content, message):
    with pytest.raises(ValidationError, match=re.escape(message)) as error:
        parse_bank_returns(content)
    assert "file" in error.value.message_dict


def test_operators_import_by_api_and_admin(client, exported, operator):
    from io import StringIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_key", "--operator", operator.email, "--name", "bank", stdout=out)
    headers = {"Authorization": f"Bearer {out.getvalue().strip()}"}
    anna, bert = exported["anna"], exported["bert"]
    answer = client.post(
        "/api/v1/payout-returns",
        {"file": SimpleUploadedFile("sts.xml", pain002(rejected(anna.end_to_end_id, "AC04")))},
        headers=headers,
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "failed": [anna.end_to_end_id],
        "already": [],
        "unknown": [],
        "refused": [],
    }
    bad = client.post(
        "/api/v1/payout-returns", {"file": SimpleUploadedFile("x.xml", b"nope")}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "file"]

    petra = Client()
    petra.force_login(operator, backend="evdms.accounts.backends.EmailBackend")
    page = petra.post(
        reverse("admin:reimbursements_payoutbatch_returns"),
        {"file": SimpleUploadedFile("n.xml", camt054(bert.end_to_end_id, "AC06"))},
        follow=True,
    )
    assert "1 payment(s) reported failed, 0 reported before." in page.content.decode()
    bert.refresh_from_db()
    assert bert.failure_reason == "AC06 blocked account"
