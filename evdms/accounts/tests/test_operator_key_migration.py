"""Operator API keys moved from reimbursements to accounts: a key made before the move
still works after it, with its id, hash and dates."""

from __future__ import annotations

import pytest

from evdms.accounts.models import OperatorApiKey, User
from evdms.accounts.services.operator_keys import _sha256, operator_api_key_authenticate

BEFORE = [
    ("accounts", "0008_organisation_require_two_factor"),
    ("reimbursements", "0007_amounts_fit_their_columns"),
]
# Accounts to its latest too: the test reads through today's models.
AFTER = [
    ("reimbursements", "0008_operator_api_key_moves_to_accounts"),
    ("accounts", "0013_languages_and_time_zones"),
]


@pytest.mark.django_db(transaction=True)
def test_a_key_made_before_the_move_keeps_working_after_it(migrate):
    old = migrate(BEFORE)
    OldUser = old.get_model("accounts", "User")
    OldKey = old.get_model("reimbursements", "OperatorApiKey")
    olga = OldUser.objects.create(
        email="olga@platform.example", password="!x", is_staff=True, is_active=True
    )
    plain = "evdmsop_0123456789ab_" + "s" * 43
    made = OldKey.objects.create(
        operator=olga, name="Payout robot", prefix="0123456789ab", key_hash=_sha256(plain)
    )

    migrate(AFTER)

    key = OperatorApiKey.objects.get()
    assert (key.pk, key.name, key.operator_id) == (made.pk, "Payout robot", olga.pk)
    assert operator_api_key_authenticate(plain) == User.objects.get(pk=olga.pk)
