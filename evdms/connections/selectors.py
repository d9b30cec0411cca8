"""Reads about connections shared by the pages, the API and exports."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from evdms.connections.models import Connection
from evdms.enrolment.models import Membership, MembershipStatus


def connected_driver_count(connection: Connection) -> int:
    return Membership.objects.filter(
        connection=connection, status=MembershipStatus.CONNECTED
    ).count()


def with_connected_drivers(queryset: QuerySet[Connection]) -> QuerySet[Connection]:
    """Annotate ``connected_drivers`` in the same query (no per-row count)."""
    return queryset.select_related("organisation").annotate(
        connected_drivers=Count(
            "memberships", filter=Q(memberships__status=MembershipStatus.CONNECTED)
        )
    )
