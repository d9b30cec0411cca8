"""Platform operators' view of CDRs: those needing attention one filter away, the body
read-only, and a resolve action that is audited."""

from __future__ import annotations

import pytest
from django.utils import timezone

from evdms.audit.models import AuditEvent
from evdms.ocpi.models import Cdr, Partner, PartnerStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdrs() -> tuple[Cdr, Cdr]:
    partner = Partner.objects.create(
        name="Fast Chargers", status=PartnerStatus.REGISTERED, registered_at=timezone.now()
    )
    flagged = Cdr.objects.create(
        partner=partner,
        country_code="DE",
        party_id="FCH",
        object_id="CDR-FLAGGED",
        body={"id": "CDR-FLAGGED", "remark": "as received"},
        token_uid="NOBODY01",
        flags=["unknown token: NL*EVD NOBODY01"],
        needs_attention=True,
    )
    fine = Cdr.objects.create(
        partner=partner, country_code="DE", party_id="FCH", object_id="CDR-FINE", body={}
    )
    return flagged, fine


def test_the_attention_filter_lists_flagged_cdrs_only(admin_client, cdrs):
    page = admin_client.get("/platform-admin/ocpi/cdr/?needs_attention__exact=1").content.decode()
    assert "CDR-FLAGGED" in page and "unknown token: NL*EVD NOBODY01" in page
    assert "CDR-FINE" not in page


def test_a_cdr_is_read_only(admin_client, cdrs):
    flagged, _ = cdrs
    page = admin_client.get(f"/platform-admin/ocpi/cdr/{flagged.pk}/change/").content.decode()
    assert "as received" in page
    assert 'name="body"' not in page and 'name="flags"' not in page


def test_resolving_leaves_the_flags_and_is_audited(admin_client, cdrs):
    flagged, fine = cdrs
    admin_client.post(
        "/platform-admin/ocpi/cdr/",
        {"action": "resolve", "_selected_action": [flagged.pk, fine.pk]},
    )
    flagged.refresh_from_db()
    assert not flagged.needs_attention
    assert flagged.flags[0] == "unknown token: NL*EVD NOBODY01"
    assert flagged.flags[1].startswith("resolved by ")
    events = AuditEvent.objects.filter(action="ocpi_cdr.resolve")
    assert [e.target_id for e in events] == [str(flagged.pk)]
