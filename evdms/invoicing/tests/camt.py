"""A realistic camt.054.001.02 credit notification, made to measure for a test."""

from __future__ import annotations

UNKNOWN_RF = "RF18539007547034"  # a valid ISO 11649 reference, of no invoice of ours


def entry(
    amount: str,
    reference: str = "",
    *,
    bank_ref: str,
    direction: str = "CRDT",
    status: str = "BOOK",
    free_text: str = "",
    currency: str = "EUR",
) -> str:
    remittance = (
        f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
        f"<Ref>{reference}</Ref></CdtrRefInf></Strd>"
        if reference
        else f"<Ustrd>{free_text}</Ustrd>"
    )
    return f"""
      <Ntry>
        <NtryRef>{bank_ref}</NtryRef>
        <Amt Ccy="{currency}">{amount}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd>
        <Sts>{status}</Sts>
        <BookgDt><Dt>2026-11-03</Dt></BookgDt>
        <ValDt><Dt>2026-11-03</Dt></ValDt>
        <AcctSvcrRef>{bank_ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
        </Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <AcctSvcrRef>{bank_ref}-1</AcctSvcrRef>
              <EndToEndId>NOTPROVIDED</EndToEndId>
            </Refs>
            <AmtDtls><TxAmt><Amt Ccy="{currency}">{amount}</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr><Nm>Acme B.V.</Nm></Dbtr>
              <DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct>
            </RltdPties>
            <RmtInf>{remittance}</RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>"""


def camt054(*entries: str) -> bytes:
    """A camt.054.001.02 credit notification as a Dutch bank sends it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>CAMT054-20261103-0001</MsgId>
      <CreDtTm>2026-11-03T18:00:00+01:00</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>NTF-20261103-0001</Id>
      <CreDtTm>2026-11-03T18:00:00+01:00</CreDtTm>
      <Acct>
        <Id><IBAN>NL91ABNA0417164300</IBAN></Id>
        <Ccy>EUR</Ccy>
      </Acct>{"".join(entries)}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()
