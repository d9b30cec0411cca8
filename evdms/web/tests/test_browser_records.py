"""In real Chromium at 1366 px and at 390 px: the pages admins read records on (the
driver's agreed terms, invitation counters, the Customer ID filter, a statement with its
PDF, the dashboard's and a history's numbers, the outbox's attachments). Screenshots
are kept in test-artifacts/ to look at."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from evdms.accounts.models import User
from evdms.enrolment.models import Invitation, InvitationStatus, TermsAcceptance
from evdms.enrolment.services.invitations import invitation_batch_create
from evdms.enrolment.tasks import send_signed_terms
from evdms.reimbursements.models import Statement
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD, make_connection, make_membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TERMS = "1. Charge responsibly.\n2. Report a broken charger within a week."
WIDTHS = {"wide": 1366, "phone": 390}


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_records_admins_read_at_both_widths(world, live_server, browser, size):
    connection = make_connection(
        world.org_a,
        name="Acme_Home",
        customer_id="CRM-1001",
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
    send_signed_terms.call(acceptance_id=acceptance.pk)
    batch = invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        csv_bytes=b"name,email\nAnna,anna@example.com\nBen,\nCarl,carl@example.com\nDora,\n",
    )
    Invitation.objects.filter(email="anna@example.com").update(status=InvitationStatus.CONNECTED)
    statement = Statement.objects.create(
        driver=dan,
        connection=connection,
        month=date(2026, 10, 1),
        currency="EUR",
        total=Decimal("1815.00"),
        status="ready",
    )

    context = browser.new_context(
        viewport={"width": WIDTHS[size], "height": 900}, is_mobile=size == "phone"
    )
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("nadia@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    screenshot(page, f"records-dashboard-{size}")

    page.goto(f"{live_server.url}/drivers/{membership.pk}/")
    expect(page.get_by_role("heading", name="Terms and conditions agreed")).to_be_visible()
    expect(page.get_by_text(acceptance.sha256)).to_be_visible()
    expect(page.get_by_role("link", name="Download the signed PDF")).to_be_visible()
    expect(page.get_by_text("Status: Pending →")).to_have_count(0)
    screenshot(page, f"records-driver-terms-{size}")

    page.goto(f"{live_server.url}/connections/{connection.pk}/invite/{batch.pk}/")
    expect(page.get_by_text("2 rows had no e-mail address (lines 3 and 5)")).to_be_visible()
    screenshot(page, f"records-invitation-batch-{size}")

    page.goto(f"{live_server.url}/drivers/?customer_id=1001&customer_id_match=contains")
    expect(page.get_by_role("link", name="Dan Driver")).to_be_visible()
    screenshot(page, f"records-drivers-customer-id-{size}")

    page.goto(f"{live_server.url}/requests/?customer_id=crm-1001")
    expect(page.get_by_role("textbox", name="Customer ID")).to_have_value("crm-1001")
    screenshot(page, f"records-requests-customer-id-{size}")

    page.goto(f"{live_server.url}/statements/{statement.pk}/")
    expect(page.get_by_text("€1,815.00")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{statement.reference}.pdf"
    screenshot(page, f"records-statement-{size}")

    page.goto(f"{live_server.url}/connections/{connection.pk}/")
    expect(page.get_by_text("Connection Type: Leasing Company")).to_be_visible()
    screenshot(page, f"records-connection-history-{size}")

    page.goto(f"{live_server.url}/dev/outbox/")
    expect(
        page.get_by_role("link", name=f"signed-terms-{connection.pk}-{dan.pk}.pdf")
    ).to_be_visible()
    screenshot(page, f"records-outbox-{size}")
    context.close()
