"""CDRs, the Receiver side (we are the eMSP): check a partner's charge detail record,
keep it once, and hand what it says to the session core.

- ``check_cdr``: every field rule of the spec (``schema.CDR``) and ours: ISO 4217
  currencies, timestamps inside ``bounds.window``, the end not before the start, amounts
  and volumes not negative (a credit CDR's ``total_cost`` not positive), energy that a
  session row holds, and the CDR's owner one of the partner's parties. Any problem:
  ``CdrInvalid`` with every problem, named by field; nothing is stored.
- ``cdr_receive``: stored once per (country code, party id, id), retransmissions and
  concurrent duplicates included (the unique constraint decides, the loser reads the
  winner). A CDR is never changed (the spec: credit CDRs instead), so a retransmission
  stores nothing, whatever it says.
- matching: the token names our driver and organisation (``matching.token_for``); the
  session core attributes the session to the membership in force at its start. A CDR
  nobody's session can be made of (unknown or another eMSP's token, no membership) is
  kept with ``flags`` and ``needs_attention`` and answered as accepted: a CDR is a bill,
  refusing it would only make the CPO send it again (or give up and lose it).
- credit CDRs cancel the session of the CDR they name; one that arrives before its
  original is kept flagged and applied when the original arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging import bounds
from evdms.charging.models import ChargingSession, SessionStatus
from evdms.charging.services.sessions import (
    FINAL_FLAG,
    PartnerRecord,
    by_public_key,
    public_session_credit,
    public_session_record,
)
from evdms.ocpi import schema
from evdms.ocpi.currencies import is_currency
from evdms.ocpi.keys import cdr_key, session_key
from evdms.ocpi.matching import token_for
from evdms.ocpi.models import Cdr, Partner, PartnerLocation, PartnerRole
from evdms.ocpi.transport import parse_timestamp

# A normal CDR's id is at most 36 characters; 39 only for a credit CDR (spec, CDR.id).
CDR_ID_MAX = 36
WH_PER_KWH = Decimal(1000)
# Costs are kept as ChargingSession keeps them: DecimalField(14, 4).
COST_PLACES = Decimal("0.0001")
NO_MEMBERSHIP_FLAG = "no membership at the session's start"
# Flags that only inform: a CDR with nothing else is not shown as needing attention.
_INFORMATIONAL = ("credits a CDR without a session",)


class CdrInvalid(ValueError):
    """A CDR that breaks a rule: ``problems`` names each field (``field: what``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CheckedCdr:
    """A CDR's values as we keep them: parsed, typed, in range."""

    body: dict[str, Any]
    country_code: str
    party_id: str
    object_id: str
    session_id: str
    token_uid: str
    token_country_code: str
    token_party_id: str
    started_at: datetime
    ended_at: datetime
    last_updated: datetime
    energy_wh: int
    cost_excl_vat: Decimal
    cost_incl_vat: Decimal | None
    currency: str
    credit: bool
    credit_reference_id: str
    home: bool
    location_id: str
    location_name: str
    location_address: str


def _decimal(value: int | float) -> Decimal:
    # str() of a float is its shortest round-tripping form: what the JSON said (15.342
    # stays 15.342, not 15.3419999…).
    return Decimal(str(value))


def _cost(value: int | float | None) -> Decimal | None:
    if value is None:
        return None
    return _decimal(value).quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def _time(body: dict[str, Any], name: str, problems: list[str]) -> datetime | None:
    try:
        moment = parse_timestamp(body[name])
    except ValueError:
        problems.append(f"{name}: must be an RFC 3339 UTC timestamp")
        return None
    try:
        return bounds.check_time(moment)
    except bounds.OutOfWindow as exc:
        problems.append(f"{name}: {exc}")
    return None


def check_cdr(partner: Partner, body: Any) -> CheckedCdr:
    """The CDR's values, or ``CdrInvalid`` naming every field that breaks a rule."""
    problems = schema.check(schema.CDR, body)
    if problems:
        # The structure is wrong: the finer rules below would read what is not there.
        raise CdrInvalid(problems)
    assert isinstance(body, dict)
    country_code = body["country_code"].upper()
    party_id = body["party_id"].upper()
    if partner.role != PartnerRole.HUB and (country_code, party_id) not in partner.parties():
        # A CPO writes its own objects only; a hub routes many CPOs' (their party in the
        # object, as the routing headers name them).
        problems.append(
            "country_code/party_id: "
            f"{country_code}*{party_id} is not one of your parties in the credentials"
        )
    credit = bool(body.get("credit", False))
    credit_reference_id = body.get("credit_reference_id") or ""
    if not credit and len(body["id"]) > CDR_ID_MAX:
        problems.append(f"id: at most {CDR_ID_MAX} characters (39 only for a credit CDR)")
    if credit and not credit_reference_id:
        problems.append("credit_reference_id: required for a credit CDR (credit: true)")
    if credit_reference_id and not credit:
        problems.append("credit_reference_id: only for a credit CDR (credit: true)")
    if credit and credit_reference_id == body["id"]:
        problems.append("credit_reference_id: a credit CDR cannot credit itself")
    if not is_currency(body["currency"]):
        problems.append("currency: must be an ISO 4217 currency code, e.g. EUR")
    for index, tariff in enumerate(body.get("tariffs") or []):
        if not is_currency(tariff["currency"]):
            problems.append(f"tariffs[{index}].currency: must be an ISO 4217 currency code")
    started_at = _time(body, "start_date_time", problems)
    ended_at = _time(body, "end_date_time", problems)
    last_updated = _time(body, "last_updated", problems)
    if started_at and ended_at and ended_at < started_at:
        problems.append("end_date_time: must not be before start_date_time")
    for index, period in enumerate(body["charging_periods"]):
        period_problems: list[str] = []
        _time(period, "start_date_time", period_problems)
        problems += [f"charging_periods[{index}].{p}" for p in period_problems]
        for number, dimension in enumerate(period["dimensions"]):
            where = f"charging_periods[{index}].dimensions[{number}].volume"
            volume = dimension["volume"]
            if dimension["type"] not in schema.CDR_SIGNED_DIMENSIONS and volume < 0:
                problems.append(f"{where}: must not be negative for {dimension['type']}")
            if dimension["type"] == "STATE_OF_CHARGE" and volume > 100:
                problems.append(f"{where}: a state of charge is 0 to 100")
    total = body["total_cost"]
    for name in ("excl_vat", "incl_vat"):
        amount = total.get(name)
        if amount is None:
            continue
        if credit and amount > 0:
            problems.append(f"total_cost.{name}: a credit CDR's cost is negative (or zero)")
        if not credit and amount < 0:
            problems.append(f"total_cost.{name}: must not be negative")
    energy_wh = int(
        (_decimal(body["total_energy"]) * WH_PER_KWH).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    if energy_wh > bounds.SESSION_WH_STORABLE:
        problems.append(
            f"total_energy: at most {bounds.SESSION_WH_STORABLE // 1000} kWh in one session"
        )
    if problems:
        raise CdrInvalid(problems)
    assert started_at and ended_at and last_updated
    token = body["cdr_token"]
    location = body["cdr_location"]
    place = " ".join(p for p in (location.get("postal_code"), location["city"]) if p)
    return CheckedCdr(
        body=body,
        country_code=country_code,
        party_id=party_id,
        object_id=body["id"],
        session_id=body.get("session_id") or "",
        token_uid=token["uid"],
        token_country_code=token["country_code"].upper(),
        token_party_id=token["party_id"].upper(),
        started_at=started_at,
        ended_at=ended_at,
        last_updated=last_updated,
        energy_wh=energy_wh,
        cost_excl_vat=_cost(total["excl_vat"]) or Decimal(0),
        cost_incl_vat=_cost(total.get("incl_vat")),
        currency=body["currency"],
        credit=credit,
        credit_reference_id=credit_reference_id,
        home=bool(body.get("home_charging_compensation", False)),
        location_id=location["id"],
        location_name=location.get("name") or "",
        location_address=", ".join(p for p in (location["address"], place, location["country"])),
    )


# --- storing ---------------------------------------------------------------------------


def _session_key(cdr: CheckedCdr) -> tuple[str, str]:
    """The key of the session the CDR closes, or a flag saying why it closes none.

    Normally its ``session_id``'s (where the live session landed), else its own id's.
    After a credit CDR the CPO sends a new CDR for the same session (spec, credit
    CDRs): the credited session stays credited and the new CDR makes a session of its
    own. A second CDR for a session another CDR already closed, with no credit between,
    is a partner's mistake: kept for the operator, not counted twice."""
    own = cdr_key(cdr.country_code, cdr.party_id, cdr.object_id)
    if not cdr.session_id:
        return own, ""
    key = session_key(cdr.country_code, cdr.party_id, cdr.session_id)
    existing = by_public_key(key).values_list("pk", "status", "flags").first()
    if existing is None:
        return key, ""
    pk, status, flags = existing
    if status == SessionStatus.CREDITED:
        return own, ""
    # A final record alone is not enough: the Sessions module may have closed it; only
    # another CDR of that session makes this one a second bill.
    if FINAL_FLAG in flags and Cdr.objects.filter(charging_session_id=pk, credit=False).exists():
        return "", f"session {cdr.session_id} is already closed by another CDR: not counted twice"
    return key, ""


def _match(partner: Partner, checked: CheckedCdr) -> tuple[ChargingSession | None, list[str]]:
    """The session the CDR makes (or closes), and the flags it leaves on the CDR."""
    token = token_for(
        checked.token_uid,
        country_code=checked.token_country_code,
        party_id=checked.token_party_id,
    )
    if token is None:
        ours = (checked.token_country_code, checked.token_party_id) == _our_party()
        what = "unknown token" if ours else "token of another eMSP"
        return None, [
            f"{what}: {checked.token_country_code}*{checked.token_party_id} {checked.token_uid}"
        ]
    known = (
        PartnerLocation.objects.filter(
            country_code=checked.country_code,
            party_id=checked.party_id,
            object_id=checked.location_id,
        )
        .values_list("name", "operator_name")
        .first()
    )
    location_name, operator = known or ("", "")
    key, problem = _session_key(checked)
    if problem:
        return None, [problem]
    session = public_session_record(
        PartnerRecord(
            key=key,
            organisation_id=token.organisation_id,
            driver_id=token.driver_id,
            transaction_id=checked.session_id or checked.object_id,
            started_at=checked.started_at,
            ended_at=checked.ended_at,
            energy_wh=checked.energy_wh,
            completed=True,
            final=True,
            home=checked.home,
            token=checked.token_uid,
            operator=operator or partner.name,
            location_name=checked.location_name or location_name,
            location_address=checked.location_address,
            cost_excl_vat=checked.cost_excl_vat,
            cost_incl_vat=checked.cost_incl_vat,
            currency=checked.currency,
        )
    )
    flags = [NO_MEMBERSHIP_FLAG] if NO_MEMBERSHIP_FLAG in session.flags else []
    return session, flags


def _our_party() -> tuple[str, str]:
    return settings.OCPI_COUNTRY_CODE.upper(), settings.OCPI_PARTY_ID.upper()


def _credit_reason(credit: Cdr) -> str:
    return f"credited by CDR {credit.object_id}"


def _apply_credit(credit: Cdr, original: Cdr) -> None:
    """Link ``credit`` to the CDR it credits and cancel that CDR's session. Not saved."""
    credit.credits = original
    credit.flags = [f for f in credit.flags if not f.startswith("credits CDR ")]
    if original.charging_session_id is None:
        credit.flags = [*credit.flags, "credits a CDR without a session"]
        return
    credit.charging_session_id = original.charging_session_id
    session = ChargingSession.objects.only("public_key").get(pk=original.charging_session_id)
    public_session_credit(key=session.public_key, reason=_credit_reason(credit))


def _needs_attention(flags: list[str]) -> bool:
    return any(flag not in _INFORMATIONAL for flag in flags)


def _store(partner: Partner, checked: CheckedCdr, waiting: list[int]) -> Cdr:
    cdr = Cdr(
        partner=partner,
        country_code=checked.country_code,
        party_id=checked.party_id,
        object_id=checked.object_id,
        body=checked.body,
        last_updated=checked.last_updated,
        token_uid=checked.token_uid,
        credit=checked.credit,
        credit_reference_id=checked.credit_reference_id,
    )
    owner = {"country_code": checked.country_code, "party_id": checked.party_id}
    if checked.credit:
        original = Cdr.objects.filter(**owner, object_id=checked.credit_reference_id).first()
        if original is None:
            # Applied when the original arrives (below): kept, not lost, shown meanwhile.
            cdr.flags = [f"credits CDR {checked.credit_reference_id}, not received yet"]
        else:
            _apply_credit(cdr, original)
    else:
        session, cdr.flags = _match(partner, checked)
        cdr.charging_session = session
    cdr.needs_attention = _needs_attention(cdr.flags)
    cdr.save(force_insert=True)
    if waiting and not checked.credit:
        # Credits that came first (found with the retransmission check); normally none.
        for credit in Cdr.objects.select_for_update().filter(pk__in=waiting, credits__isnull=True):
            _apply_credit(credit, cdr)
            credit.needs_attention = _needs_attention(credit.flags)
            credit.save(update_fields=["credits", "charging_session", "flags", "needs_attention"])
    return cdr


def cdr_receive(partner: Partner, body: Any) -> tuple[Cdr, bool]:
    """Check and keep a partner's CDR: (the stored CDR, whether it is new). ``CdrInvalid``
    when it breaks a rule (nothing stored). Atomic; a retransmission, even concurrent,
    returns the CDR first stored and changes nothing."""
    checked = check_cdr(partner, body)
    # One indexed query: the CDR itself if it is a retransmission, else the credits
    # that arrived before it. Only what the answer (the Location) needs: no body.
    found = Cdr.objects.filter(country_code=checked.country_code, party_id=checked.party_id).filter(
        Q(object_id=checked.object_id)
        | Q(credit=True, credit_reference_id=checked.object_id, credits__isnull=True)
    )
    fields = ("pk", "country_code", "party_id", "object_id")
    for attempt in range(2):
        rows = list(found.only(*fields))
        existing = next((r for r in rows if r.object_id == checked.object_id), None)
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                return _store(partner, checked, [r.pk for r in rows]), True
        except IntegrityError:
            # The same CDR at the same moment: the other request stored it; read it.
            if attempt:
                raise
    raise RuntimeError("unreachable")


def cdr_for(partner: Partner, country_code: str, party_id: str, object_id: str) -> Cdr | None:
    """A CDR the partner delivered, or None (another partner's is None too)."""
    return Cdr.objects.filter(
        partner=partner,
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        object_id=object_id,
    ).first()


RESOLVED_FLAG = "resolved by"


def cdr_resolve(cdr: Cdr, *, by_user: Any) -> bool:
    """A platform operator has dealt with a CDR needing attention (paid outside, the
    driver found, the partner told): it leaves the attention list, its flags stay as
    evidence, with who resolved it. Audited; ``False`` if it needed nothing."""
    with transaction.atomic():
        locked = Cdr.objects.select_for_update().get(pk=cdr.pk)
        if not locked.needs_attention:
            return False
        locked.needs_attention = False
        label = getattr(by_user, "email", "") or "an operator"
        locked.flags = [*locked.flags, f"{RESOLVED_FLAG} {label}"]
        locked.save(update_fields=["needs_attention", "flags"])
        audit_record(
            actor=None,
            action=AuditAction.OCPI_CDR_RESOLVE,
            target=locked,
            changes={"flags": locked.flags},
            by_user=by_user,
        )
    return True
