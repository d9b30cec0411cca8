"""Tenant-scoped look-ups of statements: those of the connections the actor reaches.
Another organisation's statement, or one outside the actor's grant or connection scope,
is a 404, exactly like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.reimbursements.models import Statement


def statements_of(actor: Actor, permission: Permission | None = None) -> QuerySet[Statement]:
    scope = reach(actor, permission, default=Permission.VIEW_REPORTS)
    return Statement.objects.filter(scope.q("connection__organisation_id", "connection_id"))


def get_statement_for(
    actor: Actor, statement_id: int, permission: Permission | None = None
) -> Statement:
    return get_object_or_404(
        statements_of(actor, permission).select_related(
            "driver", "connection__organisation", "bank_account"
        ),
        pk=statement_id,
    )
