"""The demo shows the whole product and loading it twice changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from evdms.accounts.models import Admin, Organisation, Role
from evdms.connections.models import Connection, InstallationPaymentModel

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_roles_and_benefits():
    call_command("seed_demo")
    from evdms.charging.models import ChargingSession
    from evdms.enrolment.models import Membership

    def counts() -> tuple[int, ...]:
        return (
            Admin.objects.count(),
            Connection.objects.count(),
            Membership.objects.count(),
            ChargingSession.objects.count(),
        )

    before = counts()
    call_command("seed_demo")
    assert counts() == before
    assert set(Admin.objects.values_list("role", flat=True)) == set(Role.values)
    models = set(Connection.objects.values_list("installation_payment_model", flat=True))
    assert set(InstallationPaymentModel.values) <= models
    combos = {
        (c.provide_home_charger, c.reimburse_home_charging, c.pay_for_public_charging)
        for c in Connection.objects.all()
    }
    assert {
        (True, True, True),
        (True, True, False),
        (True, False, False),
        (False, False, True),
    } <= combos
    assert Connection.objects.filter(enabled=False).exists()
    assert Connection.objects.exclude(logo_sha256="").exists()
    assert Connection.objects.filter(custom_terms_enabled=True).exists()
    from evdms.enrolment.models import MembershipStatus

    assert set(Membership.objects.values_list("status", flat=True)) == set(MembershipStatus.values)
    assert Membership.objects.count() == 32  # 20 drivers, 12 more for the installations
    from evdms.charging.models import Charger

    assert Charger.objects.filter(driver__isnull=False).count() >= 5
    assert ChargingSession.objects.count() > 100
    from django.utils import timezone

    assert not ChargingSession.objects.filter(ended_at__gt=timezone.now()).exists()
    from evdms.reimbursements.models import PayoutBatch, Statement

    assert Statement.objects.filter(status="in_batch").exists()
    assert Statement.objects.filter(status="held").exists()
    assert sorted(PayoutBatch.objects.values_list("status", flat=True)) == ["exported", "paid"]
    paid = PayoutBatch.objects.get(status="paid")
    assert set(paid.lines.values_list("status", flat=True)) == {"paid", "failed"}
    # The returned payment was carried into the driver's next statement by the next run.
    assert Statement.objects.filter(status="carried_over").count() == 1
    assert Statement.objects.filter(carry_overs__isnull=False).count() == 1
    assert Statement.objects.filter(status="paid").exists()


def test_the_demo_has_installations_in_every_status_and_payment_model():
    call_command("seed_demo")
    from evdms.installations.models import (
        DocumentKind,
        InstallationJob,
        JobDocument,
        JobStatus,
        Quote,
        QuoteStatus,
    )

    jobs = InstallationJob.objects.all()
    assert set(jobs.values_list("status", flat=True)) == set(JobStatus.values)
    assert set(jobs.values_list("connection__installation_payment_model", flat=True)) == set(
        InstallationPaymentModel.values
    )
    assert not jobs.filter(installer__isnull=True).exists()  # all assigned to the installer
    assert Quote.objects.filter(status=QuoteStatus.DECLINED).count() == 1
    declined = Quote.objects.get(status=QuoteStatus.DECLINED).job
    assert (
        declined.status == JobStatus.SURVEYED
        and declined.history.filter(
            to_status=JobStatus.SURVEYED, from_status=JobStatus.QUOTED
        ).exists()
    )
    cancelled = jobs.filter(status=JobStatus.CANCELLED)
    assert cancelled.exists() and not cancelled.filter(cancel_reason="").exists()
    done = jobs.filter(status=JobStatus.COMPLETED)
    assert JobDocument.objects.filter(job__in=done, kind=DocumentKind.DECLARATION).count() == 2
    # Warranty and labour from the commissioning date (Voltlease_Home Direct: 36 months).
    direct = done.get(connection__name="Voltlease_Home Direct")
    assert direct.commissioned_at is not None and direct.warranty_until is not None
    assert direct.warranty_until.year == direct.commissioned_at.year + 3
    # Dates spread over the last weeks, in order: the report has days in status to show.
    for job in jobs:
        stamps = [job.created_at] + [h.at for h in job.history.all()]
        assert stamps == sorted(stamps)
    assert jobs.filter(created_at__lt=timezone_days_ago(30)).exists()


def timezone_days_ago(days: int):
    import datetime

    from django.utils import timezone

    return timezone.now() - datetime.timedelta(days=days)


def test_the_demo_has_app_tokens_and_two_cards_one_blocked():
    from evdms.public_charging.models import Token
    from evdms.public_charging.services.tokens import paying_memberships

    call_command("seed_demo")
    call_command("seed_demo")  # twice: no second card, no second app token
    paying = paying_memberships().values_list("driver_id", "organisation_id")
    apps = set(
        Token.objects.filter(type="APP_USER", valid=True).values_list(
            "driver_id", "organisation_id"
        )
    )
    assert set(paying) <= apps and apps
    cards = Token.objects.filter(type="RFID").order_by("uid")
    assert [(c.visual_number, c.blocked, c.valid) for c in cards] == [
        ("EVD-CARD-0001", "", True),
        ("EVD-CARD-0002", "blocked", False),
    ]


def test_the_demo_has_invoices_of_every_kind_a_credit_note_one_paid_one_overdue():
    from evdms.invoicing.models import FeeSchedule, Invoice, InvoiceKind, InvoiceStatus

    call_command("seed_demo")
    issued = list(Invoice.objects.order_by("number").values_list("number", "total_incl_vat"))
    call_command("seed_demo")  # twice: nothing issued again
    assert list(Invoice.objects.order_by("number").values_list("number", "total_incl_vat")) == (
        issued
    )
    invoiced = Organisation.objects.filter(slug__in=["voltlease", "acme-logistics"])
    assert FeeSchedule.objects.filter(organisation__in=invoiced).count() == 2
    kinds = set(Invoice.objects.values_list("kind", flat=True))
    assert kinds == {
        InvoiceKind.BUNDLE,
        InvoiceKind.SERVICES,
        InvoiceKind.TRANSACTIONS,
        InvoiceKind.CREDIT_NOTE,
    }
    assert Invoice.objects.filter(status=InvoiceStatus.PAID).exists()
    assert Invoice.objects.filter(status=InvoiceStatus.OVERDUE).count() == 1
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert credit_note.credits is not None and credit_note.total_incl_vat > 0
    # Acme Logistics is a Belgian business: reverse charge; Northwind's payer is Voltlease.
    acme = Invoice.objects.filter(organisation__slug="acme-logistics").first()
    assert acme is not None and set(acme.lines.values_list("vat_category", flat=True)) <= {
        "AE",
        "E",
    }
    assert set(
        Invoice.objects.filter(organisation__slug="northwind-foods").values_list(
            "buyer__slug", flat=True
        )
    ) == {"voltlease"}
