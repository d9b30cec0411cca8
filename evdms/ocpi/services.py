"""Every change to an OCPI partner: adding one, both directions of the credentials
handshake, rotation, unregistering, suspending. Each write is audited in its transaction.

Calls to the partner's server happen outside any transaction (a slow partner must not
hold a database lock), and nothing is stored until they have all succeeded.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from evdms.accounts import field_crypto
from evdms.accounts.keyed_hash import keyed_hash
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.ocpi import client, party, schema
from evdms.ocpi.client import PeerError
from evdms.ocpi.models import Partner, PartnerRole, PartnerStatus
from evdms.ocpi.transport import TOKEN_A_PURPOSE, TOKEN_C_PURPOSE, OcpiError, Status

# Modules a partner's 2.2.1 must offer before we register it (3003 otherwise). The next
# modules add theirs, e.g. ("tokens", "RECEIVER") for a CPO receiving our pushes.
REQUIRED_PARTNER_MODULES: dict[str, list[tuple[str, str | None]]] = {
    PartnerRole.CPO: [("credentials", None)],
    PartnerRole.HUB: [("credentials", None)],
}


def new_token(nbytes: int = 32) -> str:
    """URL-safe characters (43 for the default 256 bits): within OCPI's 64 printable
    ASCII. Never starting with "-", which a command line would take for an option (one
    token in 64 did: ``ocpi_partner_connect --token -x…`` failed)."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token


@dataclass
class PartnerApi:
    """What we learnt from a partner's versions endpoint."""

    versions_url: str
    version: str
    endpoints: list[dict[str, Any]]


def fetch_partner_api(versions_url: str, token: str, role: str) -> PartnerApi:
    """The partner's 2.2.1 endpoints, fetched with ``token``. 3001 when its server cannot
    be used or has no 2.2.1; 3003 when a module we need is missing."""
    try:
        versions = client.call("GET", versions_url, token)
    except PeerError as exc:
        raise OcpiError(Status.CLIENT_API_UNUSABLE, f"Versions: {exc}") from None
    problems = schema.check_versions(_known_versions(versions))
    if problems:
        raise OcpiError(Status.CLIENT_API_UNUSABLE, f"Versions not understood: {problems[0]}")
    ours = [v for v in versions if isinstance(v, dict) and v.get("version") == party.VERSION]
    if not ours:
        offered = ", ".join(str(v.get("version")) for v in versions if isinstance(v, dict))
        raise OcpiError(
            Status.CLIENT_API_UNUSABLE,
            f"No OCPI {party.VERSION} among the partner's versions ({offered or 'none'})",
        )
    try:
        details = client.call("GET", str(ours[0]["url"]), token)
    except PeerError as exc:
        raise OcpiError(Status.CLIENT_API_UNUSABLE, f"Version details: {exc}") from None
    problems = schema.check(schema.VERSION_DETAILS, details)
    if problems:
        raise OcpiError(
            Status.CLIENT_API_UNUSABLE, f"Version details not understood: {problems[0]}"
        )
    endpoints = [
        {"identifier": e["identifier"], "role": e["role"], "url": e["url"]}
        for e in details["endpoints"]
    ]
    for identifier, interface in REQUIRED_PARTNER_MODULES.get(role, []):
        if not any(
            e["identifier"] == identifier and (interface is None or e["role"] == interface)
            for e in endpoints
        ):
            raise OcpiError(
                Status.NO_MATCHING_ENDPOINTS,
                f"The partner's {party.VERSION} has no {identifier} module"
                + (f" ({interface})" if interface else ""),
            )
    return PartnerApi(versions_url=versions_url, version=party.VERSION, endpoints=endpoints)


def _known_versions(versions: Any) -> Any:
    """Versions of the future (or custom ones) are ignored, not refused."""
    if not isinstance(versions, list):
        return versions
    return [
        v for v in versions if not isinstance(v, dict) or v.get("version") in schema.VERSION_NUMBERS
    ] or versions


def check_credentials(body: Any) -> dict[str, Any]:
    problems = schema.check(schema.CREDENTIALS, body)
    if not problems and not schema.check_token(body["token"]):
        problems = ["token: 1-64 printable ASCII characters without spaces"]
    if problems:
        raise OcpiError(Status.INVALID_PARAMETERS, "; ".join(problems[:5]))
    roles = [
        {
            "role": r["role"],
            "party_id": r["party_id"].upper(),
            "country_code": r["country_code"].upper(),
            "business_details": r["business_details"],
        }
        for r in body["roles"]
    ]
    keys = [(r["role"], r["country_code"], r["party_id"]) for r in roles]
    if len(set(keys)) != len(keys):
        raise OcpiError(
            Status.INVALID_PARAMETERS, "roles: each role, country_code and party_id once"
        )
    return {"token": body["token"], "url": body["url"], "roles": roles}


def _check_parties_free(partner_pk: int, credentials: dict[str, Any]) -> None:
    """Objects partners push are keyed by (country_code, party_id): one party, one
    partner. A party another active partner holds is refused (2001)."""
    wanted = {(r["country_code"], r["party_id"]) for r in credentials["roles"]}
    others = Partner.objects.filter(
        status__in=(PartnerStatus.REGISTERED, PartnerStatus.SUSPENDED)
    ).exclude(pk=partner_pk)
    for other in others:
        taken = wanted & set(other.parties())
        if taken:
            country, party_id = sorted(taken)[0]
            raise OcpiError(
                Status.INVALID_PARAMETERS,
                f"Party {country}*{party_id} is already registered by another partner",
            )


def _store_api(partner: Partner, api: PartnerApi, credentials: dict[str, Any]) -> None:
    partner.versions_url = api.versions_url
    partner.version = api.version
    partner.endpoints = api.endpoints
    partner.roles = credentials["roles"]
    partner.token_b_encrypted = field_crypto.encrypt(credentials["token"])
    partner.updated_at = timezone.now()


def _parties(credentials: dict[str, Any]) -> list[str]:
    return [f"{r['role']} {r['country_code']}*{r['party_id']}" for r in credentials["roles"]]


def partner_add(
    *, name: str, role: str = PartnerRole.CPO, by_user: Any = None
) -> tuple[Partner, str]:
    """A pending partner and the token A it registers with (shown once, stored hashed)."""
    token_a = new_token()
    with transaction.atomic():
        partner = Partner.objects.create(
            name=name[:100], role=role, token_a_hash=keyed_hash(token_a, purpose=TOKEN_A_PURPOSE)
        )
        audit_record(
            actor=None,
            action=AuditAction.OCPI_PARTNER_ADD,
            target=partner,
            changes={"name": partner.name, "role": role},
            by_user=by_user,
        )
    return partner, token_a


def partner_register(partner: Partner, body: Any) -> dict[str, Any]:
    """The partner POSTed its credentials with our token A: fetch its endpoints with its
    token B, then store them and answer with our credentials and a fresh token C."""
    credentials = check_credentials(body)
    api = fetch_partner_api(credentials["url"], credentials["token"], partner.role)
    token_c = new_token()
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if locked.status != PartnerStatus.PENDING or locked.token_a_hash != partner.token_a_hash:
            raise OcpiError(Status.CLIENT_ERROR, "Already registered: use PUT", http_status=405)
        _check_parties_free(locked.pk, credentials)
        _store_api(locked, api, credentials)
        locked.token_a_hash = ""
        locked.token_c_hash = keyed_hash(token_c, purpose=TOKEN_C_PURPOSE)
        locked.status = PartnerStatus.REGISTERED
        locked.registered_at = timezone.now()
        locked.save()
        audit_record(
            actor=None,
            action=AuditAction.OCPI_PARTNER_REGISTER,
            target=locked,
            changes={"versions_url": api.versions_url, "parties": _parties(credentials)},
        )
    return party.credentials(token_c)


def partner_update_credentials(partner: Partner, body: Any) -> dict[str, Any]:
    """PUT: the partner's new credentials (token B, versions URL, roles); its endpoints
    fetched again; a new token C for it, the old one stops working."""
    credentials = check_credentials(body)
    api = fetch_partner_api(credentials["url"], credentials["token"], partner.role)
    token_c = new_token()
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if locked.status != PartnerStatus.REGISTERED or locked.token_c_hash != partner.token_c_hash:
            raise OcpiError(Status.CLIENT_ERROR, "Not registered: use POST", http_status=405)
        _check_parties_free(locked.pk, credentials)
        _store_api(locked, api, credentials)
        locked.token_c_hash = keyed_hash(token_c, purpose=TOKEN_C_PURPOSE)
        locked.save()
        audit_record(
            actor=None,
            action=AuditAction.OCPI_PARTNER_UPDATE,
            target=locked,
            changes={"versions_url": api.versions_url, "parties": _parties(credentials)},
        )
    return party.credentials(token_c)


def partner_unregister(partner: Partner) -> None:
    """DELETE: the partner's tokens and ours stop working; its row stays for history."""
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        locked.status = PartnerStatus.UNREGISTERED
        locked.token_a_hash = locked.token_c_hash = locked.token_b_encrypted = ""
        locked.updated_at = timezone.now()
        locked.save()
        audit_record(
            actor=None, action=AuditAction.OCPI_PARTNER_UNREGISTER, target=locked, changes={}
        )


class ConnectError(Exception):
    """``partner_connect`` failed; ``str()`` says at which step and why."""


def partner_connect(
    *, name: str, versions_url: str, token_a: str, role: str = PartnerRole.CPO, by_user: Any = None
) -> Partner:
    """We register with a partner that gave us its versions URL and a token A.

    Its versions and endpoints are fetched first (nothing stored yet). Then the partner
    is stored pending with our fresh token C (it calls our versions back with it while
    it handles our POST), we POST our credentials, and store the token B it answers
    with. On any failure the pending row is deleted: nothing is left half-written."""
    try:
        api = fetch_partner_api(versions_url, token_a, role)
    except OcpiError as exc:
        raise ConnectError(exc.message) from None
    credentials_url = next(
        (e["url"] for e in api.endpoints if e["identifier"] == "credentials"), None
    )
    if credentials_url is None:  # REQUIRED_PARTNER_MODULES checks it; kept for clarity
        raise ConnectError("The partner has no credentials module")
    token_c = new_token()
    partner = Partner.objects.create(
        name=name[:100],
        role=role,
        versions_url=versions_url,
        token_c_hash=keyed_hash(token_c, purpose=TOKEN_C_PURPOSE),
    )
    try:
        try:
            answer = client.call("POST", credentials_url, token_a, party.credentials(token_c))
        except PeerError as exc:
            raise ConnectError(f"Refused: {exc}") from None
        try:
            credentials = check_credentials(answer)
        except OcpiError as exc:
            raise ConnectError(f"The partner's credentials are not valid: {exc.message}") from None
        with transaction.atomic():
            locked = Partner.objects.select_for_update().get(pk=partner.pk)
            try:
                _check_parties_free(locked.pk, credentials)
            except OcpiError as exc:
                raise ConnectError(exc.message) from None
            _store_api(locked, api, credentials)
            locked.status = PartnerStatus.REGISTERED
            locked.registered_at = timezone.now()
            locked.save()
            audit_record(
                actor=None,
                action=AuditAction.OCPI_PARTNER_CONNECT,
                target=locked,
                changes={"versions_url": versions_url, "parties": _parties(credentials)},
                by_user=by_user,
            )
        return locked
    except BaseException:
        Partner.objects.filter(pk=partner.pk, status=PartnerStatus.PENDING).delete()
        raise


def partner_suspend(partner: Partner, *, by_user: Any = None) -> bool:
    """An operator stops a partner: its tokens answer 401 until it is reactivated."""
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if locked.status not in (PartnerStatus.PENDING, PartnerStatus.REGISTERED):
            return False
        before = locked.status
        locked.status = PartnerStatus.SUSPENDED
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=None,
            action=AuditAction.OCPI_PARTNER_SUSPEND,
            target=locked,
            changes={"status": [before, locked.status]},
            by_user=by_user,
        )
    return True


def partner_reactivate(partner: Partner, *, by_user: Any = None) -> bool:
    """Back to registered (or pending, when it had not registered yet)."""
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if locked.status != PartnerStatus.SUSPENDED:
            return False
        locked.status = PartnerStatus.REGISTERED if locked.registered_at else PartnerStatus.PENDING
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=None,
            action=AuditAction.OCPI_PARTNER_REACTIVATE,
            target=locked,
            changes={"status": [PartnerStatus.SUSPENDED, locked.status]},
            by_user=by_user,
        )
    return True


def partner_tokens_reencrypt() -> int:
    """Every stored token B encrypted again with the newest field-encryption key."""
    done = 0
    with transaction.atomic():
        for partner in Partner.objects.select_for_update().exclude(token_b_encrypted=""):
            partner.token_b_encrypted = field_crypto.rotate(partner.token_b_encrypted)
            partner.save(update_fields=["token_b_encrypted"])
            done += 1
    return done
