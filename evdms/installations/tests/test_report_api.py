"""The installation report over the API: paged list with the report's filters, one job
with its history, the CSV; organisation keys with VIEW_INSTALLATIONS only."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from evdms.accounts.models import Role
from evdms.installations.report_row import HEADINGS
from evdms.installations.tests.report_fixtures import Jobs, jobs_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
LIST = "/api/v1/installations"


def test_the_list_is_paged_and_scoped(jobs: Jobs, client, api_key_for):
    headers = api_key_for(jobs.world.org_a, Role.ANALYST)
    response = client.get(LIST, {"limit": 2}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["offset"], body["limit"]) == (3, 0, 2)
    assert [i["driver"] for i in body["items"]] == ["=Fay Formula", "Dan Driver"]
    dan = body["items"][1]
    assert dan["job"] == jobs.dan.pk
    assert dan["status"] == "Quoted" and dan["status_code"] == "quoted"
    assert dan["customer_id"] == "CRM-1"
    assert dan["installer"] == "Sparkfit Installations"
    assert dan["days_in_status"] == 20
    assert Decimal(dan["quote_total"]) == Decimal("1210.00")
    assert Decimal(dan["organisation_share"]) == Decimal("1000.00")
    assert Decimal(dan["driver_share"]) == Decimal("210.00")
    assert dan["quoted_at"] is not None and dan["installed_at"] is None
    rest = client.get(LIST, {"offset": 2, "limit": 2}, headers=headers).json()["items"]
    assert [i["driver"] for i in rest] == ["Eve Electric"]
    assert rest[0]["charger_serial"] == "SN-4242" and rest[0]["warranty_until"] == "2028-10-01"
    rival = client.get(LIST, headers=api_key_for(jobs.world.org_b)).json()
    assert [i["driver"] for i in rival["items"]] == ["Rob Rival"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "completed"}, ["Eve Electric"]),
        ({"customer_id": "CRM-1", "sort": "created"}, ["Dan Driver", "=Fay Formula"]),
        ({"overdue": "1"}, ["Dan Driver"]),
        ({"overdue": "1", "overdue_days": "30"}, []),
        ({"customer_id": "CRM-9"}, []),  # an unknown Customer ID is an empty report
    ],
)
def test_the_filters(jobs: Jobs, client, api_key_for, params, expected):
    headers = api_key_for(jobs.world.org_a, Role.CONNECTIONS_OFFICER)
    items = client.get(LIST, params, headers=headers).json()["items"]
    assert [i["driver"] for i in items] == expected


def test_installer_and_connection_filters(jobs: Jobs, client, api_key_for):
    headers = api_key_for(jobs.world.org_a)
    by_installer = client.get(LIST, {"installer": jobs.voltwerk.company.pk}, headers=headers)
    assert [i["driver"] for i in by_installer.json()["items"]] == ["Eve Electric"]
    by_connection = client.get(LIST, {"connection": jobs.globex.pk}, headers=headers)
    assert [i["driver"] for i in by_connection.json()["items"]] == ["Eve Electric"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"start": "yesterday"}, "start"),
        ({"overdue_days": "0"}, "overdue_days"),
        ({"overdue": "maybe"}, "overdue"),
        ({"sort": "password"}, "sort"),
        ({"installer": "abc"}, "installer"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(jobs: Jobs, client, api_key_for, params, field):
    response = client.get(LIST, params, headers=api_key_for(jobs.world.org_a))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]


def test_another_organisations_connection_is_a_422_like_a_missing_one(
    jobs: Jobs, client, api_key_for
):
    headers = api_key_for(jobs.world.org_a)
    foreign = client.get(LIST, {"connection": jobs.rival.connection_id}, headers=headers)
    missing = client.get(LIST, {"connection": 999999}, headers=headers)
    assert foreign.status_code == missing.status_code == 422
    assert foreign.json() == missing.json()


def test_one_job_with_its_history(jobs: Jobs, client, api_key_for):
    headers = api_key_for(jobs.world.org_a, Role.ANALYST)
    response = client.get(f"{LIST}/{jobs.dan.pk}", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["job"]["driver"] == "Dan Driver"
    assert [(h["from_status"], h["to_status"], h["by"]) for h in body["history"]] == [
        ("", "assigned", "the platform"),  # the code, in English words
        ("surveyed", "quoted", "manager@sparkfit.example"),
    ]
    assert body["history"][1]["note"] == "Quote 2 after the fuse box check"


def test_another_organisations_job_is_404_like_a_missing_one(jobs: Jobs, client, api_key_for):
    headers = api_key_for(jobs.world.org_a)
    foreign = client.get(f"{LIST}/{jobs.rival.pk}", headers=headers)
    missing = client.get(f"{LIST}/999999", headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_the_csv(jobs: Jobs, client, api_key_for):
    response = client.get(
        f"{LIST}.csv", {"status": "quoted"}, headers=api_key_for(jobs.world.org_a, Role.ANALYST)
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))
    assert header == HEADINGS
    assert [r[1] for r in rows] == ["Dan Driver"]


def test_installer_keys_and_keys_without_the_permission_are_refused(
    jobs: Jobs, client, api_key_for
):
    installer = api_key_for(jobs.sparkfit.organisation, Role.INSTALLER_MANAGER)
    for url in (LIST, f"{LIST}.csv", f"{LIST}/{jobs.dan.pk}"):
        assert client.get(url, headers=installer).status_code == 403
    assert client.get(LIST).status_code == 401
