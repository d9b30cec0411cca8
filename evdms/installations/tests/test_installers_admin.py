"""The platform operator certifies installer companies (Django admin, or the command),
with regions and capacity, audited; jobs are listed read-only."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import OrganisationKind, User
from evdms.audit.models import AuditEvent
from evdms.installations.models import InstallationJob, InstallerCompany
from evdms.installations.services.jobs import installer_for_address
from evdms.testing.fixtures import client_for, make_connection, make_organisation
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def petra() -> Client:
    operator = User.objects.create_user(
        "petra@platform.example", "petra's long passphrase", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(operator, backend="evdms.accounts.backends.EmailBackend")
    return client


def test_the_command_certifies_with_regions_and_capacity(db):
    organisation = make_organisation("wattworks", "Wattworks", kind=OrganisationKind.INSTALLER)
    out = StringIO()
    until = (timezone.now().date() + datetime.timedelta(days=90)).isoformat()
    call_command(
        "certify_installer",
        "--organisation",
        "wattworks",
        "--until",
        until,
        "--region",
        "nl:10",
        "--region",
        "BE",
        "--capacity",
        "5",
        stdout=out,
    )
    company = InstallerCompany.objects.get(organisation=organisation)
    assert company.capacity == 5 and company.certified_until == datetime.date.fromisoformat(until)
    assert sorted(company.regions.values_list("country", "postcode_prefix")) == [
        ("BE", ""),
        ("NL", "10"),
    ]
    assert "Wattworks is certified until" in out.getvalue()
    event = AuditEvent.objects.get(action="installer.certify")
    assert event.organisation == organisation and event.changes["certified_until"][1] == until
    assert installer_for_address(country="NL", postcode="1012AB") == company
    assert installer_for_address(country="NL", postcode="3511AA") is None
    # Lapsed: out of assignment.
    call_command(
        "certify_installer", "--organisation", "wattworks", "--until", "2020-01-01", stdout=out
    )
    assert installer_for_address(country="BE", postcode="1000") is None
    assert InstallerCompany.objects.get().regions.count() == 2  # kept without --region


def test_the_command_refuses_what_is_not_an_installer(world):
    with pytest.raises(CommandError, match="not an organisation of kind installer"):
        call_command("certify_installer", "--organisation", "voltlease", "--until", "2030-01-01")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("certify_installer", "--organisation", "nobody", "--until", "2030-01-01")
    make_organisation("wattworks", "Wattworks", kind=OrganisationKind.INSTALLER)
    with pytest.raises(CommandError, match="two-letter country"):
        call_command(
            "certify_installer",
            "--organisation",
            "wattworks",
            "--until",
            "2030-01-01",
            "--region",
            "Netherlands",
        )
    with pytest.raises(CommandError, match="not a date"):
        call_command("certify_installer", "--organisation", "wattworks", "--until", "soon")
    assert not InstallerCompany.objects.filter(certified_until__isnull=False).exists()


def test_the_operator_certifies_in_the_admin_with_a_region_inline(petra):
    organisation = make_organisation("wattworks", "Wattworks", kind=OrganisationKind.INSTALLER)
    response = petra.post(
        reverse("admin:installations_installercompany_add"),
        {
            "organisation": organisation.pk,
            "certified_until": "2030-06-30",
            "capacity": "10",
            "warranty_months": "24",
            "jobs_email": "",
            "regions-TOTAL_FORMS": "1",
            "regions-INITIAL_FORMS": "0",
            "regions-MIN_NUM_FORMS": "0",
            "regions-MAX_NUM_FORMS": "1000",
            "regions-0-country": "nl",
            "regions-0-postcode_prefix": "10 1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    company = InstallerCompany.objects.get()
    assert company.certified_until == datetime.date(2030, 6, 30)
    assert (
        company.certified_by is not None and company.certified_by.email == "petra@platform.example"
    )
    assert list(company.regions.values_list("country", "postcode_prefix")) == [("NL", "101")]
    assert AuditEvent.objects.filter(
        action="installer.certify", actor_label="petra@platform.example"
    ).exists()


def test_jobs_are_listed_read_only_and_assignment_runs_again(world, petra):
    job = make_job(make_connection(world.org_a), User.objects.create(email="d@example.com"), None)
    listing = petra.get(reverse("admin:installations_installationjob_changelist"))
    assert listing.status_code == 200 and "d@example.com" in listing.content.decode()
    assert petra.get(reverse("admin:installations_installationjob_add")).status_code == 403
    installer = make_installer()
    petra.post(
        reverse("admin:installations_installationjob_changelist"),
        {"action": "assign_again", "_selected_action": [job.pk]},
    )
    assert InstallationJob.objects.get().installer == installer.company


def test_organisation_admins_cannot_open_the_installer_admin(world):
    response = client_for(world.nadia).get(
        reverse("admin:installations_installercompany_changelist")
    )
    assert response.status_code in (302, 403)


def test_the_operator_assigns_jobs_to_an_installer_of_their_choice(world, petra):
    first = make_installer()
    chosen = make_installer(slug="voltfix", name="Voltfix", regions=(("BE", ""),))
    lapsed = make_installer(slug="oldfix", name="Oldfix", certified_for_days=-1)
    job = make_job(
        make_connection(world.org_a), User.objects.create(email="d@example.com"), first.company
    )
    url = reverse("admin:installations_installationjob_changelist")
    page = petra.post(url, {"action": "assign_to", "_selected_action": [job.pk]})
    text = page.content.decode()
    assert page.status_code == 200 and "Assign installation jobs" in text
    assert "Voltfix" in text and "Oldfix" not in text  # only certified companies offered
    refused = petra.post(
        url,
        {
            "action": "assign_to",
            "_selected_action": [job.pk],
            "apply": "yes",
            "installer": lapsed.company.pk,
        },
    )
    assert refused.status_code == 200 and InstallationJob.objects.get().installer == first.company
    petra.post(
        url,
        {
            "action": "assign_to",
            "_selected_action": [job.pk],
            "apply": "yes",
            "installer": chosen.company.pk,
        },
        follow=True,
    )
    assert InstallationJob.objects.get().installer == chosen.company
    from evdms.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="installation.assign")
    assert event.actor_label == "petra@platform.example"
    assert event.changes["installer"] == ["Sparkfit Installations", "Voltfix"]
