"""A recorded change as people read it on a history: the field's label, and its values
as the page shows them elsewhere (choice labels, Yes/No, numbers grouped, local dates),
never the stored codes ("leasing_company", "connection.create").

The audit row keeps plain JSON (``evdms.audit.services._plain``); what a field is and
how it reads comes from the target's model, so a new field needs no entry here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext

from evdms.accounts.who import who_shown
from evdms.audit.models import AuditEvent
from evdms.ui import formatting

EMPTY = "—"
# Recorded values that name who acted: a code or an e-mail address (evdms.accounts.who).
WHO_FIELDS = frozenset({"by", "issued_by", "paid_by"})


@dataclass(frozen=True)
class ChangeRow:
    label: str
    old: str | None  # None: nothing was there before (a creation, a one-off fact)
    new: str


def _model(target_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _label(name: str, field: models.Field[Any, Any] | None, labels: Mapping[str, str]) -> str:
    if labels.get(name):
        return str(labels[name])
    if field is not None and field.verbose_name:
        return capfirst(str(field.verbose_name))
    return capfirst(name.replace("_", " "))


def _number_text(value: str) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _moment(value: str, field: models.Field[Any, Any] | None) -> str | None:
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, "DATETIME_FORMAT")
    if isinstance(field, models.DateField):
        try:
            return date_format(date.fromisoformat(value[:10]), "DATE_FORMAT")
        except ValueError:
            return None
    return None


def value_text(name: str, value: Any, field: models.Field[Any, Any] | None = None) -> str:
    """One recorded value as the product shows it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if name in WHO_FIELDS and isinstance(value, str):  # who acted (evdms.accounts.who)
        return who_shown(value)
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if isinstance(value, list):
        return ", ".join(value_text(name, v, field) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(k, v)}" for k, v in value.items())
    if field is not None and field.choices:
        labels = {str(k): str(v) for k, v in field.flatchoices}
        if str(value) in labels:
            return labels[str(value)]
    if isinstance(value, int):
        return formatting.count(value)
    text = str(value)
    moment = _moment(text, field)
    if moment is not None:
        return moment
    number = (
        _number_text(text)
        if isinstance(field, models.DecimalField)
        or name.endswith(("price", "price_per_kwh", "budget", "total", "amount"))
        else None
    )
    if number is not None:
        return formatting.price(number) if "per_kwh" in name else formatting.amount(number)
    return text


def change_rows(event: AuditEvent, labels: Mapping[str, str] | None = None) -> list[ChangeRow]:
    """The event's changes, one row per field: ``old → new``, or the value alone where
    nothing was there before (a creation records ``[None, value]``; a few events record
    a bare value)."""
    model = _model(event.target_type)
    # A model may say how its own recorded values read (a session's flags).
    own = getattr(model, "audit_value_shown", None)
    rows = []
    for name, recorded in (event.changes or {}).items():
        field = _field(model, name)
        if isinstance(recorded, list) and len(recorded) == 2:
            old, new = recorded
        else:
            old, new = None, recorded

        def shown(value: Any, name: str = name, field: Any = field) -> str:
            text = own(name, value) if own is not None else None
            return text if text is not None else value_text(name, value, field)

        rows.append(
            ChangeRow(
                label=_label(name, field, labels or {}),
                old=None if old is None else shown(old),
                new=shown(new),
            )
        )
    return rows
