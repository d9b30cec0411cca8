"""The bank's word on a payout file: the payments it rejected (pain.002 status report) or
returned later (camt.054 notification), each found by the end-to-end id we gave it.

Only rejections and returns are read: a payment the bank executed needs no action
beyond marking the batch paid. Any version of either message is read (elements are
matched by local name), since banks answer in the version they support.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from evdms.accounts.models import User
from evdms.reimbursements.models import PayoutLine
from evdms.reimbursements.services.payouts import COMMON_REASONS, payout_line_fail
from evdms.ui.forms import size_text

MAX_BYTES = 5 * 1024 * 1024
# ISO 20022 reason code → our words for it ("AC04" → "AC04 closed account").
REASON_WORDS = {reason.split(" ", 1)[0]: reason for reason in COMMON_REASONS}


@dataclass(frozen=True)
class BankReturn:
    end_to_end_id: str
    reason: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, *path: str) -> ET.Element | None:
    """The first descendant along ``path`` of local names, whatever the namespace."""
    current: ET.Element | None = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if _local(c.tag) == name), None)
    return current


def _text(element: ET.Element, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _reason(info: ET.Element | None) -> str:
    """ "AC04 closed account" from a StsRsnInf / RtrInf element."""
    if info is None:
        return "returned by the bank"
    code = _text(info, "Rsn", "Cd") or _text(info, "Rsn", "Prtry")
    extra = _text(info, "AddtlInf")
    words = REASON_WORDS.get(code, " ".join(p for p in (code, extra) if p))
    return (words or "returned by the bank")[:140]


def check_size(size: int) -> None:
    """Refuse a file over ``MAX_BYTES``, saying how large it is (before reading it)."""
    if size > MAX_BYTES:
        raise ValidationError(
            {
                "file": [
                    _("The file is %(size)s; a bank file may be at most 5 MB.")
                    % {"size": size_text(size)}
                ]
            }
        )


def parse_bank_returns(content: bytes) -> list[BankReturn]:
    """The payments a pain.002 or camt.054 file reports rejected or returned."""
    check_size(len(content))
    # Bank files never carry a DTD; refusing one rules out entity tricks altogether.
    if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
        raise ValidationError({"file": ["This file has a DTD; bank files have none."]})
    try:
        root = ET.fromstring(content)  # noqa: S314
    except ET.ParseError as exc:
        raise ValidationError({"file": [f"This is not an XML file ({exc})."]}) from exc
    except (LookupError, ValueError) as exc:
        # The XML declaration names an encoding the parser cannot read (unknown, not a
        # text encoding, multi-byte): Python's codecs raise these, not ParseError.
        raise ValidationError(
            {"file": ["This is not an XML file: its encoding cannot be read; use UTF-8."]}
        ) from exc
    message = next(iter(root), None)
    kind = _local(message.tag) if message is not None else ""
    if message is not None and kind == "CstmrPmtStsRpt":
        return _pain002(message)
    if message is not None and kind == "BkToCstmrDbtCdtNtfctn":
        return _camt054(message)
    raise ValidationError(
        {"file": ["Give a payment status report (pain.002) or a notification (camt.054)."]}
    )


def _pain002(report: ET.Element) -> list[BankReturn]:
    group = _child(report, "OrgnlGrpInfAndSts")
    if group is not None and _text(group, "GrpSts") == "RJCT":
        raise ValidationError(
            {
                "file": [
                    "The bank rejected the whole file ("
                    + _reason(_child(group, "StsRsnInf"))
                    + "): nothing was paid. Check the batch and send its file again."
                ]
            }
        )
    returns = []
    for payment_info in (c for c in report if _local(c.tag) == "OrgnlPmtInfAndSts"):
        for tx in (c for c in payment_info if _local(c.tag) == "TxInfAndSts"):
            if _text(tx, "TxSts") == "RJCT" and _text(tx, "OrgnlEndToEndId"):
                returns.append(
                    BankReturn(_text(tx, "OrgnlEndToEndId"), _reason(_child(tx, "StsRsnInf")))
                )
    return returns


def _camt054(notification: ET.Element) -> list[BankReturn]:
    returns = []
    for details in notification.iter():
        if _local(details.tag) != "TxDtls":
            continue
        returned = _child(details, "RtrInf")
        end_to_end_id = _text(details, "Refs", "EndToEndId")
        if returned is not None and end_to_end_id:
            returns.append(BankReturn(end_to_end_id, _reason(returned)))
    return returns


@dataclass
class ReturnsApplied:
    failed: list[str]  # end-to-end ids reported failed now
    already: list[str]  # reported failed before (the same file again)
    unknown: list[str]  # not one of our payments
    refused: list[str]  # why a line could not be reported failed (e.g. still a draft)


def bank_returns_apply(*, content: bytes, operator: User | None) -> ReturnsApplied:
    """Report each rejected or returned payment of a bank file failed. Each line is its
    own transaction (the service's), so a file read twice changes nothing the second
    time and one refused line does not undo the others."""
    result = ReturnsApplied([], [], [], [])
    for item in parse_bank_returns(content):
        line = PayoutLine.objects.filter(end_to_end_id=item.end_to_end_id).first()
        if line is None:
            result.unknown.append(item.end_to_end_id)
            continue
        if line.status == "failed":
            result.already.append(item.end_to_end_id)
            continue
        try:
            payout_line_fail(line=line, reason=item.reason, operator=operator)
        except ValidationError as exc:
            result.refused.append(f"{item.end_to_end_id}: {' '.join(exc.messages)}")
            continue
        result.failed.append(item.end_to_end_id)
    return result
