"""Platform operators' view of OCPI partners: status and last traffic, tokens never
shown, suspend / reactivate audited; the key-rotation command re-encrypts token B."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from evdms.accounts import field_crypto
from evdms.audit.models import AuditEvent
from evdms.ocpi.models import Partner, PartnerStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner() -> Partner:
    return Partner.objects.create(
        name="Fast Chargers",
        status=PartnerStatus.REGISTERED,
        registered_at=timezone.now(),
        last_traffic_at=timezone.now(),
        token_c_hash="hmac_sha256$abc",
        token_b_encrypted=field_crypto.encrypt("their-secret-token-b"),
        roles=[{"role": "CPO", "country_code": "DE", "party_id": "FCH"}],
    )


def test_operators_see_status_and_last_traffic_and_no_token(admin_client, partner):
    listing = admin_client.get("/platform-admin/ocpi/partner/").content.decode()
    assert "Fast Chargers" in listing and "Registered" in listing
    detail = admin_client.get(f"/platform-admin/ocpi/partner/{partner.pk}/change/")
    page = detail.content.decode()
    assert "CPO DE*FCH" in page
    assert "set (stored encrypted)" in page and "set (stored as a keyed hash)" in page
    assert "their-secret-token-b" not in page and "hmac_sha256$abc" not in page
    assert partner.token_b_encrypted not in page
    assert 'name="name"' not in page  # read-only: no form field to change


def test_suspend_and_reactivate_are_admin_actions_and_audited(admin_client, partner):
    url = "/platform-admin/ocpi/partner/"
    admin_client.post(url, {"action": "suspend", "_selected_action": [partner.pk]})
    assert Partner.objects.get().status == PartnerStatus.SUSPENDED
    admin_client.post(url, {"action": "reactivate", "_selected_action": [partner.pk]})
    assert Partner.objects.get().status == PartnerStatus.REGISTERED
    events = AuditEvent.objects.filter(target_type="ocpi.partner").order_by("at", "pk")
    assert [(e.action, e.actor_label) for e in events] == [
        ("ocpi_partner.suspend", "admin@example.com"),
        ("ocpi_partner.reactivate", "admin@example.com"),
    ]


def test_key_rotation_re_encrypts_partner_tokens(partner, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    Partner.objects.update(token_b_encrypted=field_crypto.encrypt("their-secret-token-b"))
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Partner.objects.get().token_b == "their-secret-token-b"
