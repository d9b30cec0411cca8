"""Issue #19: a job's history reads in the reader's language: who acted when it was not a
person (the platform, an API key, a charger, an approval link) and the notes the platform
wrote. The rows keep codes; rows from before keep their English and read the same way.
The API answers in English."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.installations.models import JobTransition
from evdms.installations.payer_split import LineInput
from evdms.installations.services.quotes import quote_decide_by_link, quote_submit
from evdms.installations.tests.report_fixtures import Jobs, ago, jobs_fixture  # noqa: F401
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import client_for, make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


def _history(page: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"\s+", " ", text)


def _german(admin) -> None:
    User.objects.filter(pk=admin.user_id).update(language="de")


def test_a_german_admin_reads_a_jobs_history_in_german(jobs: Jobs):
    dan = jobs.dan
    JobTransition.objects.filter(job=dan).delete()
    rows = [
        # Written now: codes and parameters.
        ("", "assigned", "platform", "", "assigned", {"installer": "Sparkfit Installations"}),
        ("assigned", "contacted", "api_key:CRM", "", "", {}),
        ("contacted", "surveyed", "charger:DORA-HOME", "", "", {}),
        # Written before the codes, in English.
        ("surveyed", "quoted", "API key “Old key”", "", "", {}),
        ("quoted", "surveyed", "approval link sent to support@acme.example", "", "", {}),
        ("surveyed", "quoted", "the platform", "", "", {}),
    ]
    for days, (source, to, by, note, code, params) in enumerate(rows):
        JobTransition.objects.create(
            job=dan,
            from_status=source,
            to_status=to,
            by_label=by,
            note=note,
            note_code=code,
            note_params=params,
            at=ago(30 - days),
        )
    JobTransition.objects.filter(job=dan, from_status="quoted").update(
        note="The organisation declined quote 2: Too dear"
    )
    JobTransition.objects.filter(job=dan, by_label="the platform").update(
        from_status="", note="No certified installer serves this address yet"
    )
    _german(jobs.world.nadia)

    page = client_for(jobs.world.nadia).get(reverse("installations:job", args=[dan.pk]))
    text = _history(page.content.decode())

    for german in (
        "die Plattform",
        "Zugewiesen an Sparkfit Installations",
        "API-Schlüssel „CRM“",
        "Ladestation DORA-HOME",
        "API-Schlüssel „Old key“",
        "Genehmigungslink gesendet an support@acme.example",
        "Die Organisation hat Angebot 2 abgelehnt: Too dear",  # the reason as written
        "Noch kein zertifizierter Installateur bedient diese Adresse",
    ):
        assert german in text, german
    for english in (
        "the platform",
        "Assigned to",
        "API key",
        "charger DORA-HOME",
        "approval link sent to",
        "declined quote",
        "No certified installer",
        "api_key:",
    ):
        assert english not in text, english


def test_a_quote_declined_through_the_link_is_kept_as_codes_and_read_in_german(world):
    installer = make_installer()
    connection = make_connection(world.org_a, installation_payment_model="customised_quoting")
    dora = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    job = make_job(connection, dora, installer.company, status="surveyed")
    line = LineInput(
        kind="standard_package",
        description="Standard package",
        quantity=Decimal("1"),
        unit_price=Decimal("1000.00"),
        vat_rate=Decimal("21"),
    )
    quote = quote_submit(actor=world.actor(installer.manager), job=job, lines=[line])
    body = OutboundEmail.objects.get(template="quote_for_approval").text_body
    token = re.search(r"/quote-approval/([^/\s]+)/", body)
    assert token is not None
    quote_decide_by_link(token=token.group(1), approve=False, reason="Zu teuer")

    declined = JobTransition.objects.filter(job=job).latest("pk")
    assert declined.by_label == "approval_link:support@voltlease.example"
    assert (declined.note, declined.note_code) == ("Zu teuer", "quote_declined")
    assert declined.note_params == {"by": "organisation", "number": quote.number}
    _german(world.nadia)
    text = _history(
        client_for(world.nadia).get(reverse("installations:job", args=[job.pk])).content.decode()
    )
    assert "Genehmigungslink gesendet an support@voltlease.example" in text
    assert f"Die Organisation hat Angebot {quote.number} abgelehnt: Zu teuer" in text
    assert "approval_link:" not in text and "declined quote" not in text


def test_the_api_gives_a_jobs_history_in_english(jobs: Jobs, api_key_for, client):
    JobTransition.objects.create(
        job=jobs.dan,
        from_status="quoted",
        to_status="surveyed",
        by_label="approval_link:support@acme.example",
        note="Too dear",
        note_code="quote_declined",
        note_params={"by": "driver", "number": "2"},
        at=ago(1),
    )
    response = client.get(
        f"/api/v1/installations/{jobs.dan.pk}",
        headers={**api_key_for(jobs.world.org_a), "Accept-Language": "de"},
    )
    assert response.status_code == 200, response.content
    last = response.json()["history"][-1]
    assert last["by"] == "approval link sent to support@acme.example"
    assert last["note"] == "The driver declined quote 2: Too dear"
