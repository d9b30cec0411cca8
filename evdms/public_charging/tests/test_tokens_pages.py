"""The Charging tokens pages, as an admin and a driver see them: the list and its filter,
issuing a card (with field errors, never another organisation's driver), blocking and
unblocking, and a driver's own tokens with Report lost."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from evdms.notifications.models import OutboundEmail
from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.services import tokens
from evdms.public_charging.tests.test_tokens import connected, paying_connection, person
from evdms.testing.fixtures import client_for, make_membership

pytestmark = pytest.mark.django_db

LIST = reverse("public_charging_tokens:tokens")
ISSUE = reverse("public_charging_tokens:issue")
MINE = reverse("public_charging_tokens:my_tokens")


def driver_client(user) -> Client:
    client = Client()
    client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
    return client


@pytest.fixture
def dan(world):
    user = person("dan@example.com", "Dan Driver")
    connected(world, paying_connection(world.org_a), user)
    return user


def test_the_list_shows_each_token_with_its_status_and_filters_by_driver(world, dan):
    eva = person("eva@example.com", "Eva Elder")
    membership = connected(world, paying_connection(world.org_a, name="Second"), eva)
    card = tokens.card_issue(
        actor=world.actor(world.nadia), membership=membership, uid="04A1B2C3", visual_number="C-9"
    )
    tokens.card_block(actor=world.actor(world.nadia), token=card)
    page = client_for(world.otto).get(LIST).content.decode()
    assert "Charging tokens" in page and "Dan Driver" in page and "Eva Elder" in page
    assert "C-9" in page and "uid 04A1B2C3" in page and "Blocked" in page and "Valid" in page
    filtered = client_for(world.otto).get(LIST, {"driver": "eva@"}).content.decode()
    assert "Eva Elder" in filtered and "Dan Driver" not in filtered
    assert "Charging tokens" in client_for(world.otto).get(LIST).content.decode()


def test_another_organisations_admin_sees_none_of_your_tokens(world, dan):
    page = client_for(world.bob).get(LIST, {"driver": "dan"}).content.decode()
    assert "Dan Driver" not in page and "No tokens match" in page


def test_issuing_a_card_from_the_page(world, dan):
    nadia = client_for(world.nadia)
    response = nadia.post(
        ISSUE, {"driver_email": "DAN@example.com", "uid": "04:a1:b2:c3", "visual_number": "C-1"}
    )
    assert response.status_code == 302 and response["Location"] == LIST
    card = Token.objects.get(type=TokenType.RFID)
    assert (card.driver, card.uid, card.visual_number, card.valid) == (dan, "04A1B2C3", "C-1", True)
    assert "Card C-1 issued to dan@example.com" in nadia.get(LIST).content.decode()


def test_issuing_with_bad_input_shows_field_errors_and_stores_nothing(world, dan):
    response = client_for(world.nadia).post(
        ISSUE, {"driver_email": "nobody@example.com", "uid": "XYZ", "visual_number": "x" * 65}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert tokens.NO_DRIVER.replace("'", "&#x27;") in page
    assert "4 to 36 hexadecimal characters (0–9, A–F)" in page
    assert "at most 64 characters" in page
    assert not Token.objects.filter(type=TokenType.RFID).exists()


def test_another_organisations_driver_is_not_found_and_a_taken_card_says_so(world, dan):
    tokens.card_issue(
        actor=world.actor(world.nadia),
        membership=dan.memberships.get(),
        uid="04A1B2C3",
    )
    bea = person("bea@example.com")
    make_membership(paying_connection(world.org_b, name="Rival"), bea)
    # Bob, of the other organisation, tries Voltlease's driver and Voltlease's card.
    response = client_for(world.bob).post(
        ISSUE, {"driver_email": "dan@example.com", "uid": "04a1b2c3"}
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert tokens.NO_DRIVER.replace("'", "&#x27;") in page
    assert "This card is already registered." in page and "dan@example.com</" not in page
    response = client_for(world.bob).post(
        ISSUE, {"driver_email": "bea@example.com", "uid": "04A1B2C3"}
    )
    assert "This card is already registered." in response.content.decode()
    assert Token.objects.filter(type=TokenType.RFID).count() == 1


def test_block_and_unblock_from_the_list(world, dan):
    card = tokens.card_issue(
        actor=world.actor(world.nadia), membership=dan.memberships.get(), uid="04A1B2C3"
    )
    nadia = client_for(world.nadia)
    response = nadia.post(
        reverse("public_charging_tokens:block", args=[card.pk]), {"back": LIST + "?driver=dan"}
    )
    assert response.status_code == 302 and response["Location"] == LIST + "?driver=dan"
    card.refresh_from_db()
    assert (card.blocked, card.valid) == ("blocked", False)
    nadia.post(reverse("public_charging_tokens:unblock", args=[card.pk]))
    card.refresh_from_db()
    assert (card.blocked, card.valid) == ("", True)
    # A "back" address outside the list is not followed.
    response = nadia.post(
        reverse("public_charging_tokens:block", args=[card.pk]), {"back": "//evil.example/"}
    )
    assert response["Location"] == LIST


def test_blocking_needs_a_post_and_another_organisation_gets_404(world, dan):
    card = tokens.card_issue(
        actor=world.actor(world.nadia), membership=dan.memberships.get(), uid="04A1B2C3"
    )
    url = reverse("public_charging_tokens:block", args=[card.pk])
    answer = client_for(world.nadia).get(url)  # form-only: to its page, nothing blocked
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "public_charging_tokens:tokens"
    )
    assert client_for(world.bob).post(url).status_code == 404
    card.refresh_from_db()
    assert card.blocked == ""


def test_the_app_token_is_not_blocked_from_the_page(world, dan):
    app = Token.objects.get(driver=dan)
    client_for(world.nadia).post(reverse("public_charging_tokens:block", args=[app.pk]))
    app.refresh_from_db()
    assert app.blocked == "" and app.valid


def test_a_driver_sees_their_tokens_and_reports_a_card_lost_after_confirming(world, dan):
    card = tokens.card_issue(
        actor=world.actor(world.nadia),
        membership=dan.memberships.get(),
        uid="04A1B2C3",
        visual_number="C-7",
    )
    client = driver_client(dan)
    page = client.get(MINE).content.decode()
    assert "My charging tokens" in page and "C-7" in page and "Report lost" in page
    assert Token.objects.get(driver=dan, type=TokenType.APP_USER).contract_id in page
    lost_url = reverse("public_charging_tokens:report_lost", args=[card.pk])
    confirm = client.get(lost_url).content.decode()
    assert "Block this card" in confirm
    card.refresh_from_db()
    assert card.blocked == ""  # asking is not reporting
    response = client.post(lost_url)
    assert response.status_code == 302 and response["Location"] == MINE
    card.refresh_from_db()
    assert (card.blocked, card.valid) == ("lost", False)
    assert OutboundEmail.objects.get(template="charging_card_lost").to == ["dan@example.com"]
    page = client.get(MINE).content.decode()
    assert "Lost" in page and "We sent you an e-mail" in page
    client.post(lost_url)  # again, from a second tab
    assert "is already blocked" in client.get(MINE).content.decode()
    assert OutboundEmail.objects.filter(template="charging_card_lost").count() == 1


def test_a_driver_cannot_report_someone_elses_card(world, dan):
    card = tokens.card_issue(
        actor=world.actor(world.nadia), membership=dan.memberships.get(), uid="04A1B2C3"
    )
    eve = driver_client(person("eve@example.com"))
    url = reverse("public_charging_tokens:report_lost", args=[card.pk])
    assert eve.get(url).status_code == 404 and eve.post(url).status_code == 404
    assert "04A1B2C3" not in eve.get(MINE).content.decode()
    card.refresh_from_db()
    assert card.blocked == ""


def test_drivers_find_their_tokens_in_the_navigation_and_admins_theirs(world, dan):
    assert f'href="{MINE}"' in driver_client(dan).get(MINE).content.decode()
    assert f'href="{LIST}"' in client_for(world.otto).get(LIST).content.decode()
    assert (
        f'href="{LIST}"' not in client_for(world.ana).get(reverse("web:dashboard")).content.decode()
    )


def test_platform_operators_see_tokens_in_the_admin_but_cannot_change_them(admin_client, dan):
    app = Token.objects.get(driver=dan)
    listing = admin_client.get("/platform-admin/public_charging/token/").content.decode()
    assert app.uid in listing and app.contract_id in listing
    assert admin_client.get("/platform-admin/public_charging/token/add/").status_code == 403
    detail = admin_client.get(f"/platform-admin/public_charging/token/{app.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()


def test_the_list_page_answers_in_as_many_queries_with_many_tokens_as_with_one(world, dan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    nadia = client_for(world.nadia)
    nadia.get(LIST)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert nadia.get(LIST).status_code == 200
        return len(captured)

    with_one = queries()
    public = paying_connection(world.org_a, name="Many")
    for n in range(6):
        connected(world, public, person(f"many{n}@example.com"))
    assert queries() == with_one
