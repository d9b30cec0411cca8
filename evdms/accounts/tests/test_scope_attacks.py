"""An outside review's attacks on grants and connection scopes: each test is a way a
grantee, a limited admin or a limited API key tried to see or do more than its rights
and connections allow.

Acme (a customer) grants Voltlease (A) rights; Voltlease's own admins are the
``world``'s.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.accounts.models import GrantRight, OrganisationKind, Role, User
from evdms.connections.models import Connection
from evdms.connections.selectors import invite_url
from evdms.connections.services import connection_update
from evdms.enrolment.services import membership_approve
from evdms.testing.fixtures import (
    World,
    client_for,
    make_admin,
    make_connection,
    make_grant,
    make_membership,
    make_organisation,
)

pytestmark = pytest.mark.django_db

# A 60 × 30 PNG, as the logo rules ask.
LOGO = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00<\x00\x00\x00\x1e\x08\x02\x00\x00\x00"
    b"\x8c\x1a\x14K\x00\x00\x00\x1dIDATx\x9c\xed\xc1\x01\r\x00\x00\x00\xc2\xa0\xf7Om\x0e7"
    b"\xa0\x00\x00\x00\x00\x00\x00\x00\x00\xbe\r!\x00\x00\x01\x9a`\xe1\xd5\x00\x00\x00\x00"
    b"IEND\xaeB`\x82"
)


def _acme_fleet() -> Connection:
    acme = make_organisation("acme", "Acme", OrganisationKind.CUSTOMER)
    make_admin(acme, "alice@acme.example")
    return make_connection(acme, name="Acme_Fleet")


# --- the invite link is inviting, not reading ------------------------------------------


def test_a_grantee_that_may_not_invite_sees_no_invite_link_in_the_list_its_csv_or_the_api(
    world: World, api_key_for
) -> None:
    """The connection's page and its QR codes need invite rights; the Connections list,
    its CSV export and the API handed the same link (and its token, through the logo's
    address) to anyone who may see the connection."""
    fleet = _acme_fleet()
    Connection.objects.filter(pk=fleet.pk).update(logo_png=LOGO, logo_sha256="x" * 64)
    make_grant(fleet.organisation, world.org_a, rights=(GrantRight.VIEW_TRANSACTIONS,))
    link, token = invite_url(fleet), fleet.invite_token
    client = client_for(world.nadia)

    page = client.get(reverse("connections:list"))
    assert page.status_code == 200
    assert "Acme_Fleet" in page.content.decode()
    assert token not in page.content.decode()
    csv = b"".join(client.get(reverse("connections:list") + "?export=csv&which=all"))
    assert b"Acme_Fleet" in csv
    assert token.encode() not in csv
    detail = client.get(reverse("connections:detail", args=[fleet.pk]))
    assert detail.status_code == 200
    assert token not in detail.content.decode()  # the logo too is shown without it

    headers = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    body = client.get(f"/api/v1/connections/{fleet.pk}", headers=headers).json()
    assert body["invite_url"] is None
    assert token not in str(body)
    # The logo is still there to see, by the connection's own address.
    logo = client.get(body["logo_url"])
    assert logo.status_code == 200
    assert logo.content == LOGO
    listed = client.get("/api/v1/connections", headers=headers).json()["items"]
    assert [c["invite_url"] for c in listed if c["id"] == fleet.pk] == [None]

    # With the right to invite, the link is there.
    make_grant(fleet.organisation, world.org_a, rights=(GrantRight.MANAGE_DRIVERS,))
    assert link in client.get(reverse("connections:list")).content.decode()
    body = client.get(f"/api/v1/connections/{fleet.pk}", headers=headers).json()
    assert body["invite_url"] == link


def test_an_analyst_sees_no_invite_link_of_its_own_connections(world: World) -> None:
    home = make_connection(world.org_a, name="Voltlease_Home")
    page = client_for(world.ana).get(reverse("connections:list"))
    assert "Voltlease_Home" in page.content.decode()
    assert home.invite_token not in page.content.decode()
    otto_page = client_for(world.otto).get(reverse("connections:list"))
    assert invite_url(home) in otto_page.content.decode()


# --- who acted inside another organisation is its own business -------------------------


def test_a_history_names_another_organisations_admin_only_by_the_organisation(
    world: World,
) -> None:
    """The Grant Rights page and its e-mails keep each organisation's people from the
    other; the connection's and the driver's history named them by e-mail."""
    fleet = _acme_fleet()
    alice = fleet.organisation.admins.get()
    alice_actor = world.actor(alice)
    make_grant(fleet.organisation, world.org_a, rights=(GrantRight.MANAGE_DRIVERS,))
    connection_update(actor=alice_actor, connection=fleet, changes={"support_email": "s@x.eu"})
    driver = User.objects.create_user("fiona@example.com", "a driver's passphrase 1")
    membership = make_membership(fleet, driver, "pending")
    membership_approve(actor=alice_actor, membership=membership)

    for url in (
        reverse("connections:detail", args=[fleet.pk]),
        reverse("enrolment:driver_detail", args=[membership.pk]),
    ):
        seen = client_for(world.nadia).get(url).content.decode()
        assert "alice@acme.example" not in seen, url
        assert "Acme" in seen
        # Acme's own admins still see who of them acted.
        assert "alice@acme.example" in client_for(alice).get(url).content.decode()


# --- a driver who left a chosen connection leaves its reach -----------------------------


def test_a_chosen_connection_stops_reaching_a_drivers_charger_once_they_left(world: World):
    from evdms.accounts.permissions import Actor, Permission
    from evdms.charging.access import chargers_for
    from evdms.charging.models import Charger

    fleet = _acme_fleet()
    make_grant(fleet.organisation, world.org_a, connections=[fleet])
    driver = User.objects.create_user("dan@example.com", "dan's passphrase 12")
    membership = make_membership(fleet, driver)
    charger = Charger.objects.create(
        organisation=fleet.organisation, identity="C1", serial="S", password_hash="-", driver=driver
    )

    def reached() -> bool:
        actor = Actor.for_user(world.nadia.user)  # type: ignore[arg-type]
        assert actor is not None
        found = chargers_for(actor, Permission.VIEW_INSTALLATIONS)
        return found.filter(pk=charger.pk).exists()

    assert reached()
    membership.status = "removed"
    membership.save(update_fields=["status"])
    assert not reached()
    detail = reverse("charging:charger_detail", args=[charger.pk])
    assert client_for(world.nadia).get(detail).status_code == 404


# --- a connection id no row can have is a field error, not a failed query ---------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/grants",
            {"rights": ["view_transactions"], "all_connections": False},
            "connections",
        ),
        (
            "/api/v1/admins",
            {"email": "x@example.com", "full_name": "X", "role": "analyst"},
            "connection_ids",
        ),
    ],
)
def test_a_connection_id_beyond_any_row_is_refused_per_field(
    world: World, api_key_for, client, path, body, field
):
    from evdms.accounts.models import Admin, Grant

    before = (Grant.objects.count(), Admin.objects.count())
    payload = {**body, field: [2**70]}
    if path.endswith("grants"):
        payload["grantee"] = world.org_b.public_id
    answer = client.post(
        path, payload, content_type="application/json", headers=api_key_for(world.org_a)
    )
    assert answer.status_code == 422
    assert any(field in map(str, e["loc"]) for e in answer.json()["detail"])
    assert (Grant.objects.count(), Admin.objects.count()) == before
