"""Fee schedules in the Django admin, for platform operators.

Listed by organisation and month. Created only through the service's rules (the form
asks ``fee_schedule_clean`` and ``fee_schedule_month_check``, saving calls
``fee_schedule_create``); read-only once made: a change is a new schedule from a later
month, so the history stays.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from evdms.accounts.models import Organisation
from evdms.invoicing.models import FeeSchedule
from evdms.invoicing.services.fees import (
    FEE_FIELDS,
    INVOICED_KINDS,
    fee_schedule_clean,
    fee_schedule_create,
    fee_schedule_month_check,
)

# The currency is the organisation's own (the service sets it), so the form omits it.
FORM_FEE_FIELDS = tuple(f for f in FEE_FIELDS if f != "currency")


class FeeScheduleForm(forms.ModelForm[FeeSchedule]):
    class Meta:
        model = FeeSchedule
        fields = ("organisation", "valid_from", *FORM_FEE_FIELDS)
        help_texts = {
            "valid_from": "The first day of the month it applies from (YYYY-MM-01).",
            "reimbursement_fee": "Per statement paid, or a percentage (at most 100).",
            "public_fee": "Per business session, or a percentage of its cost (at most 100).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "organisation" in self.fields:  # only the organisations the platform invoices
            field = self.fields["organisation"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Organisation.objects.filter(kind__in=INVOICED_KINDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organisation = data.get("organisation")
        if organisation is None or self.errors:
            return data  # the fields' own messages first
        fees = {name: data.get(name) for name in FORM_FEE_FIELDS}
        try:
            values = fee_schedule_clean(organisation, data.get("valid_from"), fees)
            fee_schedule_month_check(organisation, values["valid_from"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class FeeScheduleChangeList(ChangeList):
    """Django's date hierarchy turns a bad day into "wrong parameters" but not a year
    past 9999 or beyond a C long (``?valid_from__year=9999``): those raise here. A
    hand-made URL gets the admin's own "wrong parameters" answer, not an error page."""

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin[FeeSchedule]):
    form = FeeScheduleForm
    list_display = (
        "organisation",
        "month",
        "driver_fee",
        "driver_fee_pro_rata",
        "warranty_fee",
        "reimbursement_fee",
        "reimbursement_fee_basis",
        "public_fee",
        "public_fee_basis",
        "currency",
        "created_by",
    )
    list_filter = ("organisation",)
    list_select_related = ("organisation",)
    date_hierarchy = "valid_from"
    ordering = ("organisation__name", "-valid_from")
    search_fields = ("organisation__name", "organisation__slug")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FeeScheduleChangeList

    @admin.display(description="From month", ordering="valid_from")
    def month(self, obj: FeeSchedule) -> str:
        return f"{obj.valid_from:%Y-%m}"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("organisation", "valid_from", *FEE_FIELDS, "created_at", "created_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only once made: invoices were (or will be) computed from it.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FeeSchedule, form: Any, change: bool) -> None:
        schedule = fee_schedule_create(
            actor_label=request.user.get_username(),
            organisation=obj.organisation,
            valid_from=obj.valid_from,
            operator=request.user,  # type: ignore[arg-type]
            **{name: getattr(obj, name) for name in FORM_FEE_FIELDS},
        )
        obj.pk = schedule.pk
        obj.currency, obj.created_at, obj.created_by = (
            schedule.currency,
            schedule.created_at,
            schedule.created_by,
        )
        obj._state.adding = False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as exc:
            # Another operator took the month between the form's check and the save
            # (the service decides under the organisation's lock); nothing was written.
            for message in exc.messages:
                messages.error(request, message)
            return redirect(request.get_full_path())
