"""Issue #19: days on the enrolment pages in the reader's language's own format."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from evdms.accounts.models import User
from evdms.enrolment.models import InvitationBatch
from evdms.enrolment.tests.test_select_all import _installed_column, person
from evdms.testing.fixtures import client_for, make_connection, make_membership
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


def german(admin) -> None:
    User.objects.filter(pk=admin.user_id).update(language="de")


def test_the_drivers_page_dates_an_installed_charger_in_german(world):
    home = make_connection(world.org_a, name="Home")
    done = make_job(home, person("done@example.com"), make_installer().company, "commissioned")
    done.installed_at = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    done.save(update_fields=["installed_at"])
    make_membership(home, person("none@example.com"))
    german(world.nadia)
    page = client_for(world.nadia).get(reverse("enrolment:drivers")).content.decode()
    # DATE_FORMAT "j. N Y": "12. März 2026", not "12 Mär 2026" (a fixed "j M Y").
    assert _installed_column(page)["done@example.com"] == "Installiert am 12. März 2026"


def test_an_invitation_batch_is_named_by_its_moment_in_german(world):
    connection = make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    batch = InvitationBatch.objects.create(connection=connection, total=0)
    german(world.otto)
    url = reverse("enrolment:invitation_batch", args=[connection.pk, batch.pk])
    page = html.unescape(client_for(world.otto).get(url).content.decode())
    with translation.override("de"):
        moment = date_format(timezone.localtime(batch.created_at), "DATETIME_FORMAT")
    assert moment.split(" ")[0].endswith(".")  # "3. Dez. 2026, 14:30"
    assert f"Einladungen vom {moment}" in page
