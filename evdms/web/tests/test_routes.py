"""Access rules for every page and API operation, generated from the URL conf.

A new route without a declared rule fails here; so does a route that lets a role do
more than the role matrix allows, or shows an outsider another organisation's object.
When you add a route whose URL takes an object, add a maker for its argument below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from evdms.accounts.models import Role
from evdms.accounts.permissions import INSTALLER_PERMISSIONS, ROLE_PERMISSIONS, Permission
from evdms.accounts.services import api_key_create
from evdms.api import api
from evdms.testing.fixtures import World, client_for, make_connection, make_membership
from evdms.ui.api import ApiKeyAuth, OperatorKeyAuth

# Pages anyone may open. Adding to this list is a decision to review, not a formality.
PUBLIC_ROUTES = {
    "web:home",
    "accounts:login",
    "accounts:login_code",  # the second step; it acts only on the password just given
    "accounts:logout",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:admin_setup",
    "web:outbox",  # development only; see web.views
    "web:outbox_message",
    "web:outbox_message_html",
    "web:outbox_attachment",
    "enrolment:join",  # the invite link: its token is the secret
    "connections:join_logo",
    "connections:logo",  # by the logo's own hash: it tells nothing but the logo
    "enrolment:signup",
    "enrolment:signup_sent",  # says only "check your e-mail", the same for every address
    "enrolment:confirm_email",  # its signed token is the secret
    "enrolment:join_request",  # shows sign-up / log-in to visitors
    "installations:quote_approval",  # the signed, expiring, single-use link is the secret
}
# Pages for any logged-in user (drivers); each shows only the user's own things.
LOGIN_ROUTES = {
    "accounts:account",
    "enrolment:my_connections",
    "enrolment:withdraw",
    "enrolment:leave",
    "enrolment:resend_confirmation",
    "reimbursements:mine",  # the driver's own bank details and prices
    "reimbursements:bank_account",
    "reimbursements:home_price",
    "charging:my_sessions",  # the driver's own sessions
    "reimbursements:statement_pdf",  # the driver's own statements
    "installations:driver_quote",  # the driver's own installation's quote
    "installations:my-installation",  # the driver's own installation jobs
    "installations:my-installation-photo",
    "installations:my-installation-move",
    "installations:my-installation-document",
    "public_charging_tokens:my_tokens",  # the driver's own charging tokens
    "public_charging_tokens:report_lost",
    "public_charging_sessions:mine",  # the driver's own public sessions
    "public_charging_sessions:purpose",
}
# Pages about one's own log-in, for any admin and for platform operators (not drivers).
ACCOUNT_ROUTES = {
    "accounts:two_factor",
    "accounts:two_factor_begin",
    "accounts:two_factor_enable",
    "accounts:recovery_codes_renew",
    "accounts:two_factor_disable",
    "accounts:connection_alerts",
}
# Namespaces with their own gate: the Django admin (platform operators), the API, whose
# operations are checked one by one below, and OCPI, whose every endpoint answers only a
# partner's credentials token (evdms/ocpi/tests: 401 without one, token A only on
# versions and credentials).
OWN_GATE = {"admin", "api", "ocpi"}


def _org_a_api_key(world: World) -> int:
    key, _ = api_key_create(
        actor=None, organisation=world.org_a, name="route test", role=Role.ANALYST
    )
    return key.pk


def _org_a_membership(world: World) -> Any:
    """Dora's request to a connection of Voltlease, with the terms she agreed to (so the
    signed copy's route has something to give)."""
    from evdms.accounts.models import User
    from evdms.enrolment.models import TermsAcceptance

    driver = User.objects.create_user("dora@example.com", "dora's passphrase 1")
    membership = make_membership(make_connection(world.org_a, name="Members"), driver, "pending")
    TermsAcceptance.objects.create(
        membership=membership, driver=driver, text="Terms.", sha256="0" * 64
    )
    return membership


def _org_a_connection(world: World) -> Any:
    """One connection per test, so a URL with a connection and its batch agree."""
    if not hasattr(world, "_connection"):
        world._connection = make_connection(world.org_a, name="Route test")  # type: ignore[attr-defined]
    return world._connection  # type: ignore[attr-defined]


def _org_a_batch(world: World) -> Any:
    from evdms.enrolment.models import InvitationBatch

    return InvitationBatch.objects.create(connection=_org_a_connection(world), total=0)


def _org_a_charger(world: World) -> Any:
    from evdms.charging.services import charger_register

    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="ROUTE-1", serial="S"
    )
    return charger


def _org_a_held_session(world: World) -> Any:
    """A session of Voltlease's charger, held for review."""
    from evdms.charging.models import ChargingSession

    charger = _org_a_charger(world)
    return ChargingSession.objects.create(
        charger=charger,
        organisation_id=charger.organisation_id,
        transaction_id="held",
        review="pending",
    )


def _dora_statement(world: World) -> Any:
    """A statement of Dora, the driver who owns the membership above."""
    from datetime import date
    from decimal import Decimal

    from evdms.reimbursements.models import Statement

    membership = _org_a_membership(world)
    return Statement.objects.create(
        driver=membership.driver,
        connection=membership.connection,
        month=date(2026, 10, 1),
        currency="EUR",
        total=Decimal("1.00"),
        status="ready",
    )


def _org_a_export(world: World) -> Any:
    """A finished transaction report export of Voltlease."""
    from datetime import timedelta

    from django.utils import timezone

    from evdms.reports.models import ReportExport, ReportExportChunk

    export = ReportExport.objects.create(
        organisation=world.org_a,
        role=Role.ANALYST,
        format="csv",
        status="done",
        size=3,
        expires_at=timezone.now() + timedelta(days=1),
        # Asked for by an admin reaching every connection of Voltlease.
        scope={"organisations": [world.org_a.pk], "connections": []},
    )
    ReportExportChunk.objects.create(export=export, index=0, data=b"a,b")
    return export


def _payout_batch(world: World) -> Any:
    """One exported batch per test paying Dora's statement, so a URL with a batch and
    one of its lines agree."""
    if not hasattr(world, "_payout_batch"):
        from datetime import date

        from evdms.reimbursements.services import bank_account_set
        from evdms.reimbursements.services.payouts import payout_batch_create, payout_batch_export

        statement = _dora_statement(world)
        bank_account_set(driver=statement.driver, holder="Dora", iban="NL91ABNA0417164300")
        statement.bank_account = statement.driver.bank_accounts.get()
        statement.save(update_fields=["bank_account"])
        batch = payout_batch_create(execution_date=date(2026, 11, 5))
        payout_batch_export(batch=batch)
        world._payout_batch = batch  # type: ignore[attr-defined]
    return world._payout_batch  # type: ignore[attr-defined]


def _org_a_job(world: World) -> Any:
    """An installation job of Dora for a connection of Voltlease, assigned to an installer
    company on Voltlease itself (where the world's installer admins are), so organisation,
    installer and driver pages all reach it."""
    if not hasattr(world, "_job"):
        import datetime

        from django.utils import timezone

        from evdms.accounts.models import User
        from evdms.installations.models import InstallerCompany
        from evdms.testing.installations import make_job

        company, _ = InstallerCompany.objects.get_or_create(
            organisation=world.org_a,
            defaults={"certified_until": timezone.now().date() + datetime.timedelta(days=30)},
        )
        dora = User.objects.filter(email="dora@example.com").first() or User.objects.create_user(
            "dora@example.com", "dora's passphrase 1"
        )
        world._job = make_job(_org_a_connection(world), dora, company, status="quoted")  # type: ignore[attr-defined]
    return world._job  # type: ignore[attr-defined]


def _org_a_job_document(world: World) -> Any:
    """The installer declaration of that job (a document the driver may open too)."""
    from evdms.installations.models import JobDocument

    return JobDocument.objects.create(
        job=_org_a_job(world),
        kind="declaration",
        filename="declaration.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4",
        size=8,
        sha256="0" * 64,
    )


def _org_a_installation_export(world: World) -> Any:
    """A finished installation report export of Voltlease."""
    export = _org_a_export(world)
    export.report = "installations"
    export.save(update_fields=["report"])
    return export


def _dora_card(world: World) -> Any:
    """An RFID card of Dora, a driver of Voltlease (organisation A)."""
    from evdms.public_charging.models import Token

    membership = _org_a_membership(world)
    return Token.objects.create(
        organisation=world.org_a,
        driver=membership.driver,
        type="RFID",
        uid="04A1B2C3D4",
        contract_id="NL-EVD-CROUTE001-0",
        visual_number="ROUTE-1",
    )


def _org_a_fee_schedule(world: World) -> Any:
    """A fee schedule of Voltlease (only operators reach it)."""
    from datetime import date

    from evdms.invoicing.services.fees import fee_schedule_create

    return fee_schedule_create(
        actor_label="route test", organisation=world.org_a, valid_from=date(2026, 11, 1)
    )


def _org_a_invoice(world: World) -> Any:
    """A Services invoice of the platform to Voltlease."""
    from datetime import date
    from decimal import Decimal

    from evdms.invoicing.models import InvoiceKind, LineSource
    from evdms.invoicing.services.issue import DraftLine, invoice_issue

    line = DraftLine(
        source=LineSource.DRIVER_FEE,
        description="Monthly fee",
        quantity=Decimal(1),
        unit_price=Decimal("5.00"),
    )
    return invoice_issue(
        organisation=world.org_a, kind=InvoiceKind.SERVICES, month=date(2026, 10, 1), lines=[line]
    )


def _org_a_grant(world: World) -> Any:
    """A standing grant Voltlease gave to a third organisation (not Rival Lease: the
    outsider must learn nothing even of grants it did not receive)."""
    from evdms.accounts.models import Grant
    from evdms.testing.fixtures import make_organisation

    acme = make_organisation("acme-route", "Acme Route")
    return Grant.objects.create(grantor=world.org_a, grantee=acme, can_manage_drivers=True)


# URL argument → a maker of an object of Voltlease (organisation A) for that argument.
OBJECT_MAKERS: dict[str, Callable[[World], Any]] = {
    "admin_id": lambda w: w.otto.pk,
    "key_id": _org_a_api_key,
    "connection_id": lambda w: _org_a_connection(w).pk,
    "membership_id": lambda w: _org_a_membership(w).pk,
    "batch_id": lambda w: _org_a_batch(w).pk,
    "charger_id": lambda w: _org_a_charger(w).pk,
    "session_id": lambda w: _org_a_held_session(w).pk,
    "statement_id": lambda w: _dora_statement(w).pk,
    "export_id": lambda w: _org_a_export(w).pk,
    "payout_batch_id": lambda w: _payout_batch(w).pk,
    "payout_line_id": lambda w: _payout_batch(w).lines.get().pk,
    "job_id": lambda w: _org_a_job(w).pk,
    "document_id": lambda w: _org_a_job_document(w).pk,
    "installation_export_id": lambda w: _org_a_installation_export(w).pk,
    "token_id": lambda w: _dora_card(w).pk,
    "organisation_id": lambda w: w.org_a.pk,  # operators' fee schedules
    "fee_schedule_id": lambda w: _org_a_fee_schedule(w).pk,
    "invoice_id": lambda w: _org_a_invoice(w).pk,
    "grant_id": lambda w: _org_a_grant(w).pk,
}


def _outsider(world: World, permission: Permission | None) -> Any:
    """Someone with every permission of the route's side, of another organisation: Bob
    (Network Manager of B) for an organisation's page, the installer manager of another
    installer company for an installer's page."""
    if permission in INSTALLER_PERMISSIONS:
        from evdms.testing.installations import make_installer

        return make_installer("rival-fit", "Rival Fit").manager
    return world.bob


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry.callback


def page_routes() -> list[tuple[str, str, Any]]:
    return [r for r in _walk(get_resolver().url_patterns) if r[0].split(":")[0] not in OWN_GATE]


def protected_page_routes() -> list[tuple[str, str, Permission]]:
    return [
        (name, pattern, callback.access)
        for name, pattern, callback in page_routes()
        if isinstance(getattr(callback, "access", None), Permission)
    ]


def fill(pattern: str, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        arg = match.group(1)
        if arg not in OBJECT_MAKERS:
            pytest.fail(f"No object maker for URL argument {arg!r}: add one to OBJECT_MAKERS")
        return str(OBJECT_MAKERS[arg](world))

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, pattern)


def test_every_page_declares_who_may_open_it():
    undeclared = [name for name, _, callback in page_routes() if not hasattr(callback, "access")]
    assert undeclared == [], f"routes without an access rule: {undeclared}"


def test_only_the_listed_pages_are_public():
    public = {
        name for name, _, callback in page_routes() if getattr(callback, "access", None) == "public"
    }
    assert public == PUBLIC_ROUTES


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("name", "pattern", "permission"), protected_page_routes())
def test_each_role_gets_exactly_what_the_matrix_allows(world, role, name, pattern, permission):
    admin = world.admin_of_role(role)
    url = fill(pattern, world)
    response = client_for(admin).post(url)
    allowed = permission in ROLE_PERMISSIONS[role]
    if allowed:
        assert response.status_code not in (403, 404), f"{role} should reach {name}"
        assert response.status_code < 500
    else:
        assert response.status_code == 403, f"{role} must not reach {name}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "pattern", "permission"),
    [r for r in protected_page_routes() if "<" in r[1]],
)
def test_an_admin_of_another_organisation_gets_404(world, name, pattern, permission):
    url = fill(pattern, world)
    bob = client_for(_outsider(world, permission))  # every permission, wrong organisation
    answer = bob.get(url)
    assert answer.status_code in (404, 302)  # 302: a form-only address sends GETs to its page
    if answer.status_code == 302:  # the page above the address, whatever the object
        missing_url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "999999", pattern)
        missing = bob.get(missing_url)
        assert missing.status_code == 302
        assert url.startswith(answer["Location"]) or answer["Location"] == "/"
        assert missing_url.startswith(missing["Location"]) or missing["Location"] == "/"
        assert answer["Location"].count("/") == missing["Location"].count("/")
    assert bob.post(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern", "permission"), protected_page_routes())
def test_a_visitor_is_sent_to_log_in(db, name, pattern, permission):
    url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "1", pattern)
    response = Client().post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_user_who_is_not_an_admin_gets_403_on_admin_pages(world):
    from evdms.accounts.models import User

    driver = User.objects.create_user("driver@example.com", "a driver's passphrase")
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    for name, pattern, _ in protected_page_routes():
        if "<" not in pattern:
            assert client.get("/" + pattern).status_code in (403, 302), name


# --- the API ------------------------------------------------------------------------


def api_operations() -> list[tuple[str, str, Any]]:
    operations = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    operations.append(
                        (
                            method,
                            "/api/v1"
                            + (prefix.rstrip("/") + "/" + path.lstrip("/")).replace("//", "/"),
                            operation,
                        )
                    )
    return operations


def _permission_of(operation: Any) -> Permission | None:
    for callback in operation.auth_callbacks:
        if isinstance(callback, ApiKeyAuth) and callback.permission is not None:
            return callback.permission
    return None


def _for_operators(operation: Any) -> bool:
    """Platform operators' operations (payouts): no organisation role reaches them."""
    return any(isinstance(c, OperatorKeyAuth) for c in operation.auth_callbacks)


def test_every_api_operation_names_its_permission():
    missing = [
        f"{m} {p}"
        for m, p, op in api_operations()
        if _permission_of(op) is None and not _for_operators(op)
    ]
    assert missing == []


def _call(client: Client, method: str, url: str, key: str):
    return client.generic(
        method,
        url,
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path", "operation"), api_operations())
def test_each_api_key_role_gets_exactly_what_the_matrix_allows(
    world, role, method, path, operation
):
    _, key = api_key_create(actor=None, organisation=world.org_a, name="matrix", role=role)
    url = re.sub(r"\{(\w+)\}", lambda m: str(OBJECT_MAKERS[m.group(1)](world)), path)
    response = _call(Client(), method, url, key)
    if _for_operators(operation):
        assert response.status_code == 403, "organisation keys never reach operator operations"
    elif _permission_of(operation) in ROLE_PERMISSIONS[role]:
        assert response.status_code not in (401, 403, 404), response.content
        assert response.status_code < 500
    else:
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [o for o in api_operations() if "{" in o[1] and not _for_operators(o[2])],
)
def test_an_api_key_of_another_organisation_sees_what_a_missing_object_shows(
    world, method, path, operation
):
    outsider = _outsider(world, _permission_of(operation))
    _, key = api_key_create(
        actor=None, organisation=outsider.organisation, name="outsider", role=outsider.role
    )
    foreign = re.sub(r"\{(\w+)\}", lambda m: str(OBJECT_MAKERS[m.group(1)](world)), path)
    missing = re.sub(r"\{(\w+)\}", "999999", path)
    foreign_response = _call(Client(), method, foreign, key)
    missing_response = _call(Client(), method, missing, key)
    assert foreign_response.status_code == missing_response.status_code
    assert foreign_response.status_code in (404, 422)  # 422: the body was checked first
    assert foreign_response.json() == missing_response.json()


def _operator_key() -> str:
    from evdms.accounts.models import User
    from evdms.accounts.services.operator_keys import operator_api_key_create

    petra = User.objects.create_user("petra@platform.example", "petra's passphrase", is_staff=True)
    return operator_api_key_create(operator=petra, name="route test")[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "operation"), [o for o in api_operations() if _for_operators(o[2])]
)
def test_an_operator_key_reaches_operator_operations_and_a_missing_object_is_404(
    world, method, path, operation
):
    key = _operator_key()
    url = re.sub(r"\{(\w+)\}", lambda m: str(OBJECT_MAKERS[m.group(1)](world)), path)
    response = _call(Client(), method, url, key)
    assert response.status_code not in (401, 403, 404), response.content
    assert response.status_code < 500
    if "{" in path:
        missing = _call(Client(), method, re.sub(r"\{(\w+)\}", "999999", path), key)
        assert missing.status_code in (404, 422)  # 422: the body was checked first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "operation"), [o for o in api_operations() if _for_operators(o[2])]
)
def test_an_organisation_key_learns_nothing_from_operator_operations(
    world, method, path, operation
):
    _, key = api_key_create(
        actor=None, organisation=world.org_a, name="curious", role=Role.NETWORK_MANAGER
    )
    existing = re.sub(r"\{(\w+)\}", lambda m: str(OBJECT_MAKERS[m.group(1)](world)), path)
    missing = re.sub(r"\{(\w+)\}", "999999", path)
    answers = [_call(Client(), method, url, key) for url in (existing, missing)]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "operation"), [o for o in api_operations() if not _for_operators(o[2])]
)
def test_an_operator_key_is_not_an_organisation_key(world, method, path, operation):
    url = re.sub(r"\{(\w+)\}", lambda m: str(OBJECT_MAKERS[m.group(1)](world)), path)
    assert _call(Client(), method, url, _operator_key()).status_code == 401


def test_only_the_listed_pages_are_for_any_logged_in_user():
    login = {n for n, _, c in page_routes() if getattr(c, "access", None) == "login"}
    assert login == LOGIN_ROUTES


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "pattern"),
    [(n, p) for n, p, c in page_routes() if getattr(c, "access", None) == "login" and "<" in p],
)
def test_a_driver_cannot_act_on_another_drivers_things(world, name, pattern):
    from evdms.accounts.models import User

    url = fill(pattern, world)  # the object belongs to Dora
    eve = User.objects.create_user("eve@example.com", "eve's passphrase 12")
    client = Client()
    client.force_login(eve, backend="evdms.accounts.backends.EmailBackend")
    assert client.post(url).status_code == 404


def account_routes() -> list[tuple[str, str]]:
    return [(n, p) for n, p, c in page_routes() if getattr(c, "access", None) == "account"]


def test_only_the_listed_pages_are_about_ones_own_log_in():
    assert {name for name, _ in account_routes()} == ACCOUNT_ROUTES


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), account_routes())
def test_own_log_in_pages_are_for_every_admin_and_operator_not_for_drivers_or_visitors(
    world, name, pattern
):
    from evdms.accounts.models import User

    url = "/" + pattern
    for role in Role:
        assert client_for(world.admin_of_role(role)).post(url).status_code not in (403, 404)
    operator = User.objects.create_user("op@platform.example", "op's passphrase 1", is_staff=True)
    driver = User.objects.create_user("dora@example.com", "dora's passphrase 1")
    for user, expected in ((operator, None), (driver, 403)):
        client = Client()
        client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
        status = client.post(url).status_code
        assert status == expected if expected else status not in (403, 404), (user, status)
    visitor = Client().post(url)
    assert visitor.status_code == 302
    assert visitor["Location"].startswith("/accounts/login/")
