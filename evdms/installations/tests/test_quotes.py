"""Quotes: submission, who pays what, and the decisions (link, app, driver), each once."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.connections.models import Connection
from evdms.installations.models import (
    JobStatus,
    JobTransition,
    PartApproval,
    Quote,
    QuoteApprovalLink,
    QuoteStatus,
)
from evdms.installations.payer_split import LineInput
from evdms.installations.services.quotes import (
    approval_link_for,
    link_problem,
    quote_decide_by_driver,
    quote_decide_by_link,
    quote_decide_by_organisation,
    quote_submit,
    quotes_withdraw_open,
)
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import World, make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db

D = Decimal


def line(kind="standard_package", description="Standard package", q="1", p="1000.00", vat="21"):
    return LineInput(
        kind=kind, description=description, quantity=D(q), unit_price=D(p), vat_rate=D(vat)
    )


LINES = [
    line(),
    line("extra", "Cable (m)", "5", "12.50"),
    line("driver_extra", "Black cable", "1", "99.99"),
]


def _setup(world: World, model: str, **terms):
    installer = make_installer()
    connection = make_connection(world.org_a, installation_payment_model=model)
    if terms:
        Connection.objects.filter(pk=connection.pk).update(**terms)
    driver = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    job = make_job(connection, driver, installer.company, status="surveyed")
    return job, installer, world.actor(installer.manager)


def _link_token(email: OutboundEmail) -> str:
    found = re.search(r"/quote-approval/([^/\s]+)/", email.text_body)
    assert found, email.text_body
    return found.group(1)


@pytest.fixture
def customised(world):
    return _setup(world, "customised_quoting")


def test_a_customised_quote_is_stored_split_and_sent_for_approval(world, customised):
    job, _, actor = customised
    quote = quote_submit(actor=actor, job=job, lines=LINES, notes="Meter cupboard is tight")
    job.refresh_from_db()
    assert job.status == JobStatus.QUOTED
    assert (quote.total_incl_vat, quote.organisation_share, quote.driver_share) == (
        D("1406.62"),
        D("1285.63"),
        D("120.99"),
    )
    assert [(x.position, x.organisation_part, x.driver_part) for x in quote.lines.all()] == [
        (1, D("1210.00"), D("0.00")),
        (2, D("75.63"), D("0.00")),
        (3, D("0.00"), D("120.99")),
    ]
    assert (quote.organisation_approval, quote.driver_approval) == ("pending", "pending")
    link = QuoteApprovalLink.objects.get(quote=quote)
    assert link.recipient == job.connection.support_email
    assert link.expires_at - link.created_at == datetime.timedelta(days=14)
    to_support = OutboundEmail.objects.get(to=[job.connection.support_email])
    assert to_support.subject.startswith("Quote for approval")
    token = _link_token(to_support)
    assert link.token_hash != token and token not in link.token_hash  # only the hash is kept
    assert approval_link_for(token=token) == link and link_problem(link) is None
    to_driver = OutboundEmail.objects.get(to=["dora@example.com"])
    assert "Your part: €120.99" in to_driver.text_body
    assert f"/my/installation/{job.pk}/quote/" in to_driver.text_body
    event = AuditEvent.objects.get(action="quote.submit")
    assert event.organisation == world.org_a and event.changes["driver_share"] == "120.99"


def test_bad_lines_get_field_level_messages_and_nothing_is_written(customised):
    job, _, actor = customised
    bad = [
        line(),
        line(p="-5"),
        line(description="", q="0"),
        line(q="1001", vat="100.5"),
        line(kind="gift", p="1.234"),
        line(description="x" * 201, p="100000.01", vat="7.125"),
    ]
    with pytest.raises(ValidationError) as refused:
        quote_submit(actor=actor, job=job, lines=bad)
    errors = refused.value.message_dict
    assert errors["lines-1-unit_price"] == ["The unit price cannot be negative."]
    assert set(errors) == {
        "lines-1-unit_price",
        "lines-2-description",
        "lines-2-quantity",
        "lines-3-quantity",
        "lines-3-vat_rate",
        "lines-4-kind",
        "lines-4-unit_price",
        "lines-5-description",
        "lines-5-unit_price",
        "lines-5-vat_rate",
    }
    with pytest.raises(ValidationError) as none:
        quote_submit(actor=actor, job=job, lines=[])
    assert "at least one line" in none.value.message_dict["lines"][0]
    with pytest.raises(ValidationError) as many:
        quote_submit(actor=actor, job=job, lines=[line()] * 51)
    assert "at most 50" in many.value.message_dict["lines"][0]
    job.refresh_from_db()
    assert job.status == "surveyed" and not Quote.objects.exists()
    assert not OutboundEmail.objects.exists() and not JobTransition.objects.exists()


def test_only_the_jobs_installer_manager_quotes_and_only_a_surveyed_job(world, customised):
    job, installer, actor = customised
    with pytest.raises(PermissionDenied):
        quote_submit(actor=world.actor(installer.technician), job=job, lines=LINES)
    other = make_installer("wattworks", "Wattworks")
    with pytest.raises(PermissionDenied):
        quote_submit(actor=world.actor(other.manager), job=job, lines=LINES)
    with pytest.raises(Exception):  # noqa: B017 — Http404: an organisation admin is no installer
        quote_submit(actor=world.actor(world.nadia), job=job, lines=LINES)
    quote_submit(actor=actor, job=job, lines=LINES)
    with pytest.raises(ValidationError) as again:
        quote_submit(actor=actor, job=job, lines=LINES)
    assert "cannot be moved to “Quoted”" in again.value.message_dict["status"][0]
    assert Quote.objects.count() == 1


def test_a_direct_quote_within_the_standard_price_is_approved_at_once(world):
    job, _, actor = _setup(world, "direct", installation_standard_price=D("1500.00"))
    quote = quote_submit(actor=actor, job=job, lines=[line()])
    job.refresh_from_db()
    quote.refresh_from_db()
    assert job.status == JobStatus.QUOTE_APPROVED and quote.status == QuoteStatus.APPROVED
    assert (quote.organisation_approval, quote.driver_approval) == ("not_needed", "not_needed")
    last = JobTransition.objects.filter(job=job).latest("pk")
    assert (last.by_label, last.note_code) == ("platform", "no_approval_needed")
    assert not QuoteApprovalLink.objects.exists() and not OutboundEmail.objects.exists()


def test_a_direct_quote_with_extras_needs_only_the_drivers_approval(world):
    job, _, actor = _setup(world, "direct", installation_standard_price=D("1150.00"))
    quote = quote_submit(actor=actor, job=job, lines=LINES)
    assert (quote.organisation_share, quote.driver_share) == (D("1150.00"), D("256.62"))
    assert (quote.organisation_approval, quote.driver_approval) == ("not_needed", "pending")
    assert not QuoteApprovalLink.objects.exists()
    driver = job.driver
    decided = quote_decide_by_driver(driver=driver, quote=quote, approve=True)
    job.refresh_from_db()
    assert decided.status == "approved" and job.status == JobStatus.QUOTE_APPROVED
    assert OutboundEmail.objects.filter(
        template="quote_approved", to=["manager@sparkfit.example"]
    ).exists()
    with pytest.raises(ValidationError) as twice:
        quote_decide_by_driver(driver=driver, quote=quote, approve=False, reason="Changed mind")
    assert "already decided" in twice.value.messages[0]


def test_a_direct_connection_without_its_price_is_refused_clearly(world):
    job, _, actor = _setup(world, "direct", installation_standard_price=None)
    with pytest.raises(ValidationError) as refused:
        quote_submit(actor=actor, job=job, lines=LINES)
    assert "standard package price" in refused.value.messages[0]
    assert not Quote.objects.exists()


def test_the_link_approves_once_and_the_last_approval_moves_the_job(customised):
    job, _, actor = customised
    quote = quote_submit(actor=actor, job=job, lines=LINES)
    token = _link_token(OutboundEmail.objects.get(template="quote_for_approval"))
    decided = quote_decide_by_link(token=token, approve=True)
    assert decided.organisation_approval == "approved" and decided.status == "awaiting_approval"
    assert decided.organisation_decided_by == "approval_link:support@voltlease.example"
    job.refresh_from_db()
    assert job.status == JobStatus.QUOTED  # the driver's part is still awaited
    with pytest.raises(ValidationError) as again:
        quote_decide_by_link(token=token, approve=False, reason="Oops")
    assert "already used" in again.value.messages[0]
    link = QuoteApprovalLink.objects.get()
    assert link.used_at is not None and link.decision == "approved"
    event = AuditEvent.objects.get(action="quote.decide")
    assert event.changes["recipient"] == "support@voltlease.example"
    assert event.actor_label == "approval_link:support@voltlease.example"
    assert event.organisation == job.organisation and event.changes["decision"] == "approved"
    quote_decide_by_driver(driver=job.driver, quote=quote, approve=True)
    job.refresh_from_db()
    assert job.status == JobStatus.QUOTE_APPROVED
    assert JobTransition.objects.filter(job=job).latest("pk").by_label == "dora@example.com"


def test_an_expired_or_unknown_link_is_refused(customised):
    job, _, actor = customised
    quote_submit(actor=actor, job=job, lines=LINES)
    token = _link_token(OutboundEmail.objects.get(template="quote_for_approval"))
    QuoteApprovalLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ValidationError) as expired:
        quote_decide_by_link(token=token, approve=True)
    assert "expired" in expired.value.messages[0]
    with pytest.raises(ValidationError) as unknown:
        quote_decide_by_link(token="nonsense", approve=True)
    assert "not known" in unknown.value.messages[0]
    assert approval_link_for(token="nonsense") is None
    assert Quote.objects.get().organisation_approval == "pending"


def test_a_decline_needs_a_reason_and_sends_the_job_back_to_the_installer(customised):
    job, installer, actor = customised
    installer.company.jobs_email = "jobs@sparkfit.example"
    installer.company.save()
    quote = quote_submit(actor=actor, job=job, lines=LINES)
    token = _link_token(OutboundEmail.objects.get(template="quote_for_approval"))
    with pytest.raises(ValidationError) as no_reason:
        quote_decide_by_link(token=token, approve=False, reason="  ")
    assert "reason" in no_reason.value.message_dict
    assert QuoteApprovalLink.objects.get().used_at is None  # nothing changed
    declined = quote_decide_by_link(token=token, approve=False, reason="Groundwork too dear")
    job.refresh_from_db()
    assert declined.status == "declined" and declined.decline_reason == "Groundwork too dear"
    assert job.status == JobStatus.SURVEYED
    back = JobTransition.objects.filter(job=job).latest("pk")
    assert back.from_status == "quoted" and "Groundwork too dear" in back.note
    email = OutboundEmail.objects.get(template="quote_declined")
    assert email.to == ["jobs@sparkfit.example"] and "Groundwork too dear" in email.text_body
    # The driver cannot decide a declined quote any more; the installer quotes again.
    with pytest.raises(ValidationError):
        quote_decide_by_driver(driver=job.driver, quote=quote, approve=True)
    second = quote_submit(actor=actor, job=job, lines=LINES[:2])
    assert second.number == 2 and second.driver_approval == "not_needed"


def test_the_organisation_decides_in_the_app_and_the_link_is_then_used(world, customised):
    job, _, actor = customised
    quote = quote_submit(actor=actor, job=job, lines=LINES[:2])
    token = _link_token(OutboundEmail.objects.get(template="quote_for_approval"))
    with pytest.raises(PermissionDenied):
        quote_decide_by_organisation(actor=world.actor(world.ana), quote=quote, approve=True)
    with pytest.raises(PermissionDenied):
        quote_decide_by_organisation(actor=world.actor(world.bob), quote=quote, approve=True)
    decided = quote_decide_by_organisation(actor=world.actor(world.otto), quote=quote, approve=True)
    job.refresh_from_db()
    assert decided.status == "approved" and job.status == JobStatus.QUOTE_APPROVED
    assert decided.organisation_decided_by == "otto@voltlease.example"
    assert link_problem(QuoteApprovalLink.objects.get(quote__number=1)) == "used"
    with pytest.raises(ValidationError):
        quote_decide_by_link(token=token, approve=True)


def test_another_driver_cannot_decide(customised):
    job, _, actor = customised
    quote = quote_submit(actor=actor, job=job, lines=LINES)
    eve = User.objects.create(email="eve@example.com")
    with pytest.raises(PermissionDenied):
        quote_decide_by_driver(driver=eve, quote=quote, approve=True)
    assert Quote.objects.get().driver_approval == PartApproval.PENDING


def test_an_older_open_quote_is_withdrawn_by_a_new_one(customised):
    job, _, actor = customised
    first = quote_submit(actor=actor, job=job, lines=LINES)
    # The job went back to surveyed some other way (e.g. the installer redid the survey).
    type(job).objects.filter(pk=job.pk).update(status="surveyed")
    second = quote_submit(actor=actor, job=job, lines=LINES)
    first.refresh_from_db()
    assert first.status == "withdrawn" and second.number == 2
    token = _link_token(OutboundEmail.objects.filter(template="quote_for_approval").earliest("pk"))
    link = approval_link_for(token=token)
    assert link is not None and link.quote.number == 1 and link_problem(link) == "closed"


@pytest.mark.django_db(transaction=True)
def test_two_uses_of_a_link_at_once_decide_once(world):
    """Two requests with the same link at the same moment: one decision, one refusal."""
    import threading

    from django.db import connection as db

    job, _, actor = _setup(world, "customised_quoting")
    quote_submit(actor=actor, job=job, lines=LINES[:2])
    token = _link_token(OutboundEmail.objects.get(template="quote_for_approval"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(approve: bool) -> None:
        barrier.wait()
        try:
            quote_decide_by_link(token=token, approve=approve, reason="" if approve else "No")
            outcomes.append("decided")
        except ValidationError as refused:
            outcomes.append(refused.messages[0])
        finally:
            db.close()

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [
        "This approval link was already used. Each link can be used once.",
        "decided",
    ]
    quote = Quote.objects.get()
    assert quote.status in ("approved", "declined")
    assert JobTransition.objects.filter(job=job, from_status="quoted").count() == 1
    assert AuditEvent.objects.filter(action="quote.decide").count() == 1


def test_cancelling_a_job_can_withdraw_its_open_quote(customised):
    job, _, actor = customised
    quote_submit(actor=actor, job=job, lines=LINES)
    token = _link_token(OutboundEmail.objects.get(template="quote_for_approval"))
    assert quotes_withdraw_open(job=job) == 1
    assert Quote.objects.get().status == "withdrawn"
    with pytest.raises(ValidationError) as closed:
        quote_decide_by_link(token=token, approve=True)
    assert "no longer valid" in closed.value.messages[0]
