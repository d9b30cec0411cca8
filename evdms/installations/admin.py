"""Django admin for platform operators: installer companies (certification, regions,
capacity) and a read-only list of installation jobs, which the operator assigns again
automatically or to an installer of their choice."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from evdms.accounts.models import OrganisationKind, User
from evdms.installations.models import InstallationJob, InstallerCompany, InstallerRegion
from evdms.installations.services.installers import installer_certify, installer_updated
from evdms.installations.services.jobs import job_assign, normalised_postcode
from evdms.installations.services.transitions import WrongStep
from evdms.ui.countries import country_choices, is_country


class InstallerRegionForm(forms.ModelForm[InstallerRegion]):
    class Meta:
        model = InstallerRegion
        fields = ("country", "postcode_prefix")
        widgets: ClassVar = {"country": forms.Select(choices=country_choices())}

    def clean_country(self) -> str:
        country = str(self.cleaned_data["country"]).strip().upper()
        if not is_country(country):
            raise ValidationError("Choose a country from the list (e.g. Netherlands (NL)).")
        return country

    def clean_postcode_prefix(self) -> str:
        return normalised_postcode(str(self.cleaned_data.get("postcode_prefix") or ""))


class InstallerRegionInline(admin.TabularInline[InstallerRegion, InstallerCompany]):
    model = InstallerRegion
    form = InstallerRegionForm
    extra = 1


@admin.register(InstallerCompany)
class InstallerCompanyAdmin(admin.ModelAdmin[InstallerCompany]):
    list_display = ("organisation", "certified_until", "capacity", "warranty_months")
    list_select_related = ("organisation",)
    search_fields = ("organisation__name", "organisation__slug")
    fields = (
        "organisation",
        "certified_until",
        "certified_at",
        "certified_by",
        "capacity",
        "warranty_months",
        "jobs_email",
    )
    readonly_fields = ("certified_at", "certified_by")
    inlines = (InstallerRegionInline,)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "organisation" and field is not None and field.queryset is not None:
            field.queryset = field.queryset.filter(kind=OrganisationKind.INSTALLER)
        return field

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:  # the company stays the organisation's
            return (*self.readonly_fields, "organisation")
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: InstallerCompany, form: Any, change: bool
    ) -> None:
        until = obj.certified_until
        certify = not change or "certified_until" in form.changed_data
        super().save_model(request, obj, form, change)
        user = _operator(request)
        if certify:
            installer_certify(company=obj, until=until, by_user=user)
            obj.refresh_from_db()
        installer_updated(
            company=obj,
            by_user=user,
            changed=[f for f in form.changed_data if f != "certified_until"] if change else [],
        )


def _operator(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(InstallationJob)
class InstallationJobAdmin(admin.ModelAdmin[InstallationJob]):
    """Read-only: every step is a service of its party; the operator's only write here is
    the automatic assignment, run again."""

    list_display = (
        "id",
        "driver",
        "organisation",
        "connection",
        "installer",
        "status",
        "postcode",
        "country",
        "created_at",
        "status_changed_at",
    )
    list_filter = ("status", "installer", "country")
    list_select_related = ("driver", "organisation", "connection", "installer__organisation")
    search_fields = ("driver__email", "postcode", "charger_serial")
    actions = ("assign_again", "assign_to")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Run the automatic assignment again")
    def assign_again(self, request: HttpRequest, queryset: QuerySet[InstallationJob]) -> None:
        done = 0
        for job in queryset:
            try:
                job_assign(job=job, installer=None, by_user=_operator(request))
                done += 1
            except (ValidationError, WrongStep) as exc:
                self.message_user(
                    request, f"Job {job.pk}: {'; '.join(exc.messages)}", messages.WARNING
                )
        if done:
            self.message_user(request, f"{done} job(s) assigned.", messages.SUCCESS)

    @admin.action(description="Assign to an installer of my choice…")
    def assign_to(
        self, request: HttpRequest, queryset: QuerySet[InstallationJob]
    ) -> HttpResponse | None:
        """First a page to choose the installer (certified today) for the selected jobs;
        its form posts the action again with ``apply``, which assigns them."""
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            installer = form.cleaned_data["installer"]
            done = 0
            for job in queryset:
                try:
                    job_assign(job=job, installer=installer, by_user=_operator(request))
                    done += 1
                except (ValidationError, WrongStep) as exc:
                    self.message_user(
                        request, f"Job {job.pk}: {'; '.join(exc.messages)}", messages.WARNING
                    )
            if done:
                self.message_user(
                    request, f"{done} job(s) assigned to {installer}.", messages.SUCCESS
                )
            return None
        return TemplateResponse(
            request,
            "admin/installations/assign_to.html",
            {
                **self.admin_site.each_context(request),
                "title": "Assign installation jobs",
                "jobs": queryset.select_related("driver", "installer__organisation"),
                "form": form,
                "action": "assign_to",
                "opts": self.model._meta,
            },
        )


class AssignForm(forms.Form):
    installer = forms.ModelChoiceField(
        label="Installer company",
        queryset=InstallerCompany.objects.none(),
        help_text="Certified today; its capacity is not checked when you choose it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["installer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = InstallerCompany.objects.filter(
            certified_until__gte=timezone.now().date()
        ).select_related("organisation")
