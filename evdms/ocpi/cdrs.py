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
- ``cdrs_match`` (the worker's ``ocpi_cdrs_match``, enqueued when a stored CDR commits,
  and every ten minutes by the scheduler): matches each stored CDR exactly once
  (``matched_at``); until then it has no session and nothing counts it.
- matching: the token names our driver and organisation (``matching.token_for``); the
  session core attributes the session to the membership in force at its start. A CDR
  nobody's session can be made of (unknown or another eMSP's token, no membership) is
  kept with ``flags`` and ``needs_attention`` and answered as accepted: a CDR is a bill,
  refusing it would only make the CPO send it again (or give up and lose it).
- credit CDRs cancel the session of the CDR they name; one that arrives before its
  original is kept flagged and applied when the original arrives.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

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

logger = logging.getLogger("evdms.ocpi")

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


def _energy_wh(body: dict[str, Any]) -> int:
    kwh = _decimal(body["total_energy"])
    return int((kwh * WH_PER_KWH).quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
    _time(body, "last_updated", problems)
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
    if _energy_wh(body) > bounds.SESSION_WH_STORABLE:
        problems.append(
            f"total_energy: at most {bounds.SESSION_WH_STORABLE // 1000} kWh in one session"
        )
    if problems:
        raise CdrInvalid(problems)
    return _values(body, country_code, party_id)


def _values(body: dict[str, Any], country_code: str, party_id: str) -> CheckedCdr:
    """The values of a CDR ``check_cdr`` passed (on POST, or as stored, in the worker:
    not checked again, its timestamps' window has moved on since)."""
    token = body["cdr_token"]
    location = body["cdr_location"]
    total = body["total_cost"]
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
        started_at=parse_timestamp(body["start_date_time"]),
        ended_at=parse_timestamp(body["end_date_time"]),
        last_updated=parse_timestamp(body["last_updated"]),
        energy_wh=_energy_wh(body),
        cost_excl_vat=_cost(total["excl_vat"]) or Decimal(0),
        cost_incl_vat=_cost(total.get("incl_vat")),
        currency=body["currency"],
        credit=bool(body.get("credit", False)),
        credit_reference_id=body.get("credit_reference_id") or "",
        home=bool(body.get("home_charging_compensation", False)),
        location_id=location["id"],
        location_name=location.get("name") or "",
        location_address=", ".join(p for p in (location["address"], place, location["country"])),
    )


# --- storing (the POST) -----------------------------------------------------------------


def cdr_receive(partner: Partner, body: Any) -> tuple[Cdr, bool]:
    """Check and keep a partner's CDR: (the stored CDR, whether it is new). ``CdrInvalid``
    when it breaks a rule (nothing stored). A retransmission, even concurrent, returns
    the CDR first stored and changes nothing.

    Only the insert: matching it to a driver and a session is the worker's
    (``cdrs_match``, enqueued when the insert commits), so a CPO's burst of CDRs costs
    each one a check and a row. The insert comes first (most CDRs are new): the unique
    constraint decides, and only a retransmission reads the CDR stored before."""
    checked = check_cdr(partner, body)
    owner = {"country_code": checked.country_code, "party_id": checked.party_id}
    cdr = Cdr(
        partner=partner,
        **owner,
        object_id=checked.object_id,
        body=checked.body,
        last_updated=checked.last_updated,
        token_uid=checked.token_uid,
        credit=checked.credit,
        credit_reference_id=checked.credit_reference_id,
    )
    try:
        with transaction.atomic():
            cdr.save(force_insert=True)
            transaction.on_commit(enqueue_match)
    except IntegrityError:
        # Sent before (or at this very moment, by another request): answer with that one.
        # Only what the answer (the Location) needs: no body.
        existing = (
            Cdr.objects.filter(**owner, object_id=checked.object_id)
            .only("pk", "country_code", "party_id", "object_id")
            .first()
        )
        if existing is None:
            raise  # not the CDR's own uniqueness
        return existing, False
    return cdr, True


# A burst of CDRs enqueues one matching task per web process per window, due at the
# window's end, not one per CDR (a task row each, nearly all finding nothing left to
# do). A CDR committed inside a window is seen by that window's task, however late the
# worker runs it; the margin covers a worker's clock running ahead of the web server's.
# Whatever slips through (a crash, a clock further off) the ten-minute sweep matches.
MATCH_WINDOW = timedelta(seconds=2)
CLOCK_MARGIN = timedelta(seconds=1)
_window_lock = threading.Lock()
_window_due: datetime | None = None


def enqueue_match() -> Any:
    """Have the CDRs committed so far matched (on commit of each stored CDR): a task
    due at the end of this process's window, unless one is queued already. A backend
    that cannot defer (tests' immediate one) runs the task at once, every time."""
    global _window_due
    if not ocpi_cdrs_match.get_backend().supports_defer:
        return ocpi_cdrs_match.enqueue()
    now = timezone.now()
    with _window_lock:
        if _window_due is not None and now < _window_due - CLOCK_MARGIN:
            return None  # the queued task will see this CDR
        _window_due = now + MATCH_WINDOW
        due = _window_due
    return ocpi_cdrs_match.using(run_after=due).enqueue()


# --- matching (the worker) ---------------------------------------------------------------


def _session_key(cdr: Cdr, checked: CheckedCdr) -> tuple[str, str]:
    """The key of the session the CDR closes, or a flag saying why it closes none.

    Normally its ``session_id``'s (where the live session landed), else its own id's.
    After a credit CDR the CPO sends a new CDR for the same session (spec, credit
    CDRs): the credited session stays credited and the new CDR makes a session of its
    own. A second CDR for a session another CDR already closed, with no credit between,
    is a partner's mistake: kept for the operator, not counted twice."""
    own = cdr_key(checked.country_code, checked.party_id, checked.object_id)
    if not checked.session_id:
        return own, ""
    key = session_key(checked.country_code, checked.party_id, checked.session_id)
    existing = by_public_key(key).values_list("pk", "status", "flags").first()
    if existing is None:
        return key, ""
    pk, status, flags = existing
    if status == SessionStatus.CREDITED:
        return own, ""
    # A final record alone is not enough: the Sessions module may have closed it; only
    # another CDR of that session makes this one a second bill.
    closed = Cdr.objects.filter(charging_session_id=pk, credit=False).exclude(pk=cdr.pk)
    if FINAL_FLAG in flags and closed.exists():
        why = f"session {checked.session_id} is already closed by another CDR"
        return "", f"{why}: not counted twice"
    return key, ""


def _match(cdr: Cdr, checked: CheckedCdr) -> tuple[ChargingSession | None, list[str]]:
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
    key, problem = _session_key(cdr, checked)
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
            operator=operator or cdr.partner.name,
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


_MATCHED_FIELDS = ["charging_session", "credits", "flags", "needs_attention", "matched_at"]


def _pending(**lookups: Any) -> Cdr | None:
    """A CDR not matched yet, locked (another worker waits, then finds it matched)."""
    return (
        Cdr.objects.select_for_update(of=("self",))
        .select_related("partner")
        .filter(matched_at__isnull=True, **lookups)
        .first()
    )


def _match_locked(cdr: Cdr) -> None:
    """Match a locked, unmatched CDR and save it; in the caller's transaction."""
    checked = _values(cdr.body, cdr.country_code, cdr.party_id)
    owner = {"country_code": cdr.country_code, "party_id": cdr.party_id}
    if checked.credit:
        original = (
            _pending(**owner, object_id=checked.credit_reference_id)
            or Cdr.objects.filter(**owner, object_id=checked.credit_reference_id).first()
        )
        if original is not None and original.matched_at is None:
            _match_locked(original)  # stored before its credit, not matched yet: first
        if original is None:
            # Applied when the original arrives (below): kept, not lost, shown meanwhile.
            cdr.flags = [f"credits CDR {checked.credit_reference_id}, not received yet"]
        else:
            _apply_credit(cdr, original)
    else:
        cdr.charging_session, cdr.flags = _match(cdr, checked)
    cdr.needs_attention = _needs_attention(cdr.flags)
    cdr.matched_at = timezone.now()
    cdr.save(update_fields=_MATCHED_FIELDS)
    if checked.credit:
        return
    # Credits matched before their original arrived; normally none. One not matched
    # yet finds this CDR when the worker reaches it.
    waiting = Cdr.objects.select_for_update().filter(
        **owner,
        credit=True,
        credit_reference_id=cdr.object_id,
        credits__isnull=True,
        matched_at__isnull=False,
    )
    for credit in waiting:
        _apply_credit(credit, cdr)
        credit.needs_attention = _needs_attention(credit.flags)
        credit.save(update_fields=["credits", "charging_session", "flags", "needs_attention"])


def cdr_match(cdr_id: int) -> bool:
    """Match one stored CDR to its driver and session: ``False`` if it was matched
    already (by another run, or as a credit's original). Atomic: a crash leaves it
    unmatched, for the next run."""
    with transaction.atomic():
        cdr = _pending(pk=cdr_id)
        if cdr is None:
            return False
        _match_locked(cdr)
    return True


# CDRs matched per run; a run that filled its batch enqueues the next one.
MATCH_BATCH = 500


def cdrs_match(limit: int = MATCH_BATCH) -> int:
    """Match the CDRs stored but not matched yet, oldest first: how many this run
    matched. Each in its own transaction, so one that fails (logged) stays for the next
    run without holding back the others. Safe to run any number of times at once."""
    pending = list(
        Cdr.objects.filter(matched_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    matched = 0
    for cdr_id in pending:
        try:
            matched += cdr_match(cdr_id)
        except Exception:
            logger.exception("Could not match CDR %s; it stays for the next run", cdr_id)
    if len(pending) == limit:
        transaction.on_commit(enqueue_match)
    return matched


@task()
def ocpi_cdrs_match() -> int:
    """Match the CDRs waiting (enqueued by each stored CDR's commit, and every ten
    minutes by the scheduler: the sweep, for a task lost in a crash); how many it
    matched. Safe to run any number of times."""
    return cdrs_match()


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
