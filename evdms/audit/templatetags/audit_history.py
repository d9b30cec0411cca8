"""The history of an object as people read it (evdms/audit/presentation.py)."""

from __future__ import annotations

from collections.abc import Mapping

from django import template

from evdms.audit.models import AuditEvent
from evdms.audit.presentation import ChangeRow
from evdms.audit.presentation import change_rows as rows_of

register = template.Library()


@register.simple_tag
def change_rows(event: AuditEvent, labels: Mapping[str, str] | None = None) -> list[ChangeRow]:
    return rows_of(event, labels)
