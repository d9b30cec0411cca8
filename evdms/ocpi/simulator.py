"""A small CPO that speaks OCPI 2.2.1 over real HTTP, for the demo, the tests and the
benchmarks (``manage.py simulate_cpo``).

It serves its own ``/ocpi/cpo/versions``, version details and credentials from a
thread-run HTTP server, and can register with the platform (it is then the Sender of
the credentials module) or be registered with (``ocpi_partner_connect``; it is then the
Receiver). What it learns (the token it calls the platform with, the platform's
endpoints) is in ``state()``.

To extend it (pulling tokens, authorising, pushing sessions and CDRs): add a module to
``MODULES`` with a handler method, and call the platform with ``call_platform``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from evdms.ocpi import client
from evdms.ocpi.services import new_token
from evdms.ocpi.transport import authorization_header, timestamp, token_candidates

VERSION = "2.2.1"


@dataclass
class Answer:
    """A handler's answer: the envelope's data and status code, and the HTTP status."""

    data: Any = None
    status_code: int = 1000
    message: str = "Success"
    http_status: int = 200


@dataclass
class CpoState:
    # Tokens the platform may call us with: token As we issued, then the token we gave it.
    accepted_tokens: set[str] = field(default_factory=set)
    token_a_issued: set[str] = field(default_factory=set)
    # The platform's token for us (its token C), its versions URL and 2.2.1 endpoints.
    platform_token: str = ""
    platform_versions_url: str = ""
    platform_endpoints: list[dict[str, Any]] = field(default_factory=list)
    platform_roles: list[dict[str, Any]] = field(default_factory=list)


class SimulatedCpo:
    # (module identifier, our interface role, path under /ocpi/cpo/2.2.1/, handler name).
    MODULES: list[tuple[str, str, str, str]] = [
        ("credentials", "SENDER", "credentials", "handle_credentials"),
    ]

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        country_code: str = "NL",
        party_id: str = "SIM",
        name: str = "Simulated CPO",
    ) -> None:
        self.host = host
        self.country_code = country_code
        self.party_id = party_id
        self.name = name
        self.state = CpoState()
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    # --- the server ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/ocpi/cpo"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/versions"

    def start(self) -> SimulatedCpo:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SimulatedCpo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_token_a(self) -> str:
        """A token A for the platform to register with us (``ocpi_partner_connect``)."""
        token = new_token(24)
        with self._lock:
            self.state.token_a_issued.add(token)
            self.state.accepted_tokens.add(token)
        return token

    def versions(self) -> list[dict[str, str]]:
        return [{"version": VERSION, "url": f"{self.base_url}/{VERSION}"}]

    def version_details(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "endpoints": [
                {"identifier": i, "role": r, "url": f"{self.base_url}/{VERSION}/{p}"}
                for i, r, p, _ in self.MODULES
            ],
        }

    def credentials(self, token: str) -> dict[str, Any]:
        return {
            "token": token,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "CPO",
                    "party_id": self.party_id,
                    "country_code": self.country_code,
                    "business_details": {"name": self.name},
                }
            ],
        }

    def dispatch(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[Answer, dict[str, str]]:
        with self._lock:
            self.requests.append((method, path, headers))
        echo = {
            "X-Request-ID": headers.get("x-request-id") or str(uuid.uuid4()),
            "X-Correlation-ID": headers.get("x-correlation-id") or str(uuid.uuid4()),
        }
        token = self._token_of(headers.get("authorization", ""))
        if token is None:
            return Answer(None, 2000, "Unknown token", 401), echo
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                return Answer(None, 2001, "Not JSON", 400), echo
        route = path.rstrip("/")
        if route == "/ocpi/cpo/versions" and method == "GET":
            return Answer(self.versions()), echo
        if route == f"/ocpi/cpo/{VERSION}" and method == "GET":
            return Answer(self.version_details()), echo
        for _, _, module_path, handler in self.MODULES:
            prefix = f"/ocpi/cpo/{VERSION}/{module_path}"
            if route == prefix or route.startswith(prefix + "/"):
                handle: Callable[..., Answer] = getattr(self, handler)
                return handle(method, route[len(prefix) :], token, parsed), echo
        return Answer(None, 2000, "No such endpoint", 404), echo

    def _token_of(self, header: str) -> str | None:
        with self._lock:
            for candidate in token_candidates(header):
                if candidate in self.state.accepted_tokens:
                    return candidate
        return None

    # --- credentials (the platform registers with us) ----------------------------------

    def handle_credentials(self, method: str, rest: str, token: str, body: Any) -> Answer:
        state = self.state
        if method == "GET":
            return Answer(self.credentials(token))
        if method == "POST":
            if token not in state.token_a_issued:
                return Answer(None, 2000, "Already registered", 405)
            try:
                self._learn_platform(body)
            except (client.PeerError, KeyError, TypeError) as exc:
                return Answer(None, 3001, f"Cannot use your API: {exc}")
            ours = new_token(24)
            with self._lock:
                state.token_a_issued.discard(token)
                state.accepted_tokens = {ours}
            return Answer(self.credentials(ours))
        if method == "PUT":
            if token in state.token_a_issued:
                return Answer(None, 2000, "Not registered", 405)
            try:
                self._learn_platform(body)
            except (client.PeerError, KeyError, TypeError) as exc:
                return Answer(None, 3001, f"Cannot use your API: {exc}")
            ours = new_token(24)
            with self._lock:
                state.accepted_tokens = {ours}
            return Answer(self.credentials(ours))
        if method == "DELETE":
            with self._lock:
                state.accepted_tokens = set()
                state.platform_token = ""
            return Answer(None)
        return Answer(None, 2000, "Method not allowed", 405)

    def _learn_platform(self, body: Any) -> None:
        """Fetch the platform's versions and endpoints with the token it gave us."""
        token, versions_url = body["token"], body["url"]
        versions = client.call("GET", versions_url, token)
        url = next(v["url"] for v in versions if v["version"] == VERSION)
        details = client.call("GET", url, token)
        with self._lock:
            self.state.platform_token = token
            self.state.platform_versions_url = versions_url
            self.state.platform_endpoints = list(details["endpoints"])
            self.state.platform_roles = list(body.get("roles", []))

    # --- we register with the platform (we are the Sender) ---------------------------

    def register_with(self, versions_url: str, token_a: str) -> str:
        """Register with the platform given its versions URL and our token A; returns the
        token C it answered with (kept in ``state.platform_token``). ``PeerError`` when
        the platform cannot be used or refuses."""
        versions = client.call("GET", versions_url, token_a)
        matching = [v for v in versions if v.get("version") == VERSION]
        if not matching:
            raise client.PeerError(f"The platform offers no OCPI {VERSION}")
        details = client.call("GET", matching[0]["url"], token_a)
        endpoints = list(details["endpoints"])
        credentials_url = next(
            (e["url"] for e in endpoints if e["identifier"] == "credentials"), None
        )
        if credentials_url is None:
            raise client.PeerError("The platform has no credentials module")
        token_b = new_token(24)
        with self._lock:
            self.state.accepted_tokens.add(token_b)
        try:
            answer = client.call("POST", credentials_url, token_a, self.credentials(token_b))
        except client.PeerError:
            with self._lock:
                self.state.accepted_tokens.discard(token_b)
            raise
        with self._lock:
            self.state.accepted_tokens = {token_b}
            self.state.platform_token = answer["token"]
            self.state.platform_versions_url = versions_url
            self.state.platform_endpoints = endpoints
            self.state.platform_roles = list(answer.get("roles", []))
        return str(answer["token"])

    def update_credentials(self) -> str:
        """PUT new credentials (a new token for the platform to call us with); returns
        the platform's new token C. Our old token keeps working until the PUT succeeds."""
        token_b = new_token(24)
        with self._lock:
            self.state.accepted_tokens.add(token_b)
        try:
            answer = self.call_platform("PUT", "credentials", body=self.credentials(token_b))
        except client.PeerError:
            with self._lock:
                self.state.accepted_tokens.discard(token_b)
            raise
        with self._lock:
            self.state.accepted_tokens = {token_b}
            self.state.platform_token = answer["token"]
        return str(answer["token"])

    def unregister(self) -> None:
        self.call_platform("DELETE", "credentials")
        with self._lock:
            self.state.accepted_tokens = set()
            self.state.platform_token = ""

    def platform_url(self, identifier: str, role: str | None = None) -> str:
        for endpoint in self.state.platform_endpoints:
            if endpoint["identifier"] == identifier and role in (None, endpoint.get("role")):
                return str(endpoint["url"])
        raise client.PeerError(f"The platform has no {identifier} module")

    def call_platform(
        self,
        method: str,
        identifier: str,
        *,
        role: str | None = None,
        path: str = "",
        body: Any = None,
    ) -> Any:
        """Call one of the platform's modules with our token C."""
        url = self.platform_url(identifier, role) + path
        return client.call(method, url, self.state.platform_token, body)

    # --- pushing Client Owned Objects (we are their Sender) ------------------------------

    def send_platform(
        self, method: str, identifier: str, path: str = "", body: Any = None
    ) -> dict[str, Any]:
        """One call to a platform module with our token C; the whole envelope, whatever
        its status (``envelope["http_status"]`` adds the HTTP status), so callers see
        refusals as the platform gave them."""
        url = self.platform_url(identifier) + path
        headers = {
            "Authorization": authorization_header(self.state.platform_token),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "OCPI-from-country-code": self.country_code,
            "OCPI-from-party-id": self.party_id,
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=payload, headers=headers, method=method)  # noqa: S310 (our platform's URL)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        envelope: dict[str, Any] = json.loads(raw or b"{}")
        envelope["http_status"] = status
        return envelope

    @staticmethod
    def _object_path(obj: dict[str, Any], *ids: str | None) -> str:
        return "/" + "/".join(
            str(part) for part in (obj["country_code"], obj["party_id"], *ids) if part is not None
        )

    def push_location(
        self,
        location: dict[str, Any],
        *,
        evse: dict[str, Any] | None = None,
        connector: dict[str, Any] | None = None,
        evse_uid: str | None = None,
    ) -> dict[str, Any]:
        """PUT a location, or (``evse``) one EVSE of it, or (``connector`` with its
        ``evse_uid``) one connector; ``location`` gives the URL's party and id."""
        if connector is not None:
            path = self._object_path(location, location["id"], evse_uid, connector["id"])
            return self.send_platform("PUT", "locations", path, connector)
        if evse is not None:
            path = self._object_path(location, location["id"], evse["uid"])
            return self.send_platform("PUT", "locations", path, evse)
        return self.send_platform(
            "PUT", "locations", self._object_path(location, location["id"]), location
        )

    def patch_location(
        self,
        location: dict[str, Any],
        patch: dict[str, Any],
        *,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> dict[str, Any]:
        """PATCH a location, one of its EVSEs or one connector (``location`` names the
        URL's party and id)."""
        path = self._object_path(location, location["id"], evse_uid, connector_id)
        return self.send_platform("PATCH", "locations", path, patch)

    def push_session(self, session: dict[str, Any]) -> dict[str, Any]:
        return self.send_platform(
            "PUT", "sessions", self._object_path(session, session["id"]), session
        )

    def patch_session(self, session: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """PATCH the session ``session`` names (its party and id) with ``patch``."""
        path = self._object_path(session, session["id"])
        return self.send_platform("PATCH", "sessions", path, patch)

    def push_tariff(self, tariff: dict[str, Any]) -> dict[str, Any]:
        return self.send_platform("PUT", "tariffs", self._object_path(tariff, tariff["id"]), tariff)

    def summary(self) -> dict[str, Any]:
        return {
            "versions_url": self.versions_url,
            "platform_token": self.state.platform_token,
            "platform_versions_url": self.state.platform_versions_url,
            "platform_endpoints": self.state.platform_endpoints,
        }


def _handler_for(cpo: SimulatedCpo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer, extra = cpo.dispatch(self.command, urlsplit(self.path).path, headers, body)
            envelope: dict[str, Any] = {
                "status_code": answer.status_code,
                "status_message": answer.message,
                "timestamp": timestamp(),
            }
            if answer.data is not None:
                envelope["data"] = answer.data
            payload = json.dumps(envelope).encode()
            self.send_response(answer.http_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler
