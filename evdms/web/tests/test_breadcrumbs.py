"""Breadcrumbs on detail pages: where the page sits, from Home down to the page itself,
each step a link but the last (``aria-current="page"``)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.testing.fixtures import client_for, make_connection, make_membership
from evdms.web.tests.test_routes import OBJECT_MAKERS, _org_a_batch, _org_a_job

pytestmark = pytest.mark.django_db


def trail(page: str) -> list[tuple[str, str]]:
    """(label, link) of each crumb; the current page's link is "current"."""
    navs = re.findall(r'<nav class="breadcrumbs" aria-label="Breadcrumb">(.*?)</nav>', page, re.S)
    assert len(navs) == 1, "exactly one breadcrumb trail"
    crumbs = []
    for item in re.findall(r"<li>(.*?)</li>", navs[0], re.S):
        link = re.fullmatch(r'<a href="([^"]+)">(.*)</a>', item)
        if link:
            crumbs.append((link.group(2), link.group(1)))
        else:
            current = re.fullmatch(r'<span aria-current="page">(.*)</span>', item)
            assert current, item
            crumbs.append((current.group(1), "current"))
    return crumbs


def _make(name, world):
    return OBJECT_MAKERS[name](world)


CASES = [
    # (URL name, URL argument makers, who looks, expected trail but Home)
    (
        "enrolment:driver_detail",
        ["membership_id"],
        "nadia",
        [("Connection Requests", "/requests/"), ("Dora", "current")],  # a waiting request
    ),
    ("connections:detail", ["connection_id"], "nadia", [("Connections", "/connections/")]),
    ("charging:charger_detail", ["charger_id"], "nadia", [("Chargers", "/chargers/")]),
    ("invoicing:detail", ["invoice_id"], "nadia", [("Invoices", "/invoices/")]),
    (
        "reimbursements:statement_detail",
        ["statement_id"],
        "nadia",
        [("Statements", "/statements/")],
    ),
    ("accounts:admin_detail", ["admin_id"], "nadia", [("Admins", "/accounts/admins/")]),
    ("installations:job", ["job_id"], "nadia", [("Installations", None)]),
    ("installations:portal-job", ["job_id"], "ivan", [("Jobs", None)]),
]


@pytest.mark.parametrize(("name", "args", "who", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_detail_page_shows_where_it_sits(world, name, args, who, expected):
    if name == "enrolment:driver_detail":
        dora = User.objects.create_user("dora@example.com", "dora's passphrase 1", full_name="Dora")
        membership = make_membership(make_connection(world.org_a, name="Members"), dora, "pending")
        values = [membership.pk]
    else:
        values = [_make(arg, world) for arg in args]
    page = client_for(getattr(world, who)).get(reverse(name, args=values))
    assert page.status_code == 200
    crumbs = trail(page.content.decode())
    assert crumbs[0] == ("Home", "/")
    for (label, link), (want_label, want_link) in zip(crumbs[1:], expected, strict=False):
        assert label == want_label
        if want_link is not None:
            assert link == want_link
    assert crumbs[-1][1] == "current"
    assert all(link != "current" for _, link in crumbs[:-1])


def test_a_connected_driver_s_page_sits_under_drivers_with_their_name(world):
    alice = User.objects.create_user("alice@example.com", "a long passphrase 1")
    alice.full_name = "Alice <Archer>"
    alice.save()
    membership = make_membership(make_connection(world.org_a, name="Home"), alice)
    page = client_for(world.nadia).get(reverse("enrolment:driver_detail", args=[membership.pk]))
    assert trail(page.content.decode()) == [
        ("Home", "/"),
        ("Drivers", "/drivers/"),
        ("Alice &lt;Archer&gt;", "current"),  # escaped like any name
    ]


def test_the_pages_below_a_connection_sit_under_it(world):
    connection = make_connection(world.org_a, name="Home & Away")
    nadia = client_for(world.nadia)
    detail = ("Home &amp; Away", f"/connections/{connection.pk}/")
    for url, last in [
        (reverse("connections:edit", args=[connection.pk]), "Edit"),
        (reverse("enrolment:revise", args=[connection.pk]), "Revise Benefits"),
        (reverse("enrolment:invite", args=[connection.pk]), "Invite drivers"),
    ]:
        crumbs = trail(nadia.get(url).content.decode())
        above = [("Home", "/"), ("Connections", "/connections/"), detail]
        assert crumbs == [*above, (last, "current")]


def test_an_invitation_batch_sits_under_invite_drivers(world):
    world._connection = make_connection(world.org_a, name="Home")
    batch = _org_a_batch(world)
    page = client_for(world.nadia).get(
        reverse("enrolment:invitation_batch", args=[batch.connection_id, batch.pk])
    )
    crumbs = trail(page.content.decode())
    assert [label for label, _ in crumbs[:4]] == ["Home", "Connections", "Home", "Invite drivers"]
    assert crumbs[3][1] == f"/connections/{batch.connection_id}/invite/"
    assert crumbs[-1][0].startswith("Invitations of ")


def test_the_quote_page_sits_under_its_installation_job(world):
    job = _org_a_job(world)
    page = client_for(world.nadia).get(reverse("installations:organisation_quote", args=[job.pk]))
    crumbs = trail(page.content.decode())
    job_url = reverse("installations:job", args=[job.pk])
    assert crumbs[-2] == ("Installation for dora@example.com", job_url)
    assert crumbs[-1] == ("Quote", "current")


def test_a_list_page_has_no_trail(world):
    page = client_for(world.nadia).get(reverse("enrolment:drivers")).content.decode()
    assert 'aria-label="Breadcrumb"' not in page
