"""Issue #19: a grant named by its day reads that day in the admin's language's format."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from evdms.accounts.models import Grant, User
from evdms.accounts.tests.test_grants import GRANTS, grant_form, page_errors
from evdms.testing.fixtures import World, client_for

pytestmark = pytest.mark.django_db


def test_a_right_given_twice_names_the_standing_grants_day_in_german(world: World):
    assert world.nadia.user is not None
    User.objects.filter(pk=world.nadia.user.pk).update(language="de")
    nadia = client_for(world.nadia)
    nadia.post(GRANTS, grant_form(world.org_b.public_id, rights=["view_transactions"]))
    standing = Grant.objects.get()
    response = nadia.post(GRANTS, grant_form(world.org_b.public_id, rights=["view_transactions"]))
    assert response.status_code == 422
    (message,) = page_errors(response)["rights"]
    with translation.override("de"):
        day = date_format(timezone.localtime(standing.created_at), "DATE_FORMAT")
    assert day.startswith(f"{timezone.localtime(standing.created_at).day}. ")  # "3. Dez. 2026"
    assert day in message, message
