"""Issue #19: the days and times a driver reads about reimbursement (the statement PDF,
the home price form) are written as the driver's language writes them."""

from __future__ import annotations

import html
import io
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format
from pypdf import PdfReader

from evdms.charging.models import ChargingSession
from evdms.notifications.moments import organisation_time_zone
from evdms.reimbursements.models import Statement
from evdms.reimbursements.selectors import price_earliest_day
from evdms.reimbursements.services.statements import statements_run
from evdms.reimbursements.statement_pdf import statement_pdf
from evdms.reimbursements.tests.conftest import reimbursed_driver
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


@pytest.fixture
def dan(world):
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 1, 1, tzinfo=TZ)):
        connection = make_connection(world.org_a, max_price_per_kwh="0.30")
    dan = reimbursed_driver(world, connection)
    dan["driver"].language = "de"
    dan["driver"].save(update_fields=["language"])
    return dan


def test_the_statement_pdf_dates_its_sessions_in_the_drivers_language(world, dan):
    started = datetime(2026, 10, 3, 20, 5, tzinfo=TZ)
    ChargingSession.objects.create(
        charger=dan["charger"],
        organisation_id=dan["charger"].organisation_id,
        driver=dan["driver"],
        connection=dan["connection"],
        transaction_id="a",
        started_at=started,
        ended_at=started + timedelta(hours=2),
        energy_wh=10_000,
        status="completed",
    )
    statements_run(date(2026, 10, 1))
    text = PdfReader(io.BytesIO(statement_pdf(Statement.objects.get()))).pages[0].extract_text()
    local = timezone.localtime(started, organisation_time_zone(world.org_a))
    assert f"{local:%d.%m.%Y, %H:%M}" in text  # German: 03.10.2026, 20:05
    assert "Oktober 2026" in text
    assert f"{local:%Y-%m-%d}" not in text


def test_a_home_price_day_out_of_range_is_refused_with_german_dates(dan):
    client = Client()
    client.force_login(dan["driver"], backend="evdms.accounts.backends.EmailBackend")
    answer = client.post(
        "/my/reimbursement/home-price/", {"price_per_kwh": "0.25", "valid_from": "0001-01-01"}
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "Verwenden Sie ein Datum vom 1. Jan. 2010 bis" in page
    assert "2010-01-01" not in page.split("Verwenden Sie ein Datum", 1)[1][:40]


def test_the_home_price_form_names_its_first_day_in_german(dan):
    client = Client()
    client.force_login(dan["driver"], backend="evdms.accounts.backends.EmailBackend")
    page = html.unescape(client.get("/my/reimbursement/").content.decode())
    day = price_earliest_day(dan["driver"]).day
    with translation.override("de"):
        german = date_format(day, "DATE_FORMAT")
    assert german.startswith(f"{day.day}. ")  # "3. Dez. 2026", not "3 Dezember 2026"
    assert f"Leer für heute. Ab {german} (" in page
