"""The OCPP gateway: ws://HOST:PORT/ocpp/<charger-identity>, subprotocols ocpp1.6 and
ocpp2.0.1, HTTP basic auth with the charger's password (OCPP security profile 1)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import gc
import logging
import weakref
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import ocpp.messages
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from evdms.accounts.keyed_hash import Match
from evdms.charging import credentials, services
from evdms.charging.ocpp import package_speed
from evdms.charging.ocpp.common import SUPERSEDED_CODE, SUPERSEDED_REASON
from evdms.charging.ocpp.handlers_v16 import CentralSystem16
from evdms.charging.ocpp.handlers_v201 import CentralSystem201
from evdms.charging.ocpp.handshake import legacy_checks, password_hashes
from evdms.charging.ocpp.persist import group_commit

logger = logging.getLogger(__name__)
SUBPROTOCOLS = [Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")]
PATH_PREFIX = "/ocpp/"


def _identity(path: str) -> str:
    return (
        path.split("?", 1)[0][len(PATH_PREFIX) :].strip("/") if path.startswith(PATH_PREFIX) else ""
    )


def _basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


async def _password_ok(charger_id: int, stored: str, password: str) -> bool:
    """The keyed hash is checked here, on the event loop (a few microseconds). A legacy
    argon2 hash takes about 0.15 s of CPU: in a thread (argon2 releases the GIL, so other
    handshakes go on meanwhile), then replaced by the keyed hash."""
    if credentials.is_fast_hash(stored):
        match = credentials.charger_password_match(password, stored)
    else:
        async with legacy_checks():
            match = await asyncio.to_thread(credentials.legacy_password_match, password, stored)
    if match is Match.STALE:
        # False if the password was changed meanwhile: then this one is no longer valid.
        return await sync_to_async(services.charger_password_rehash)(
            charger_id=charger_id, old_hash=stored, password=password
        )
    return match is Match.YES


async def process_request(connection: ServerConnection, request: Request) -> Response | None:
    """Refuse at the handshake: unknown identity (404), missing or wrong password (401)."""
    identity = _identity(request.path)
    if not identity:
        return connection.respond(HTTPStatus.NOT_FOUND, "Connect to /ocpp/<charger identity>\n")
    basic = _basic_auth(request)
    if basic is None or basic[0] != identity:
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Basic authentication required\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
        return response
    found = await password_hashes().get(identity)
    if found is None or not await _password_ok(*found, basic[1]):
        return connection.respond(HTTPStatus.UNAUTHORIZED, "Unknown charger or wrong password\n")
    # Handed to the handler on the connection, where websockets leaves a server's own
    # per-connection data; its class declares no such attribute, so the ignores stay.
    connection.charger_id = found[0]  # type: ignore[attr-defined]
    return None


@dataclass
class LiveConnections:
    """This process's newest connection of each charger, with its epoch.

    A charger whose network dropped it often reconnects before we noticed the old
    socket is dead: the newer connection wins and the older one is closed at once.
    (One superseded from another process is closed at its next write, which the batch
    refuses, or its next BootNotification or Heartbeat.)"""

    newest: dict[int, tuple[int, ServerConnection]] = field(default_factory=dict)
    closing: set[asyncio.Task[None]] = field(default_factory=set)

    def accept(self, charger_id: int, epoch: int, connection: ServerConnection) -> None:
        current = self.newest.get(charger_id)
        if current is not None and current[0] > epoch:  # a newer one got here first
            self._close(connection)
            return
        self.newest[charger_id] = (epoch, connection)
        if current is not None:
            self._close(current[1])

    def leave(self, charger_id: int, connection: ServerConnection) -> None:
        current = self.newest.get(charger_id)
        if current is not None and current[1] is connection:
            del self.newest[charger_id]

    def _close(self, connection: ServerConnection) -> None:
        # Not awaited: a dead socket's closing handshake waits for its timeout, and the
        # new connection must not.
        task = asyncio.create_task(connection.close(SUPERSEDED_CODE, SUPERSEDED_REASON))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)


# One per event loop, as the group commit (tests run a gateway per loop).
_live: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveConnections] = (
    weakref.WeakKeyDictionary()
)


def live_connections() -> LiveConnections:
    loop = asyncio.get_running_loop()
    live = _live.get(loop)
    if live is None:
        live = _live[loop] = LiveConnections()
    return live


async def handler(connection: ServerConnection) -> None:
    identity = _identity(connection.request.path if connection.request else "")
    charger_id: int = connection.charger_id  # type: ignore[attr-defined]
    protocol = connection.subprotocol
    if protocol not in SUBPROTOCOLS:
        await connection.close(1002, "Use subprotocol ocpp1.6 or ocpp2.0.1")
        return
    cls: Any = CentralSystem16 if protocol == "ocpp1.6" else CentralSystem201
    central = cls(identity, connection)
    central.charger_id = charger_id
    # Here, not at the handshake: only a connection that is open takes the charger over.
    # With the other writes of the moment, in one transaction: after a restart the whole
    # fleet comes online within seconds (see ``persist``).
    epoch = central.epoch = await group_commit().connected(charger_id, protocol)
    live = live_connections()
    live.accept(charger_id, epoch, connection)
    too_large = ""
    try:
        await central.start()
    except ConnectionClosed as exc:
        # Chargers hang up and networks drop them all day: routine, so kept quiet.
        logger.debug("charger %s disconnected: %s", identity, exc)
        if exc.sent is not None and exc.sent.code == CloseCode.MESSAGE_TOO_BIG:
            too_large = exc.sent.reason
    except Exception:
        # Anything else is a fault of ours (or of the database) that cut the charger off:
        # an operator must see it, with the charger it hit.
        logger.warning("charger %s disconnected by an unexpected error", identity, exc_info=True)
    finally:
        live.leave(charger_id, connection)
        await group_commit().run(services.charger_disconnected, charger_id, epoch)
    if too_large:  # recorded out of the except block: see RecordingMixin
        await sync_to_async(services.protocol_issue)(
            charger_id, "Message too large", f"{too_large}; the connection was closed (1009)"
        )


async def start_gateway(host: str, port: int) -> Server:
    # The ocpp package validates each payload against its JSON schema in a thread pool
    # by default: two thread hand-offs per message, which cost the event loop more than
    # the validation itself (OCPP payloads are small). Validate in the loop instead.
    ocpp.messages.ASYNC_VALIDATION = False
    # And with compiled schema checks and keys renamed once (same answers; see there).
    package_speed.install()
    return await serve(
        handler,
        host,
        port,
        subprotocols=SUBPROTOCOLS,
        process_request=process_request,
        ping_interval=60,
        # When thousands reconnect at once on a busy machine, handshakes queue for the
        # database (and, for chargers still on a legacy argon2 hash, for the CPU): the
        # 10 s default refused many, and each refusal comes back as another handshake.
        open_timeout=60,
        # A larger message closes the connection (1009) before it is read into memory.
        max_size=settings.OCPP_MAX_MESSAGE_BYTES,
        # A charger has one request in flight at a time (OCPP): a few frames of buffer
        # are plenty, and bound what a connection sending faster than we read holds.
        max_queue=4,
        # A fleet reconnecting at once: the default listen backlog (100) dropped their
        # connection attempts, which chargers retry only after a second or more.
        backlog=4096,
    )


def _tune_garbage_collector() -> None:
    """Keep full collections rare and short in a process holding thousands of sockets.

    With the default young-generation threshold (700 allocations) every message still
    waiting for its batch's commit is promoted to the oldest generation, which then
    fills quickly and is walked in full (all connections' objects) every few seconds:
    pauses of 0.2-1.7 s at 1,000 messages/s with 2,000 chargers (measured with
    ``gc.callbacks``). A larger threshold lets in-flight messages die young; freezing
    what exists at start (Django, the models, the OCPP schemas) keeps it out of every
    full collection. Cycles are still collected, only less often.

    So whatever a charger sends must leave no reference cycle behind: the thresholds
    count objects, not bytes, and a cycle holding a frame's text is a few objects (500
    of 2 MB each stayed for good). See ``common.without_tracebacks`` and
    ``RecordingMixin``; ``tests/test_gateway_junk.py`` runs junk with the collector off.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


async def run_gateway(host: str, port: int) -> None:
    _tune_garbage_collector()
    server = await start_gateway(host, port)
    logger.info("OCPP gateway listening on ws://%s:%s%s<identity>", host, port, PATH_PREFIX)
    await server.serve_forever()


def main(host: str, port: int) -> None:
    asyncio.run(run_gateway(host, port))
