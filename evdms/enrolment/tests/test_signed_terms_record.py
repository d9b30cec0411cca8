"""The record of agreed terms as admins read it: on the driver's page (time, address,
fingerprint, text and the signed PDF), in the outbox (the PDF that went out) and in the
Django admin (read-only, the PDF by name, not as base64)."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from evdms.accounts.models import User
from evdms.enrolment.models import TermsAcceptance
from evdms.enrolment.tasks import send_signed_terms
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db
TERMS = "1. Charge responsibly.\n2. Report a broken charger within a week."


def pdf_text(content: bytes) -> str:
    return PdfReader(io.BytesIO(content)).pages[0].extract_text()


@pytest.fixture
def agreed(world):
    """Dan agreed to the custom terms of Voltlease's connection from 198.51.100.7."""
    connection = make_connection(
        world.org_a,
        custom_terms_enabled="yes",
        terms_text=TERMS,
        signed_terms_recipients="hr@voltlease.example",
    )
    dan = User.objects.create_user("dan@example.com", "dan's passphrase 1", full_name="Dan Driver")
    membership = make_membership(connection, dan)
    acceptance = TermsAcceptance.objects.create(
        membership=membership,
        driver=dan,
        text=TERMS,
        sha256=hashlib.sha256(TERMS.encode()).hexdigest(),
        ip_address="198.51.100.7",
    )
    return acceptance


def test_the_drivers_page_shows_the_agreed_terms_and_offers_the_signed_pdf(world, agreed):
    membership = agreed.membership
    page = client_for(world.otto).get(reverse("enrolment:driver_detail", args=[membership.pk]))
    html = page.content.decode()
    url = reverse("enrolment:signed_terms", args=[membership.pk])
    assert "Terms and conditions agreed" in html
    assert agreed.sha256 in html and "198.51.100.7" in html
    assert "1. Charge responsibly." in html
    local = timezone.localtime(agreed.accepted_at)
    assert local.strftime("%Y-%m-%dT%H:%M:%S") in html  # the <time> element
    assert f'href="{url}"' in html
    response = client_for(world.otto).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.content)
    assert "Dan Driver" in text and agreed.sha256 in text and "Charge responsibly" in text


def test_a_driver_without_custom_terms_says_so_and_has_no_pdf(world):
    connection = make_connection(world.org_a)
    eve = User.objects.create_user("eve@example.com", "eve's passphrase 1")
    membership = make_membership(connection, eve)
    nadia = client_for(world.nadia)
    html = nadia.get(reverse("enrolment:driver_detail", args=[membership.pk])).content.decode()
    assert "No custom terms agreed" in html
    assert nadia.get(reverse("enrolment:signed_terms", args=[membership.pk])).status_code == 404


def test_the_signed_pdf_is_a_404_for_an_admin_who_cannot_see_the_driver(world, agreed):
    url = reverse("enrolment:signed_terms", args=[agreed.membership_id])
    assert client_for(world.bob).get(url).status_code == 404  # another organisation
    assert client_for(world.ana).get(url).status_code == 403  # analysts manage no drivers
    limited = world.otto
    limited.all_connections = False
    limited.save(update_fields=["all_connections"])
    limited.connections.set([make_connection(world.org_a, name="Elsewhere")])
    assert client_for(limited).get(url).status_code == 404  # outside their connections


def test_the_outbox_lists_the_signed_copy_and_downloads_it(client, agreed):
    send_signed_terms.call(acceptance_id=agreed.pk)
    email = OutboundEmail.objects.get(template="signed_terms")
    listing = client.get(reverse("web:outbox")).content.decode()
    download = reverse("web:outbox_attachment", args=[email.pk, 0])
    assert f'href="{download}"' in listing
    filename = email.attachments[0]["filename"]
    assert filename in listing
    detail = client.get(reverse("web:outbox_message", args=[email.pk])).content.decode()
    assert "Attachments" in detail and f'href="{download}"' in detail
    response = client.get(download)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert agreed.sha256 in pdf_text(response.content)
    assert client.get(reverse("web:outbox_attachment", args=[email.pk, 1])).status_code == 404


def test_a_stored_email_is_read_only_in_the_django_admin(agreed):
    send_signed_terms.call(acceptance_id=agreed.pk)
    email = OutboundEmail.objects.get(template="signed_terms")
    petra = User.objects.create_superuser("petra@platform.example", "petra's passphrase 1")
    operator = Client()
    operator.force_login(petra, backend="evdms.accounts.backends.EmailBackend")
    url = reverse("admin:notifications_outboundemail_change", args=[email.pk])
    html = operator.get(url).content.decode()
    assert "<textarea" not in html and 'name="subject"' not in html
    assert email.attachments[0]["content_b64"][:40] not in html  # no base64 on the page
    download = reverse("admin:notifications_outboundemail_attachment", args=[email.pk, 0])
    assert f'href="{download}"' in html and email.attachments[0]["filename"] in html
    assert agreed.sha256 in pdf_text(operator.get(download).content)
    # A change posted anyway is refused and nothing changes.
    before = email.subject
    assert operator.post(url, {"subject": "Edited", "to": "[]"}).status_code == 403
    email.refresh_from_db()
    assert email.subject == before
    assert operator.get(reverse("admin:notifications_outboundemail_add")).status_code == 403
