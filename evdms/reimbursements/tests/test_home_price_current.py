"""The driver's home price as the reimbursement page shows it (issue #18): the price in
force today is the current one, later ones are upcoming; a price cannot be back-dated
before the driver joined or into a month whose statement is made; an unusually high
price needs the confirmation of that very price; the forms' own addresses are pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.reimbursements.models import HomePrice, Statement, StatementStatus
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def dan(world):
    user = User.objects.create_user(
        "dan@example.com",
        "dan's long passphrase",
        full_name="Dan Driver",
        email_confirmed_at=timezone.now(),
    )
    membership = make_membership(make_connection(world.org_a, max_price_per_kwh="0.40"), user)
    joined = timezone.now() - timedelta(days=400)
    type(membership).objects.filter(pk=membership.pk).update(connected_at=joined)
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    user.refresh_from_db()
    return user


@pytest.fixture
def dan_client(dan):
    client = Client()
    client.force_login(dan, backend="evdms.accounts.backends.EmailBackend")
    return client


def post_price(client, value, **extra):
    return client.post(reverse("reimbursements:home_price"), {"price_per_kwh": value, **extra})


def page(client) -> str:
    return client.get(reverse("reimbursements:mine")).content.decode()


def test_the_current_price_is_the_one_in_force_today_and_a_later_one_is_upcoming(dan, dan_client):
    today = timezone.localdate()
    HomePrice.objects.create(driver=dan, price_per_kwh=Decimal("3.50"), valid_from=today)
    HomePrice.objects.create(
        driver=dan, price_per_kwh=Decimal("0.45"), valid_from=today + timedelta(days=300)
    )
    html = page(dan_client)
    assert "Your current price: <strong>€3.50 per kWh</strong>" in html
    assert "Upcoming:" in html and "€0.45 per kWh from" in html
    # The cap warning is about today's price (3.50 is above the 0.40 maximum), not the
    # future 0.45.
    assert "Your price (3.50) is above the maximum" in html
    assert "Your price (0.45)" not in html


def test_a_future_price_alone_is_not_current(dan, dan_client):
    HomePrice.objects.create(
        driver=dan,
        price_per_kwh=Decimal("0.45"),
        valid_from=timezone.localdate() + timedelta(days=30),
    )
    html = page(dan_client)
    assert "No price applies today." in html
    assert "Your current price" not in html


def test_a_price_cannot_apply_from_before_the_driver_joined(dan, dan_client):
    too_early = timezone.localdate(dan.date_joined) - timedelta(days=1)
    response = post_price(dan_client, "0.30", valid_from=too_early.isoformat())
    assert response.status_code == 422
    assert "you joined then" in response.content.decode()
    assert not HomePrice.objects.exists()
    joined_day = timezone.localdate(dan.date_joined)
    assert post_price(dan_client, "0.30", valid_from=joined_day.isoformat()).status_code == 302


def test_a_price_cannot_apply_inside_a_month_whose_statement_is_made(dan, dan_client):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    Statement.objects.create(
        driver=dan,
        connection=dan.memberships.get().connection,
        month=last_month,
        currency="EUR",
        total=Decimal("0"),
        status=StatementStatus.PAID,
    )
    inside = last_month + timedelta(days=3)
    response = post_price(dan_client, "0.30", valid_from=inside.isoformat())
    assert response.status_code == 422
    assert f"Use a date from {this_month.day} {this_month:%b %Y} on" in response.content.decode()
    assert f"statement for {last_month:%B %Y} is already made" in response.content.decode()
    assert not HomePrice.objects.exists()
    assert post_price(dan_client, "0.30", valid_from=this_month.isoformat()).status_code == 302


def test_the_confirmation_box_is_offered_only_after_the_warning(dan_client):
    assert 'name="confirm"' not in page(dan_client)
    refused = post_price(dan_client, "27")
    html = refused.content.decode()
    assert refused.status_code == 422
    assert "unusually high" in html
    assert "Yes, 27.00 per kWh is right" in html  # a price, as the reader writes one
    assert 'name="confirmed_price" value="27"' in html


def test_a_tick_without_the_warning_confirms_nothing(dan_client):
    """A tick sent along with a first post (or with the box ticked for another price)
    does not keep an unusually high price."""
    assert post_price(dan_client, "27", confirm="on").status_code == 422
    assert post_price(dan_client, "270", confirm="on", confirmed_price="27").status_code == 422
    assert not HomePrice.objects.exists()
    kept = post_price(dan_client, "27", confirm="on", confirmed_price="27")
    assert kept.status_code == 302
    assert str(HomePrice.objects.get().price_per_kwh) == "27.0000"


def test_a_confirmed_price_stays_confirmed_when_another_field_is_wrong(dan_client):
    response = post_price(
        dan_client, "27", confirm="on", confirmed_price="27", valid_from="2001-01-01"
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Use a date from" in html
    assert 'name="confirm" id="id_confirm" checked' in html


@pytest.mark.parametrize(
    ("name", "heading"), [("bank_account", "bank-heading"), ("home_price", "price-heading")]
)
def test_a_forms_own_address_is_a_page_that_survives_a_reload(dan_client, name, heading):
    """After an error the form is shown at its own address; a reload (a GET there) shows
    the same page with that form, not a redirect elsewhere."""
    url = reverse(f"reimbursements:{name}")
    errors = dan_client.post(url, {})
    assert errors.status_code == 422
    reloaded = dan_client.get(url)
    assert reloaded.status_code == 200
    html = reloaded.content.decode()
    assert f'id="{heading}"' in html and "card-open" in html
    assert "autofocus" in html


def test_the_forms_addresses_need_a_log_in(client):
    response = client.get(reverse("reimbursements:home_price"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
