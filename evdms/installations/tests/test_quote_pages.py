"""The quote pages as people use them: the approval link (no log-in), the organisation's
page in the app, the driver's page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from evdms.accounts.models import User
from evdms.installations.models import JobStatus, Quote, QuoteApprovalLink
from evdms.installations.payer_split import LineInput
from evdms.installations.services.quotes import quote_submit
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import World, client_for, make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db

D = Decimal
LINES = [
    LineInput("standard_package", "Standard package", D("1"), D("1000.00"), D("21")),
    LineInput("extra", "Groundwork (m)", D("5"), D("12.50"), D("21")),
    LineInput("driver_extra", "Black cable", D("1"), D("99.99"), D("21")),
]


@pytest.fixture
def quoted(world: World):
    installer = make_installer()
    connection = make_connection(
        world.org_a, name="Voltlease_Custom", installation_payment_model="customised_quoting"
    )
    dora = User.objects.create_user(
        "dora@example.com", "dora's passphrase 1", full_name="Dora Driver"
    )
    job = make_job(connection, dora, installer.company, status="surveyed")
    job.phone = "+31 6 1234 5678"
    job.save()
    quote = quote_submit(actor=world.actor(installer.manager), job=job, lines=LINES)
    email = OutboundEmail.objects.get(template="quote_for_approval")
    found = re.search(r"/quote-approval/[^/\s]+/", email.text_body)
    assert found
    return job, quote, found.group(0), dora


def _driver_client(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
    return client


# --- the approval link ------------------------------------------------------------------


def test_the_link_page_shows_the_quote_and_the_driver_by_name_only(quoted):
    _, _, url, _ = quoted
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    page = response.content.decode()
    for shown in ("Voltlease", "Voltlease_Custom", "Dora Driver", "Amsterdam", "Groundwork (m)"):
        assert shown in page
    assert "1,406.62" in page and "1,285.63" in page and "120.99" in page
    for hidden in ("dora@example.com", "Damrak", "1012 AB", "1234 5678"):
        assert hidden not in page
    assert 'value="approve"' in page and 'value="decline"' in page
    assert "csrfmiddlewaretoken" in page


def test_approving_through_the_link_works_once(quoted):
    _, quote, url, _ = quoted
    client = Client()
    response = client.post(url, {"quote": "1", "decision": "approve"})
    assert response.status_code == 200 and "Quote approved" in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"
    quote.refresh_from_db()
    assert quote.organisation_approval == "approved"
    again = client.get(url)
    assert again.status_code == 410
    page = again.content.decode()
    assert "already used" in page
    assert "1,406.62" not in page and "Dora" not in page  # nothing about the quote
    second = client.post(url, {"quote": "1", "decision": "decline", "reason": "No"})
    assert second.status_code == 410
    quote.refresh_from_db()
    assert quote.organisation_approval == "approved" and quote.status == "awaiting_approval"


def test_declining_through_the_link_needs_a_reason(quoted):
    job, _, url, _ = quoted
    response = Client().post(url, {"quote": "1", "decision": "decline", "reason": ""})
    assert response.status_code == 400
    assert "Say why the quote is declined." in response.content.decode()
    assert QuoteApprovalLink.objects.get().used_at is None
    response = Client().post(url, {"quote": "1", "decision": "decline", "reason": "Too dear"})
    assert response.status_code == 200 and "Quote declined" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.SURVEYED


def test_an_expired_or_unknown_link_says_so_and_nothing_else(quoted):
    _, _, url, _ = quoted
    QuoteApprovalLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    expired = Client().get(url)
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    assert "1,406.62" not in expired.content.decode()
    assert Client().post(url, {"quote": "1", "decision": "approve"}).status_code == 410
    unknown = Client().get("/quote-approval/not-a-token/")
    assert unknown.status_code == 404 and "not known" in unknown.content.decode()
    assert unknown["Referrer-Policy"] == "no-referrer"
    assert Quote.objects.get().organisation_approval == "pending"


def test_the_link_form_works_as_a_no_referrer_page_posts_it(quoted):
    """With no-referrer a browser posts the form with ``Origin: null`` and no Referer;
    the link's token, not a session, is what authorises the decision."""
    _, quote, url, _ = quoted
    response = Client(enforce_csrf_checks=True).post(
        url, {"quote": "1", "decision": "approve"}, headers={"Origin": "null"}, secure=True
    )
    assert response.status_code == 200 and "Quote approved" in response.content.decode()
    quote.refresh_from_db()
    assert quote.organisation_approval == "approved"


# --- the organisation, in the app -------------------------------------------------------


def test_a_network_manager_decides_in_the_app(world, quoted):
    job, quote, url, _ = quoted
    client = client_for(world.nadia)
    page = client.get(f"/installations/jobs/{job.pk}/quote/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Quote 1" in text and "1,285.63" in text and 'value="approve"' in text
    response = client.post(
        f"/installations/jobs/{job.pk}/quote/decide/", {"quote": "1", "decision": "approve"}
    )
    assert response.status_code == 302
    after = client.get(f"/installations/jobs/{job.pk}/quote/").content.decode()
    assert "You approved quote 1." in after and 'value="approve"' not in after
    quote.refresh_from_db()
    assert quote.organisation_decided_by == "nadia@voltlease.example"
    assert Client().get(url).status_code == 410  # the link is of no further use


def test_a_decline_in_the_app_without_a_reason_is_refused(world, quoted):
    job, quote, _, _ = quoted
    client = client_for(world.otto)
    response = client.post(
        f"/installations/jobs/{job.pk}/quote/decide/",
        {"quote": "1", "decision": "decline"},
        follow=True,
    )
    assert "Say why the quote is declined." in response.content.decode()
    quote.refresh_from_db()
    assert quote.organisation_approval == "pending"


def test_a_stale_form_does_not_decide_a_newer_quote(world, quoted):
    job, quote, _, _ = quoted
    response = client_for(world.nadia).post(
        f"/installations/jobs/{job.pk}/quote/decide/",
        {"quote": "7", "decision": "approve"},
        follow=True,
    )
    assert "replaced by a newer one" in response.content.decode()
    quote.refresh_from_db()
    assert quote.organisation_approval == "pending"


def test_an_analyst_reads_the_quote_but_cannot_decide(world, quoted):
    job, quote, _, _ = quoted
    client = client_for(world.ana)
    page = client.get(f"/installations/jobs/{job.pk}/quote/").content.decode()
    assert "1,406.62" in page and 'value="approve"' not in page and "cannot decide" not in page
    assert "can read this quote but not decide it" in page
    response = client.post(
        f"/installations/jobs/{job.pk}/quote/decide/", {"quote": "1", "decision": "approve"}
    )
    assert response.status_code == 403
    quote.refresh_from_db()
    assert quote.organisation_approval == "pending"


def test_another_organisation_gets_404(world, quoted):
    job, quote, _, _ = quoted
    client = client_for(world.bob)
    assert client.get(f"/installations/jobs/{job.pk}/quote/").status_code == 404
    response = client.post(
        f"/installations/jobs/{job.pk}/quote/decide/", {"quote": "1", "decision": "approve"}
    )
    assert response.status_code == 404
    quote.refresh_from_db()
    assert quote.organisation_approval == "pending"


def test_a_job_without_a_quote_says_so(world):
    installer = make_installer()
    connection = make_connection(world.org_a, installation_payment_model="customised_quoting")
    dora = User.objects.create_user("dora@example.com", "dora's passphrase 1")
    job = make_job(connection, dora, installer.company, status="contacted")
    page = client_for(world.nadia).get(f"/installations/jobs/{job.pk}/quote/")
    assert "has not submitted a quote" in page.content.decode()


# --- the driver -----------------------------------------------------------------------


def test_the_driver_approves_their_part(quoted):
    job, quote, _, dora = quoted
    client = _driver_client(dora)
    page = client.get(f"/my/installation/{job.pk}/quote/").content.decode()
    assert "You pay" in page and "€120.99" in page and 'value="approve"' in page
    response = client.post(
        f"/my/installation/{job.pk}/quote/", {"quote": "1", "decision": "approve"}, follow=True
    )
    text = response.content.decode()
    assert "You approved your part of the quote." in text and 'value="approve"' not in text
    quote.refresh_from_db()
    assert quote.driver_approval == "approved"


def test_the_driver_declines_with_a_reason(quoted):
    job, quote, _, dora = quoted
    client = _driver_client(dora)
    refused = client.post(
        f"/my/installation/{job.pk}/quote/", {"quote": "1", "decision": "decline"}
    )
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    client.post(
        f"/my/installation/{job.pk}/quote/",
        {"quote": "1", "decision": "decline", "reason": "I do not want the black cable"},
    )
    quote.refresh_from_db()
    job.refresh_from_db()
    assert quote.status == "declined" and job.status == JobStatus.SURVEYED
    email = OutboundEmail.objects.get(template="quote_declined")
    assert email.to == ["manager@sparkfit.example"]
    assert "The driver declined" in email.text_body


def test_another_driver_gets_404(quoted):
    job, quote, _, _ = quoted
    eve = User.objects.create_user("eve@example.com", "eve's passphrase 12")
    client = _driver_client(eve)
    assert client.get(f"/my/installation/{job.pk}/quote/").status_code == 404
    assert (
        client.post(
            f"/my/installation/{job.pk}/quote/", {"quote": "1", "decision": "approve"}
        ).status_code
        == 404
    )
    quote.refresh_from_db()
    assert quote.driver_approval == "pending"


def test_a_cancelled_job_closes_its_link_and_its_forms(world, quoted):
    job, _, url, dora = quoted
    type(job).objects.filter(pk=job.pk).update(status="cancelled", cancel_reason="Moved abroad")
    closed = Client().get(url)
    assert closed.status_code == 410 and "no longer valid" in closed.content.decode()
    assert (
        'value="approve"'
        not in client_for(world.nadia).get(f"/installations/jobs/{job.pk}/quote/").content.decode()
    )
    assert (
        'value="approve"'
        not in _driver_client(dora).get(f"/my/installation/{job.pk}/quote/").content.decode()
    )
