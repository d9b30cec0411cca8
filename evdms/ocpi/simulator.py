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
from urllib.parse import parse_qs, quote, urlsplit

from evdms.ocpi import client, schema
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
    # Tokens the platform pushed to our Tokens Receiver: the latest object per uid, in
    # order of their latest arrival, and every PUT as it came.
    received_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_puts: list[dict[str, Any]] = field(default_factory=list)


class SimulatedCpo:
    # (module identifier, our interface role, path under /ocpi/cpo/2.2.1/, handler name).
    MODULES: list[tuple[str, str, str, str]] = [
        ("credentials", "SENDER", "credentials", "handle_credentials"),
        ("tokens", "RECEIVER", "tokens", "handle_tokens"),
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
        # "" (up), "503" (every request answered HTTP 503) or "unreachable" (the
        # connection is closed without an answer): a partner that is down.
        self.down = ""
        self._local = threading.local()
        self.pages: list[dict[str, str]] = []  # the headers of the last pull's pages

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
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: str = ""
    ) -> tuple[Answer, dict[str, str]]:
        with self._lock:
            self.requests.append((method, path, headers))
        # The query string, for handlers that need a URL parameter (``type``).
        self._local.query = parse_qs(query)
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

    # --- tokens (we are the Receiver; the platform is the Sender) ----------------------

    def query_parameter(self, name: str, default: str = "") -> str:
        values = getattr(self._local, "query", {}).get(name)
        return str(values[0]) if values else default

    def handle_tokens(self, method: str, rest: str, token: str, body: Any) -> Answer:
        """``{url}/{country_code}/{party_id}/{uid}[?type=]``: PUT stores the token (checked
        against the spec's rules and the URL), GET answers it."""
        parts = [p for p in rest.split("/") if p]
        if len(parts) != 3:
            return Answer(None, 2000, "Expected /{country_code}/{party_id}/{uid}", 404)
        country_code, party_id, uid = parts
        token_type = self.query_parameter("type", "RFID")
        if method == "GET":
            with self._lock:
                stored = self.state.received_tokens.get(uid)
            if stored is None or stored.get("type") != token_type:
                return Answer(None, 2004, "Unknown token", 404)
            return Answer(stored)
        if method != "PUT":
            return Answer(None, 2000, "Method not allowed", 405)
        problems = schema.check(schema.TOKEN, body)
        if not problems and (
            body["country_code"] != country_code
            or body["party_id"] != party_id
            or body["uid"] != uid
            or body["type"] != token_type
        ):
            problems = ["the URL and the object disagree"]
        if problems:
            return Answer(None, 2001, "; ".join(problems))
        with self._lock:
            self.state.received_tokens.pop(uid, None)
            self.state.received_tokens[uid] = body
            self.state.token_puts.append(body)
        return Answer(None)

    def get_page(self, url: str) -> tuple[Any, dict[str, str]]:
        """GET one page of a platform list: (data, lower-cased headers)."""
        request = urllib.request.Request(  # noqa: S310 (the platform's own http(s) URL)
            url,
            headers={
                "Authorization": authorization_header(self.state.platform_token),
                "X-Request-ID": str(uuid.uuid4()),
                "X-Correlation-ID": str(uuid.uuid4()),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw, headers = response.read(), dict(response.headers)
        except (urllib.error.URLError, OSError) as exc:
            raise client.PeerError(f"GET {url} failed: {exc}") from None
        envelope = json.loads(raw)
        if envelope.get("status_code") != 1000:
            raise client.PeerError(f"GET {url} answered {envelope.get('status_code')}")
        return envelope.get("data"), {k.lower(): v for k, v in headers.items()}

    def pull_tokens(self, **filters: str) -> list[dict[str, Any]]:
        """Every token of the platform's list (its Sender interface), following the
        ``Link: <…>; rel="next"`` pages; ``filters`` go on the first URL (date_from, …)."""
        url = self.platform_url("tokens", "SENDER")
        if filters:
            url += "?" + "&".join(f"{k}={quote(v)}" for k, v in filters.items())
        tokens: list[dict[str, Any]] = []
        self.pages = []
        next_url: str | None = url
        while next_url:
            data, headers = self.get_page(next_url)
            self.pages.append(headers)
            tokens += data
            link = headers.get("link", "")
            next_url = link[1 : link.index(">")] if link.startswith("<") else None
        return tokens

    def authorize(
        self, uid: str, kind: str = "RFID", location: dict[str, Any] | None = None
    ) -> Any:
        """A real-time authorisation (the AuthorizationInfo); ``PeerError`` on 404."""
        path = f"/{quote(uid, safe='')}/authorize?type={kind}"
        return self.call_platform("POST", "tokens", role="SENDER", path=path, body=location)

    # --- CDRs (we are their Sender: the platform is the Receiver) ---------------------

    def push_cdr(self, cdr: dict[str, Any]) -> str:
        """POST a CDR to the platform's CDRs Receiver; returns the ``Location`` it
        answered (where the CDR can be read back). ``PeerError`` when it is refused."""
        url = self.platform_url("cdrs", "RECEIVER")
        status, headers, envelope = _raw_call("POST", url, self.state.platform_token, cdr)
        code = envelope.get("status_code") if isinstance(envelope, dict) else None
        if status not in (200, 201) or code != 1000:
            message = envelope.get("status_message", "") if isinstance(envelope, dict) else ""
            raise client.PeerError(f"POST {url} answered HTTP {status}, OCPI {code} {message}")
        location = headers.get("location", "")
        if not location:
            raise client.PeerError(f"POST {url} answered no Location header")
        return location

    def get_cdr(self, location_url: str) -> Any:
        """The CDR at the URL ``push_cdr`` returned, as the platform keeps it."""
        return client.call("GET", location_url, self.state.platform_token)

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
            if cpo.down == "unreachable":
                self.close_connection = True
                return  # no answer at all: the caller sees the connection dropped
            if cpo.down:
                answer, extra = Answer(None, 3000, "Service unavailable", 503), dict[str, str]()
            else:
                url = urlsplit(self.path)
                answer, extra = cpo.dispatch(self.command, url.path, headers, body, url.query)
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


def _raw_call(method: str, url: str, token: str, body: Any) -> tuple[int, dict[str, str], Any]:
    """One call whose HTTP status and headers matter (``client.call`` gives the data
    only): (status, lower-cased headers, the parsed envelope or None)."""
    request = urllib.request.Request(  # noqa: S310 (the platform's own http(s) URL)
        url,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": authorization_header(token),
            "Content-Type": "application/json",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
        },
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, raw, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, raw, headers = exc.code, exc.read(), dict(exc.headers)
    except (urllib.error.URLError, OSError) as exc:
        raise client.PeerError(f"{method} {url} could not be reached: {exc}") from None
    try:
        envelope = json.loads(raw) if raw else None
    except ValueError:
        envelope = None
    return status, {k.lower(): v for k, v in headers.items()}, envelope
