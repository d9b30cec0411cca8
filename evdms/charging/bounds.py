"""What evdms accepts from outside about charging, in one place: the time window any
timestamp from a charger or a partner must fall in, and the most energy a home charger
can deliver. Every adapter (OCPP 1.6, 2.0.1, the API) and the statement run use these.

Two kinds of bound, on purpose:

* what a column can hold (``*_STORABLE``): a value beyond it cannot be stored at all, so
  the message is refused (an OCPP CallError, a field-level 422);
* what a home charger can physically do (the settings): a value beyond it is stored,
  but the session is flagged and held out of reimbursement until an admin reviews it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

# Before this nothing charged at home under evdms: a charger saying so has lost its clock
# (many fall back to 1970 or 2000 after a power cut).
EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)

# What the BigIntegerField of a meter register holds.
REGISTER_WH_STORABLE = 2**63 - 1
# A session's energy as a column holds it: with the largest price a DecimalField(8, 4)
# takes (9,999.9999 per kWh), 100 MWh still fits a statement line's DecimalField(16, 7),
# so a line's amount can never overflow whatever the charger said.
SESSION_WH_STORABLE = 100_000_000
# The largest id, connector number or sequence number an IntegerField holds.
INT_STORABLE = 2**31 - 1
# A statement total, a carry-over, a payout line: DecimalField(12, 2).
MONEY_12_2_MAX = Decimal("9999999999.99")
# A statement line's amount: DecimalField(16, 7).
LINE_AMOUNT_MAX = Decimal("999999999.9999999")
# A home charger's connectors are numbered 1, 2…; 0 is the charger itself.
CONNECTOR_ID_MAX = 100
# Our OCPP 1.6 transaction ids are the sessions' ids (BigAutoField).
TRANSACTION_ID_MAX = 2**63 - 1
# A register this high is more than a 22 kW charger delivers running for 50 years.
REGISTER_WH_PLAUSIBLE = 10_000_000_000


class Unstorable(ValueError):
    """A value of the wrong type or beyond what its column holds: the message is refused
    and nothing of it is stored (an OCPP PropertyConstraintViolation, a 422)."""

    def __init__(self, field: str, message: str, *, wrong_type: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.wrong_type = wrong_type


def check_int(field: str, value: object, low: int, high: int) -> int:
    """``value`` if it is an integer (not a bool) in ``low`` … ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unstorable(
            field, f"{field} must be an integer, not {type(value).__name__}", wrong_type=True
        )
    if not low <= value <= high:
        raise Unstorable(field, f"{field} {value} is outside {low} … {high}")
    return value


def check_text(field: str, value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise Unstorable(
            field, f"{field} must be a string, not {type(value).__name__}", wrong_type=True
        )
    if len(value) > max_length:
        raise Unstorable(field, f"{field} is longer than {max_length} characters")
    return value


class OutOfWindow(ValueError):
    """A timestamp before ``EARLIEST`` or further ahead than the allowed clock skew."""


def max_skew() -> timedelta:
    return timedelta(hours=settings.MAX_CLOCK_SKEW_HOURS)


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The earliest and latest moment accepted from outside, at ``now``."""
    now = now or timezone.now()
    return EARLIEST, now + max_skew()


def check_time(
    at: datetime, now: datetime | None = None, *, limits: tuple[datetime, datetime] | None = None
) -> datetime:
    """``at`` in UTC if it lies in the window; else ``OutOfWindow``. In UTC, so nothing
    stored can overflow when a page shows it in local time (year 9999 plus one hour).
    ``limits``: a ``window()`` taken once for many checks (the gateway's batch: reading
    the clock and the settings for each reading was an eighth of its database thread)."""
    if at.tzinfo is None:
        raise OutOfWindow(f"timestamp without a time zone: {at.isoformat()}")
    try:
        utc = at.astimezone(UTC)
    except OverflowError as exc:
        raise OutOfWindow(f"timestamp out of range: {at.isoformat()}") from exc
    earliest, latest = limits or window(now)
    if not earliest <= utc <= latest:
        raise OutOfWindow(
            f"timestamp {utc.isoformat()} outside {earliest:%Y-%m-%d} … "
            f"{max_skew().total_seconds() / 3600:g} h ahead of now"
        )
    return utc


def check_day(day: date, *, ahead: timedelta) -> date:
    """A calendar day from outside (a price's first day): not before ``EARLIEST``, at most
    ``ahead`` after today; else ``OutOfWindow``. Local midnight of such a day always
    converts to UTC (the statement run does), unlike that of 0001-01-01."""
    latest = timezone.localdate() + ahead
    if not EARLIEST.date() <= day <= latest:
        raise OutOfWindow(f"Use a date from {EARLIEST:%Y-%m-%d} to {latest:%Y-%m-%d}.")
    return day


def parse_time(value: object) -> datetime:
    """An RFC 3339 timestamp, aware; ``ValueError`` if it is none (not a window check)."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"not an RFC 3339 timestamp: {str(value)[:60]!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value}")
    return parsed


def time_or_received(at: datetime, received: datetime) -> tuple[datetime, str | None]:
    """The time to store for a charger's ``at``: itself when in the window, else the time
    the message arrived, with the flag saying so."""
    try:
        return check_time(at, received), None
    except OutOfWindow as exc:
        return received, f"{exc}; the time it arrived is used"


def max_session_wh() -> int:
    return int(settings.MAX_SESSION_WH)


def max_deliverable_wh(duration: timedelta) -> int:
    """The most a connector of ``EVDMS_MAX_CHARGER_POWER_W`` delivers in ``duration``,
    with a margin: 10 % for meters and clocks, and a quarter of an hour at full power
    for timestamps rounded to the minute by some chargers."""
    hours = max(duration.total_seconds(), 0) / 3600 + 0.25
    return int(settings.MAX_CHARGER_POWER_W * hours * 1.1)
