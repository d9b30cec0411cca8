"""Tenant-scoped look-ups of statements: those of the drivers of the organisations the
actor acts for. Another organisation's statement is a 404, exactly like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.permissions import Actor
from evdms.reimbursements.models import Statement


def statements_of(actor: Actor) -> QuerySet[Statement]:
    # The organisation ids first (one small query): a plain IN list for the database.
    ids = list(organisations_acting_for(actor).values_list("pk", flat=True))
    return Statement.objects.filter(connection__organisation_id__in=ids)


def get_statement_for(actor: Actor, statement_id: int) -> Statement:
    return get_object_or_404(
        statements_of(actor).select_related("driver", "connection__organisation", "bank_account"),
        pk=statement_id,
    )
