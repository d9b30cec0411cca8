"""The Chargers and Home charging pages' lists: search, filters, order and CSV export,
on the pattern of the Drivers page (``evdms.enrolment.selectors``): a query parsed from
the query string, whose bad values are dropped with a message (never a 500), and one
query for the rows whatever their number.

Who sees what stays with the look-ups: chargers through ``chargers_for`` (*view
installations*), sessions through ``sessions_visible_to`` (*view reports*: per-session
energy is a transaction, so a role without reports — the Connections Officer — gets
none, on the page or in a file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evdms.accounts.permissions import Actor, Permission
from evdms.charging.access import chargers_for
from evdms.charging.models import Charger, ChargingSession, SessionStatus
from evdms.charging.selectors import sessions_visible_to
from evdms.ui.spreadsheets import CsvWriter

MAX_SEARCH = 100

# --- chargers --------------------------------------------------------------------------

CHARGER_SORTS = {
    "identity": "identity",
    "serial": "serial",
    "driver": "driver__email",
    "online": "online",
    "heartbeat": "last_heartbeat_at",
    "registered": "created_at",
}
CHARGER_STATES = {"online": gettext_lazy("Online"), "offline": gettext_lazy("Offline")}
CHARGER_LINKS = {
    "linked": gettext_lazy("Linked to a driver"),
    "unlinked": gettext_lazy("Not linked"),
}


@dataclass
class ChargerQuery:
    search: str = ""
    state: str = ""  # CHARGER_STATES
    linked: str = ""  # CHARGER_LINKS
    sort: str = "identity"
    errors: list[str] = field(default_factory=list)

    def as_params(self) -> dict[str, str]:
        params = {"q": self.search, "state": self.state, "linked": self.linked}
        if self.sort != "identity":
            params["sort"] = self.sort
        return {k: v for k, v in params.items() if v}


def parse_charger_query(params: Mapping[str, str]) -> ChargerQuery:
    query = ChargerQuery(search=params.get("q", "").strip()[:MAX_SEARCH])
    state = params.get("state", "")
    if state and state not in CHARGER_STATES:
        query.errors.append(
            _("Unknown state “%(state)s”: showing every charger.") % {"state": state[:20]}
        )
    else:
        query.state = state
    linked = params.get("linked", "")
    if linked and linked not in CHARGER_LINKS:
        query.errors.append(
            _("Unknown choice “%(choice)s”: showing linked and not linked.")
            % {"choice": linked[:20]}
        )
    else:
        query.linked = linked
    sort = params.get("sort", "") or "identity"
    if sort.lstrip("-") not in CHARGER_SORTS:
        query.errors.append(
            _("Cannot sort by “%(sort)s”; sorted by identity.") % {"sort": sort[:30]}
        )
        sort = "identity"
    query.sort = sort
    return query


def _ordered(rows: QuerySet[Any], fields: Mapping[str, str], sort: str) -> QuerySet[Any]:
    # Empty values (a charger never heard from, a driver not linked) last either way.
    expression = F(fields[sort.lstrip("-")])
    descending = sort.startswith("-")
    order = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return rows.order_by(order, "-pk" if descending else "pk")


def chargers_listed(actor: Actor, query: ChargerQuery) -> QuerySet[Charger]:
    rows = chargers_for(actor, Permission.VIEW_INSTALLATIONS).select_related("driver")
    if query.search:
        q = query.search
        rows = rows.filter(
            Q(identity__icontains=q)
            | Q(serial__icontains=q)
            | Q(vendor__icontains=q)
            | Q(model__icontains=q)
            | Q(driver__email__icontains=q)
            | Q(driver__full_name__icontains=q)
        )
    if query.state:
        rows = rows.filter(online=query.state == "online")
    if query.linked:
        rows = rows.filter(driver__isnull=query.linked == "unlinked")
    return _ordered(rows, CHARGER_SORTS, query.sort)


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


CHARGER_COLUMNS: list[tuple[str, Callable[[Charger], Any]]] = [
    ("Identity", lambda c: c.identity),
    ("Serial", lambda c: c.serial),
    ("Vendor", lambda c: c.vendor),
    ("Model", lambda c: c.model),
    ("Driver", lambda c: c.driver.email if c.driver else ""),
    ("Online", lambda c: "Yes" if c.online else "No"),
    ("Last heartbeat", lambda c: _local(c.last_heartbeat_at)),
    ("Firmware", lambda c: c.firmware),
    ("Protocol", lambda c: c.protocol),
    ("Connectors", lambda c: "; ".join(f"{k}: {v}" for k, v in c.connector_status.items())),
    ("Registered", lambda c: _local(c.created_at)),
]


# --- home charging sessions ------------------------------------------------------------

SESSION_SORTS = {
    "start": "started_at",
    "end": "ended_at",
    "energy": "energy_wh",
    "driver": "driver__email",
    "charger": "charger__identity",
}
DEFAULT_SESSION_SORT = "-start"


@dataclass
class SessionQuery:
    search: str = ""  # driver (e-mail or name) or charger identity
    connection: int | None = None
    status: str = ""
    start: date | None = None  # first day, inclusive (local time)
    end: date | None = None  # last day, inclusive
    sort: str = DEFAULT_SESSION_SORT
    errors: list[str] = field(default_factory=list)

    def as_params(self) -> dict[str, str]:
        params = {
            "q": self.search,
            "connection": str(self.connection or ""),
            "status": self.status,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "sort": "" if self.sort == DEFAULT_SESSION_SORT else self.sort,
        }
        return {k: v for k, v in params.items() if v}


def _day(params: Mapping[str, str], name: str, errors: list[str]) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = (
            _("The from date “%(value)s” is not a date (YYYY-MM-DD): ignored.")
            if name == "start"
            else _("The to date “%(value)s” is not a date (YYYY-MM-DD): ignored.")
        )
        errors.append(message % {"value": value[:20]})
        return None


def parse_session_query(params: Mapping[str, str]) -> SessionQuery:
    query = SessionQuery(search=params.get("q", "").strip()[:MAX_SEARCH])
    raw = params.get("connection", "").strip()
    if raw:
        if raw.isdigit() and len(raw) < 19:
            query.connection = int(raw)
        else:
            query.errors.append(_("Unknown connection: showing every connection."))
    status = params.get("status", "")
    if status and status not in SessionStatus.values:
        query.errors.append(
            _("Unknown status “%(status)s”: showing every status.") % {"status": status[:20]}
        )
    else:
        query.status = status
    query.start = _day(params, "start", query.errors)
    query.end = _day(params, "end", query.errors)
    if query.start and query.end and query.end < query.start:
        query.errors.append(_("The period ends before it starts: the dates were swapped."))
        query.start, query.end = query.end, query.start
    sort = params.get("sort", "") or DEFAULT_SESSION_SORT
    if sort.lstrip("-") not in SESSION_SORTS:
        query.errors.append(
            _("Cannot sort by “%(sort)s”; sorted by start, newest first.") % {"sort": sort[:30]}
        )
        sort = DEFAULT_SESSION_SORT
    query.sort = sort
    return query


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def sessions_listed(actor: Actor, query: SessionQuery) -> QuerySet[ChargingSession]:
    """The Home charging page's sessions: those the actor may see in detail
    (``sessions_visible_to``), filtered and ordered. A connection outside what the actor
    sees simply matches nothing (like a missing one)."""
    rows = sessions_visible_to(actor, permission=Permission.VIEW_REPORTS)
    if query.search:
        q = query.search
        rows = rows.filter(
            Q(driver__email__icontains=q)
            | Q(driver__full_name__icontains=q)
            | Q(charger__identity__icontains=q)
        )
    if query.connection:
        rows = rows.filter(connection_id=query.connection)
    if query.status:
        rows = rows.filter(status=query.status)
    if query.start:
        rows = rows.filter(started_at__gte=_local_midnight(query.start))
    if query.end:
        rows = rows.filter(started_at__lt=_local_midnight(query.end + timedelta(days=1)))
    return _ordered(rows, SESSION_SORTS, query.sort)


SESSION_COLUMNS: list[tuple[str, Callable[[ChargingSession], Any]]] = [
    ("Start", lambda s: _local(s.started_at)),
    ("End", lambda s: _local(s.ended_at)),
    ("Duration (minutes)", lambda s: int(s.duration.total_seconds() // 60) if s.duration else ""),
    # Exact: integer Wh as kWh with three decimals, no float.
    ("Energy (kWh)", lambda s: f"{Decimal(s.energy_wh) / 1000:.3f}"),
    ("Driver", lambda s: s.driver.email if s.driver else ""),
    ("Connection", lambda s: s.connection.name if s.connection else ""),
    ("Charger", lambda s: s.charger.identity if s.charger else ""),
    ("Status", lambda s: s.get_status_display()),
    ("Review", lambda s: s.get_review_display() if s.review else ""),
]


# --- CSV -------------------------------------------------------------------------------


def csv_lines(
    rows: QuerySet[Any], columns: list[tuple[str, Callable[[Any], Any]]]
) -> Iterator[str]:
    """A CSV file line by line (with the BOM spreadsheet programs want for UTF-8), the
    rows read a thousand at a time: memory stays flat whatever their number. In English
    whatever the page's language (as every export): each row is written in English and
    the language handed back before it is yielded."""
    writer = CsvWriter()
    yield "\ufeff" + writer.writerow([label for label, _get in columns])
    for row in rows.iterator(chunk_size=1000):
        with translation.override(settings.LANGUAGE_CODE):
            line = writer.writerow([get(row) for _label, get in columns])
        yield line
