"""The one-connection-per-organisation rule is said on the landing page, naming the
connection the driver already has, before they fill anything in (issue #18: it came
only after the whole join form)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from evdms.enrolment.tests.test_join import driver, driver_client
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(world):
    return (
        make_connection(world.org_a, name="Home 2026", name_for_drivers="Voltlease Home"),
        make_connection(world.org_a, name="Public", name_for_drivers="Voltlease Public"),
    )


def landing(client: Client, connection) -> str:
    return client.get(reverse("enrolment:join", args=[connection.invite_token])).content.decode()


def test_a_driver_with_another_connection_is_told_on_the_landing_page(two):
    home, public = two
    dan = driver()
    make_membership(home, dan)
    html = landing(driver_client(dan), public)
    assert "You already have a connection with Voltlease (“Voltlease Home”, connected)" in html
    assert "leave that connection first" in html
    assert "Ask to join" not in html and ">Join<" not in html


def test_the_request_page_says_it_too_instead_of_the_form(two):
    home, public = two
    dan = driver()
    make_membership(home, dan, status="pending")
    html = (
        driver_client(dan)
        .get(reverse("enrolment:join_request", args=[public.invite_token]))
        .content.decode()
    )
    assert "(“Voltlease Home”, pending)" in html
    assert "Send my request" not in html


def test_the_same_connection_or_another_organisation_is_no_obstacle(world, two):
    home, _ = two
    dan = driver()
    make_membership(make_connection(world.org_b, name="Rival"), dan)
    html = landing(driver_client(dan), home)
    assert "You already have a connection" not in html
    assert "A driver can hold one connection with Voltlease at a time." in html


def test_a_visitor_learns_the_rule_without_anyone_named(two):
    html = landing(Client(), two[1])
    assert "A driver can hold one connection with Voltlease at a time." in html
    assert "You already have" not in html
