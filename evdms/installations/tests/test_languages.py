"""Issue #19: a driver's installation page and e-mails in the driver's language; an
installer's e-mails in each manager's own, or the organisation's for its jobs address."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import Role
from evdms.installations.models import InstallationJob, JobStatus
from evdms.installations.services.jobs import (
    appointment_move_request,
    job_schedule,
)
from evdms.installations.services.transitions import Party, job_transition
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import make_admin, make_connection
from evdms.testing.installations import make_installer, make_job
from evdms.testing.languages import admin_speaking, driver_speaking, logged_in, speaking

pytestmark = pytest.mark.django_db

MY = reverse("installations:my-installation")


@pytest.fixture
def installer(world):
    return make_installer()


def scheduled(job: InstallationJob, actor) -> InstallationJob:
    for to in (JobStatus.CONTACTED, JobStatus.SURVEYED, JobStatus.QUOTED):
        job_transition(job_id=job.pk, to=to, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.QUOTE_APPROVED, party=Party.SYSTEM)
    return job_schedule(
        actor=actor, job=job, appointment_at=timezone.now() + datetime.timedelta(days=5)
    )


def test_the_installation_page_of_a_german_speaking_driver_is_in_german(world, installer):
    dora = driver_speaking("de")
    connection = make_connection(world.org_a, name="Zuhause laden")
    job = make_job(connection, dora, installer.company)
    scheduled(job, world.actor(installer.technician))

    page = logged_in(dora).get(MY).content.decode()

    for german in (
        "Meine Wallbox-Installation",
        "Installationsadresse",
        "Die Installation ist für den",  # what happens next, from the view
        "Um Verschiebung des Termins bitten",
        "Warum, und welche Tage Ihnen passen",  # the form's label
        "Ein Foto der Wand oder Ihres Sicherungskastens hinzufügen",
        "JPEG oder PNG, höchstens 10 MB.",
        "Terminiert",  # the job's status
    ):
        assert german in page, german
    for english in (
        "My home charger installation",
        "Installation address",
        "The installation is planned for",
        "Ask to move",
        "Why, and which days suit you",
        "fuse box",
        "Scheduled",
        "Upload",
    ):
        assert english not in page, english


def test_an_installation_email_to_a_dutch_speaking_driver_is_in_dutch(world, installer):
    dora = driver_speaking("nl")
    job = make_job(make_connection(world.org_a), dora, installer.company)

    scheduled(job, world.actor(installer.technician))

    email = OutboundEmail.objects.get(template="installation_appointment")
    assert email.to == ["dora@example.com"] and email.language == "nl"
    assert email.subject == "Afspraak voor de installatie van je thuislader"
    for body in (email.text_body, email.html_body):
        assert "Hallo Dora," in body
        assert "De installatie van je thuislader is ingepland." in body
        assert "Sparkfit Installations komt op" in body
        assert "Your home charger" not in body and "will come on" not in body


def test_the_installer_hears_in_each_managers_language_or_the_organisations(world, installer):
    dora = driver_speaking("nl")
    job = make_job(make_connection(world.org_a), dora, installer.company)
    scheduled(job, world.actor(installer.technician))
    speaking(installer.manager.user, "de")
    make_admin(installer.organisation, "second@sparkfit.example", Role.INSTALLER_MANAGER)

    appointment_move_request(driver=dora, job=job, note="Lieber Montag")

    sent = {
        tuple(e.to): (e.language, e.subject)
        for e in OutboundEmail.objects.filter(template="installation_move_request")
    }
    assert sent == {
        ("manager@sparkfit.example",): (
            "de",
            "Der Fahrer bittet um Verschiebung eines Termins: 1012 AB Amsterdam",
        ),
        ("second@sparkfit.example",): (
            "en-gb",
            "The driver asks to move an appointment: 1012 AB Amsterdam",
        ),
    }

    # The company's jobs address is no one's: the organisation's default language.
    OutboundEmail.objects.all().delete()
    installer.organisation.default_language = "fr"
    installer.organisation.save(update_fields=["default_language"])
    installer.company.jobs_email = "jobs@sparkfit.example"
    installer.company.save(update_fields=["jobs_email"])
    eve = driver_speaking("de", email="eve@example.com", full_name="")
    other = make_job(make_connection(world.org_a, name="Second"), eve, installer.company)
    scheduled(other, world.actor(installer.technician))
    appointment_move_request(driver=eve, job=other, note="Lieber Dienstag")

    email = OutboundEmail.objects.get(template="installation_move_request")
    assert (email.to, email.language) == (["jobs@sparkfit.example"], "fr")
    assert email.subject == ("Le conducteur demande à déplacer un rendez-vous : 1012 AB Amsterdam")


def test_the_report_and_a_jobs_page_of_a_french_speaking_admin_are_in_french(world, installer):
    job = make_job(make_connection(world.org_a), driver_speaking("nl"), installer.company)
    scheduled(job, world.actor(installer.technician))
    client = admin_speaking(world.nadia, "fr")

    report = client.get(reverse("installations:report")).content.decode()
    page = client.get(reverse("installations:job", args=[job.pk])).content.decode()

    assert "Rapport des installations de bornes à domicile" in report
    assert ">Intervention" in report and "Jours dans le statut" in report
    assert "Planifiée" in report and "Scheduled" not in report
    assert "Exporter en CSV" in report and "Export CSV" not in report
    assert "Historique" in page and "Tentatives de contact" in page
    assert ">Planifiée<" in page and ">Devis approuvé<" in page
    assert "Scheduled" not in page and "quote_approved" not in page


@pytest.mark.parametrize(
    ("language", "expected", "wrong"),
    [
        ("de", "· Zugewiesen seit 3 Tagen", "seit 3 Tagen Zugewiesen"),
        ("nl", "· Toegewezen, al 3 dagen", "3 dagen Toegewezen"),
        ("fr", "· Attribuée depuis 3 jours", None),
        ("en-gb", "· Assigned for 3 days", None),
    ],
)
def test_a_jobs_page_says_how_long_it_has_been_in_its_status_as_the_language_does(
    world, installer, language, expected, wrong
):
    job = make_job(make_connection(world.org_a), driver_speaking("nl"), installer.company)
    InstallationJob.objects.filter(pk=job.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=3, hours=2)
    )
    client = admin_speaking(world.nadia, language)
    page = client.get(reverse("installations:job", args=[job.pk])).content.decode()
    assert expected in page
    if wrong:
        assert wrong not in page
