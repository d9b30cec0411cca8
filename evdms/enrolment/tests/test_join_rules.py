"""A join request's rules are the same on the page and in the service, and the signed
copy of the terms is made after the request commits, not under the connection's lock."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evdms.enrolment import services
from evdms.enrolment.forms import JoinForm
from evdms.enrolment.models import TermsAcceptance
from evdms.enrolment.tasks import send_signed_terms
from evdms.enrolment.tests.test_join import TERMS, driver, driver_client, request_url
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db


def _terms_connection(world):
    return make_connection(
        world.org_a,
        provide_home_charger="no",
        custom_terms_enabled="yes",
        terms_text=TERMS,
        signed_terms_recipients="hr@voltlease.example",
    )


def test_the_signed_copy_is_made_after_the_request_commits(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    connection = _terms_connection(world)
    with django_capture_on_commit_callbacks() as after_commit:
        services.membership_request(
            driver=driver(), connection=connection, answers={"agree_terms": "on"}
        )
        # Still inside the request's transaction, where the connection row is locked:
        # the acceptance is kept, the PDF and its e-mail do not exist yet.
        assert TermsAcceptance.objects.get().text == TERMS
        assert not OutboundEmail.objects.filter(template="signed_terms").exists()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in after_commit:
            callback()
    signed = OutboundEmail.objects.get(template="signed_terms")
    assert signed.to == ["hr@voltlease.example"]
    assert signed.attachments[0]["content_type"] == "application/pdf"
    assert [m.to for m in mailoutbox if m.subject.startswith("Terms and conditions agreed")] == [
        ["hr@voltlease.example"]
    ]


def test_running_the_signed_copy_task_again_sends_it_once(
    world, django_capture_on_commit_callbacks
):
    connection = _terms_connection(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_request(
            driver=driver(), connection=connection, answers={"agree_terms": "on"}
        )
    acceptance = TermsAcceptance.objects.get()
    assert send_signed_terms.call(acceptance_id=acceptance.pk) is False
    assert OutboundEmail.objects.filter(template="signed_terms").count() == 1


@pytest.mark.parametrize("length", [150, 250])
def test_the_page_and_the_service_give_the_same_message_for_an_over_long_answer(world, length):
    connection = make_connection(
        world.org_a, provide_home_charger="no", verification_1_label="Employee ID"
    )
    answers = {"verification_1": "E" * length}
    form = JoinForm(answers, connection=connection)
    assert not form.is_valid()
    with pytest.raises(ValidationError) as refused:
        services.membership_request(driver=driver(), connection=connection, answers=answers)
    assert form.errors["verification_1"] == refused.value.message_dict["verification_1"]
    assert form.errors["verification_1"] == ["Use at most 100 characters."]
    page = driver_client(driver("erin@example.com")).post(request_url(connection), answers)
    assert page.status_code == 422
    assert page.content.decode().count("Use at most 100 characters.") == 1


def test_auto_approval_never_connects_a_request_the_driver_withdrew(world):
    connection = make_connection(world.org_a, provide_home_charger="no")
    dan = driver()
    membership = services.membership_request(driver=dan, connection=connection, answers={})
    services.membership_withdraw(driver=dan, membership=membership)
    with pytest.raises(services.AlreadyDecided):
        services.membership_auto_approve(membership=membership)
    membership.refresh_from_db()
    assert membership.status == "withdrawn" and membership.connected_at is None
