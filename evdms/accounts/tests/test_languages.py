"""Issue #19: which language pages and e-mails are in, and the organisation's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import Organisation, User
from evdms.enrolment.models import Invitation
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import client_for, make_connection
from evdms.testing.languages import driver_speaking, logged_in

pytestmark = pytest.mark.django_db


def test_before_log_in_the_browser_chooses_the_language():
    response = Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()
    assert "Accept-Language" in response["Vary"]
    english = Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="ja")
    assert english["Content-Language"] == "en-gb"


def test_a_driver_chooses_a_language_on_the_account_page_and_it_wins_over_the_browser():
    dora = driver_speaking("")
    client = logged_in(dora)
    page = client.get(reverse("accounts:account"), HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 200 and "dora@example.com" in page.content.decode()
    response = client.post(
        reverse("accounts:account"), {"full_name": "Dora Driver", "language": "nl"}
    )
    assert response.status_code == 302
    dora.refresh_from_db()
    assert dora.language == "nl"
    after = client.get(reverse("accounts:account"), HTTP_ACCEPT_LANGUAGE="de")
    assert after["Content-Language"] == "nl"
    assert '<html lang="nl">' in after.content.decode()


def test_the_account_page_refuses_a_language_we_do_not_speak_and_keeps_the_name():
    dora = driver_speaking("")
    response = logged_in(dora).post(
        reverse("accounts:account"), {"full_name": "Dora D.", "language": "ja"}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    dora.refresh_from_db()
    assert (dora.full_name, dora.language) == ("Dora Driver", "")


def test_the_api_answers_in_english_whatever_the_browser_asks(world, api_key_for):
    headers = {**api_key_for(world.org_a), "Accept-Language": "de"}
    response = Client().get("/api/v1/connections", headers=headers)
    assert response["Content-Language"] == "en-gb"


def test_a_network_manager_sets_the_default_language_and_time_zone(world):
    client = client_for(world.nadia)
    response = client.post(
        reverse("accounts:settings"),
        {
            "name": "Voltlease",
            "currency": "EUR",
            "default_language": "fr",
            "time_zone": "Europe/Paris",
        },
    )
    assert response.status_code == 302
    world.org_a.refresh_from_db()
    assert (world.org_a.default_language, world.org_a.time_zone) == ("fr", "Europe/Paris")
    page = client.get(reverse("accounts:settings")).content.decode()
    assert '<option value="Europe/Paris" selected>' in page


def test_a_time_zone_that_does_not_exist_is_refused_next_to_the_field(world):
    response = client_for(world.nadia).post(
        reverse("accounts:settings"),
        {
            "name": "Voltlease",
            "currency": "EUR",
            "default_language": "nl",
            "time_zone": "Mars/Base",
        },
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "Europe/Amsterdam"


def test_an_admin_sees_times_in_the_organisation_zone(world):
    Organisation.objects.filter(pk=world.org_a.pk).update(time_zone="America/New_York")
    User.objects.filter(pk=world.otto.user.pk).update(
        last_login=datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    )
    page = client_for(world.nadia).get(reverse("accounts:admins")).content.decode()
    assert "1 Dec 2026 07:00" in page  # noon UTC is 7 in the morning in New York
    assert timezone.get_current_timezone_name() == "Europe/Amsterdam"  # restored after


def test_invitations_by_e_mail_go_in_the_organisation_default_language(
    world, django_capture_on_commit_callbacks
):
    Organisation.objects.filter(pk=world.org_a.pk).update(default_language="nl")
    connection = make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.otto).post(
            reverse("enrolment:invite", args=[connection.pk]),
            {"addresses": "anna@example.com"},
        )
    email = Invitation.objects.get().outbound_email
    assert email is not None and email.language == "nl"
    assert '<html lang="nl">' in email.html_body


def test_an_e_mail_to_a_user_goes_in_their_own_language(world):
    from evdms.notifications.services import email_send
    from evdms.ui.language import user_language

    dora = driver_speaking("de")
    email_send(
        to=[dora.email],
        template="driver_account_exists",
        context={"user": dora, "login_link": "x", "reset_link": "y"},
        organisation=world.org_a,
        language=user_language(dora, world.org_a),
    )
    assert OutboundEmail.objects.get().language == "de"


def test_a_driver_sees_times_in_the_zone_of_their_organisation(world):
    from evdms.testing.fixtures import make_connection, make_membership

    Organisation.objects.filter(pk=world.org_a.pk).update(time_zone="Asia/Tokyo")
    connection = make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    dora = driver_speaking("")
    make_membership(connection, dora)
    seen = {}

    def view_zone(request):  # the zone while the driver's page renders
        seen["zone"] = timezone.get_current_timezone_name()

    from evdms.ui.language import LanguageMiddleware

    request = RequestFactory().get("/my/connections/")
    request.user = dora
    LanguageMiddleware(lambda r: view_zone(r) or HttpResponse())(request)
    assert seen["zone"] == "Asia/Tokyo"
