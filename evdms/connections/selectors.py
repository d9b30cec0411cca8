"""Reads about connections shared by the pages, the API and exports."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.connections.models import Connection, MaxPriceChange


def invite_url(connection: Connection) -> str:
    """The connection's public invite link (also in its QR code and the invitation e-mails)."""
    return settings.SITE_URL + reverse("enrolment:join", args=[connection.invite_token])


def invite_link_for(actor: Actor) -> Callable[[Connection], str | None]:
    """The invite link of a connection, for an actor who may invite to it; None for one
    who only sees it (the link lets anyone ask to join: it is inviting, not reading, like
    the QR codes)."""
    inviting = reach(actor, Permission.MANAGE_DRIVERS)

    def link(connection: Connection) -> str | None:
        if not inviting.covers(connection.organisation_id, connection.pk):
            return None
        return invite_url(connection)

    return link


# enrolment's MembershipStatus.CONNECTED. Spelt out and read through the reverse relation
# ``memberships`` because enrolment depends on connections, not the other way round (a
# test keeps the two equal).
CONNECTED = "connected"


def connected_driver_count(connection: Connection) -> int:
    return connection.memberships.filter(status=CONNECTED).count()


def with_connected_drivers(queryset: QuerySet[Connection]) -> QuerySet[Connection]:
    """Annotate ``connected_drivers`` in the same query (no per-row count)."""
    return queryset.select_related("organisation").annotate(
        connected_drivers=Count("memberships", filter=Q(memberships__status=CONNECTED))
    )


# (valid_from, max price or None) oldest first, per connection id.
CapHistory = dict[int, list[tuple[datetime, Decimal | None]]]


def max_price_histories(connection_ids: Iterable[int] | None = None) -> CapHistory:
    """Each connection's Max Price For Reimbursement over time, in one query.

    A connection without recorded changes (made before the history was kept, or written
    outside the services) has its current maximum for all time.
    """
    connections = Connection.objects.all()
    if connection_ids is not None:
        connections = connections.filter(pk__in=list(connection_ids))
    histories: CapHistory = {
        pk: [] for pk in connections.values_list("pk", flat=True).order_by("pk")
    }
    changes = MaxPriceChange.objects.filter(connection_id__in=list(histories)).order_by(
        "connection_id", "valid_from"
    )
    for connection_id, valid_from, price in changes.values_list(
        "connection_id", "valid_from", "max_price_per_kwh"
    ):
        histories[connection_id].append((valid_from, price))
    missing = [pk for pk, history in histories.items() if not history]
    for pk, price in Connection.objects.filter(pk__in=missing).values_list(
        "pk", "max_price_per_kwh"
    ):
        histories[pk] = [(datetime.min.replace(tzinfo=UTC), price)]
    return histories


def max_price_in_force(
    history: list[tuple[datetime, Decimal | None]], at: datetime
) -> Decimal | None:
    """The maximum in force at ``at``: the latest change at or before it. Before the first
    recorded change the first value applies (it is the oldest the connection knew)."""
    index = bisect_right(history, at, key=lambda change: change[0])
    return history[max(index - 1, 0)][1]


# How a Customer ID filter matches: people type "crm-1001" for "CRM-1001", or a part of
# it ("1001"), so neither case nor the whole value is asked of them.
CUSTOMER_ID_MATCHES = {"is": gettext_lazy("is"), "contains": gettext_lazy("contains")}


def customer_id_filter(text: str, match: str = "is") -> Q:
    """Connections whose Customer ID is ``text`` (``match="is"``) or holds it
    (``"contains"``), case-insensitively on SQLite and PostgreSQL alike. Callers apply it
    to the connections in the actor's view, which are few, and filter their larger
    tables by the connection ids it gives, so those keep their indexes."""
    if match == "contains":
        return Q(customer_id__icontains=text)
    return Q(customer_id__iexact=text)
