"""The migration that turns pending admins into invitations of an address detaches the
accounts the old invitation attached without their owner's consent."""

from __future__ import annotations

import pytest

BEFORE = [("accounts", "0004_admin_invitations_are_not_accounts")]
AFTER = [("accounts", "0006_admin_address_constraints")]


@pytest.mark.django_db(transaction=True)
def test_pending_admins_become_invitations_and_lose_the_accounts_they_were_given(migrate):
    old = migrate(BEFORE)
    Organisation = old.get_model("accounts", "Organisation")
    User = old.get_model("accounts", "User")
    Admin = old.get_model("accounts", "Admin")
    volt = Organisation.objects.create(slug="voltlease", name="Voltlease", kind="leasing_company")
    placeholder = User.objects.create(email="new@voltlease.example", password="!unusable")
    dora = User.objects.create(email="dora@example.com", full_name="Dora", password="pbkdf2$x")
    nadia = User.objects.create(email="nadia@voltlease.example", password="pbkdf2$y")
    Admin.objects.create(user=placeholder, organisation=volt, role="analyst", status="pending")
    Admin.objects.create(user=dora, organisation=volt, role="analyst", status="pending")
    Admin.objects.create(user=nadia, organisation=volt, role="network_manager", status="active")

    new = migrate(AFTER)

    Admin = new.get_model("accounts", "Admin")
    User = new.get_model("accounts", "User")
    rows = {a.email: (a.status, a.user_id) for a in Admin.objects.all()}
    assert rows == {
        "new@voltlease.example": ("invited", None),
        "dora@example.com": ("invited", None),
        "nadia@voltlease.example": ("active", nadia.pk),
    }
    # The account the old invitation made goes; Dora's own account stays hers.
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "dora@example.com",
        "nadia@voltlease.example",
    ]
