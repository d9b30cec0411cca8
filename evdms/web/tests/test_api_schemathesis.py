"""schemathesis against /api/v1/openapi.json, in-process over WSGI, on the demo data.

Every operation gets generated requests, each sent with an API key of every role
(Network Manager, Connections Officer, Analyst) and with a platform operator's key; every
answer must be no server error, a status code the document declares for the operation,
and a body that matches the declared schema. Path parameters are drawn from the demo's
objects (of Voltlease, and of another organisation, which must look missing), so the
operations reach real objects and not only 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from evdms.accounts.models import Organisation, Role
from evdms.accounts.services import api_key_create

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

# Filled by the demo fixture: the keys to call with, the ids each path parameter draws from.
KEYS: dict[str, dict[str, str]] = {}
IDS: dict[str, list[int]] = {}


def _demo_ids() -> dict[str, list[int]]:
    """Ids of objects for each path parameter: Voltlease's, and one of another
    organisation (which every key of Voltlease must see as missing)."""
    from evdms.accounts.models import Admin
    from evdms.charging.models import Charger
    from evdms.connections.models import Connection
    from evdms.enrolment.models import InvitationBatch, Membership
    from evdms.reimbursements.models import PayoutBatch, PayoutLine, Statement
    from evdms.reports.models import ReportExport

    def ids(queryset: Any, own: dict[str, Any], limit: int = 4) -> list[int]:
        mine = list(queryset.filter(**own).values_list("pk", flat=True)[:limit])
        other = list(queryset.exclude(**own).values_list("pk", flat=True)[:1])
        return mine + other

    volt = {"slug": "voltlease"}
    return {
        "admin_id": ids(Admin.objects, {"organisation__slug": "voltlease"}),
        "connection_id": ids(Connection.objects, {"organisation__slug": "voltlease"}),
        "membership_id": ids(Membership.objects, {"organisation__slug": "voltlease"}, 8),
        "batch_id": ids(InvitationBatch.objects, {"connection__organisation__slug": "voltlease"}),
        "charger_id": ids(Charger.objects, {"organisation__slug": "voltlease"}),
        "statement_id": ids(Statement.objects, {"connection__organisation__slug": "voltlease"}),
        "export_id": ids(ReportExport.objects, {"organisation__slug": "voltlease"}),
        "payout_batch_id": list(PayoutBatch.objects.values_list("pk", flat=True)),
        "payout_line_id": list(PayoutLine.objects.values_list("pk", flat=True)[:6]),
        "token_id": _token_ids(ids),
        "organisation_id": list(Organisation.objects.values_list("pk", flat=True)[:4]),
        "fee_schedule_id": _fee_schedule_ids(),
        "_organisation": [Organisation.objects.get(**volt).pk],
    }


def _fee_schedule_ids() -> list[int]:
    from evdms.invoicing.models import FeeSchedule

    return list(FeeSchedule.objects.values_list("pk", flat=True)[:4])


def _token_ids(ids: Any) -> list[int]:
    from evdms.public_charging.models import Token

    return ids(Token.objects.order_by("-type", "pk"), {"organisation__slug": "voltlease"}, 6)


def _demo_extras(voltlease: Organisation) -> None:
    """What the demo does not make: an invitation batch and a finished report export."""
    from evdms.connections.models import Connection
    from evdms.enrolment.services.invitations import invitation_batch_create
    from evdms.reports.services import report_export_request

    actor = _actor(voltlease)
    connection = Connection.objects.filter(organisation=voltlease).earliest("pk")
    invitation_batch_create(actor=actor, connection=connection, emails=["new@example.com"])
    report_export_request(actor=actor, format="csv", params={}, rows_total=1)


def _actor(organisation: Organisation) -> Any:
    from evdms.accounts.permissions import Actor

    return Actor(organisation=organisation, role=Role.NETWORK_MANAGER)


@pytest.fixture(scope="module")
def in_process() -> Iterator[None]:
    """Requests keep the test's database connection, as Django's test client does: a
    real server closes it after each request, which would end the demo's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def demo(in_process: None, django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo data once for the module, in a transaction rolled back at its end; each
    operation's test runs in a savepoint inside it, so its writes do not reach the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        # The demo's log-ins are not used here: hash their passwords the fast way.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("seed_demo", stdout=StringIO())
        voltlease = Organisation.objects.get(slug="voltlease")
        _demo_extras(voltlease)
        for role in Role.values:
            _, plain = api_key_create(
                actor=None, organisation=voltlease, name=f"schemathesis {role}", role=role
            )
            KEYS[role] = {"Authorization": f"Bearer {plain}"}
        out = StringIO()
        operator = "operator@platform.example"
        call_command("create_api_key", "--operator", operator, "--name", "fuzz", stdout=out)
        KEYS["operator"] = {"Authorization": f"Bearer {out.getvalue().strip()}"}
        IDS.update(_demo_ids())
        yield
        transaction.set_rollback(True)
    KEYS.clear()
    IDS.clear()


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Mostly ids of real objects, sometimes the generated (almost always missing) one."""
    if not path_parameters:
        return st.just(path_parameters)
    strategies = {
        name: st.sampled_from(IDS[name]) | st.just(value) if IDS.get(name) else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(strategies)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_as_documented_for_every_key(demo: None, case: Any) -> None:
    for headers in KEYS.values():
        case.call_and_validate(headers=headers, checks=CHECKS)
