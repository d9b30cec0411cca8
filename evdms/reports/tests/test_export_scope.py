"""Exports under grants and connection scopes: the worker makes an export, and a download
hands it over, only while its requester still reaches everything it was asked with; an
admin limited to chosen connections never opens an export of more.

Acme (a customer) grants Rival Lease (B) *view transactions* on its connection
Acme_Fleet; Bob, Rival Lease's Network Manager, exports the transaction report.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import GrantRight, OrganisationKind
from evdms.reports import views
from evdms.reports.export_scope import NOT_DELIVERED
from evdms.reports.exports import HEADINGS
from evdms.reports.models import ReportExport
from evdms.reports.tasks import report_export_run
from evdms.reports.tests.conftest import Fleet, at
from evdms.reports.tests.test_exports import EXPORT, body, csv_rows
from evdms.testing.fixtures import (
    client_for,
    make_admin,
    make_connection,
    make_grant,
    make_membership,
    make_organisation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(fleet: Fleet, monkeypatch):
    acme = make_organisation("acme", "Acme", OrganisationKind.CUSTOMER)
    make_admin(acme, "alice@acme.example")
    acme_fleet = make_connection(acme, name="Acme_Fleet", home_charging_data_sharing="yes")
    make_membership(acme_fleet, fleet.dan)
    fleet.session(fleet.dan, acme_fleet, at(7), 7_000)
    fleet.session(fleet.rob, fleet.rival, at(8), 1_000)  # Rival Lease's own
    grant = make_grant(
        acme, fleet.world.org_b, rights=(GrantRight.VIEW_TRANSACTIONS,), connections=[acme_fleet]
    )
    monkeypatch.setattr(views, "SYNC_EXPORT_ROWS", 0)  # every export in the worker
    return grant


def _ask(client) -> ReportExport:
    response = client.post(EXPORT, {"format": "csv"})
    assert response.status_code == 302
    return ReportExport.objects.latest("pk")


def test_an_export_under_a_grant_holds_the_granted_connection_and_is_delivered(
    fleet: Fleet, granted, django_capture_on_commit_callbacks
):
    bob = client_for(fleet.world.bob)
    with django_capture_on_commit_callbacks(execute=True):
        export = _ask(bob)
    export.refresh_from_db()
    assert export.status == "done"
    assert export.scope["connections"] == [[granted.grantor_id, granted.connections.get().pk]]
    rows = csv_rows(body(bob.get(reverse("reports:export_file", args=[export.pk]))))
    assert sorted(r[HEADINGS.index("Connection")] for r in rows[1:]) == ["Acme_Fleet", "Rival_Home"]


def test_an_export_asked_for_before_a_revocation_is_not_made(fleet: Fleet, granted):
    bob = client_for(fleet.world.bob)
    export = _ask(bob)  # queued: the worker has not run it yet
    granted.revoked_at = timezone.now()
    granted.save(update_fields=["revoked_at"])
    assert report_export_run.call(export_id=export.pk) == "not delivered"
    export.refresh_from_db()
    assert export.status == "failed" and export.error == NOT_DELIVERED
    assert not export.chunks.exists()
    page = bob.get(reverse("reports:transactions")).content.decode()
    assert "Not delivered" not in page  # an export beyond Bob's reach is not even listed
    assert bob.get(reverse("reports:export_file", args=[export.pk])).status_code == 404


def test_a_finished_export_is_no_longer_handed_over_once_the_grant_is_revoked(
    fleet: Fleet, granted, django_capture_on_commit_callbacks, client, api_key_for
):
    bob = client_for(fleet.world.bob)
    with django_capture_on_commit_callbacks(execute=True):
        export = _ask(bob)
    url = reverse("reports:export_file", args=[export.pk])
    assert bob.get(url).status_code == 200
    granted.revoked_at = timezone.now()
    granted.save(update_fields=["revoked_at"])
    assert bob.get(url).status_code == 404
    assert bob.get(reverse("reports:export_status", args=[export.pk])).status_code == 404
    key = api_key_for(fleet.world.org_b)
    answer = client.get(f"/api/v1/reports/exports/{export.pk}/file", headers=key)
    assert answer.status_code == 404


def test_an_export_stops_when_its_requester_is_disabled(
    fleet: Fleet, granted, django_capture_on_commit_callbacks
):
    export = _ask(client_for(fleet.world.bob))
    fleet.world.bob.status = "disabled"
    fleet.world.bob.save(update_fields=["status"])
    assert report_export_run.call(export_id=export.pk) == "not delivered"


def test_a_limited_admin_opens_only_exports_within_their_connections(
    fleet: Fleet, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(views, "SYNC_EXPORT_ROWS", 0)
    fleet.session(fleet.dan, fleet.acme, at(3), 4_000)
    ana = fleet.world.ana
    with django_capture_on_commit_callbacks(execute=True):
        whole = _ask(client_for(fleet.world.nadia))  # every connection of Voltlease
    ana.all_connections = False
    ana.save(update_fields=["all_connections"])
    ana.connections.set([fleet.acme])
    limited = client_for(ana)
    assert limited.get(reverse("reports:export_file", args=[whole.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        own = _ask(limited)
    rows = csv_rows(body(limited.get(reverse("reports:export_file", args=[own.pk]))))
    assert {r[HEADINGS.index("Connection")] for r in rows[1:]} == {"Acme_Home"}
    # Nadia, who reaches every connection, may open Ana's narrower export.
    nadia = client_for(fleet.world.nadia)
    assert nadia.get(reverse("reports:export_file", args=[own.pk])).status_code == 200
    assert own.expires_at > timezone.now() + timedelta(days=6)


def test_an_export_made_after_its_requesters_scope_widened_is_not_for_the_narrower(
    fleet: Fleet, monkeypatch
):
    monkeypatch.setattr(views, "SYNC_EXPORT_ROWS", 0)
    fleet.session(fleet.dan, fleet.acme, at(3), 4_000)
    fleet.session(fleet.eve, fleet.globex, at(4), 2_000)
    ana, otto = fleet.world.ana, fleet.world.otto
    ana.all_connections = False
    ana.save(update_fields=["all_connections"])
    ana.connections.set([fleet.acme])
    export = _ask(client_for(ana))  # queued while Ana reaches Acme_Home only
    ana.all_connections = True
    ana.save(update_fields=["all_connections"])
    assert report_export_run.call(export_id=export.pk) == "done"  # made with every connection
    # A colleague still limited to Acme_Home cannot open what now holds Globex_Home too.
    otto.role = "analyst"
    otto.all_connections = False
    otto.save(update_fields=["role", "all_connections"])
    otto.connections.set([fleet.acme])
    assert client_for(otto).get(reverse("reports:export_file", args=[export.pk])).status_code == 404
    rows = csv_rows(body(client_for(ana).get(reverse("reports:export_file", args=[export.pk]))))
    assert {r[HEADINGS.index("Connection")] for r in rows[1:]} >= {"Acme_Home", "Globex_Home"}
