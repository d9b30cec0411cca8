from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evdms.ocpi.client import PeerError
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.simulator_charge import charge


class Command(BaseCommand):
    help = (
        "Play a CPO over real HTTP. With --register URL --token TOKEN_A it registers with a "
        "running platform; without, it prints its versions URL and a token A for "
        "`manage.py ocpi_partner_connect`. Then it serves until interrupted (--exit stops "
        "after registering)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--register", metavar="VERSIONS_URL", help="the platform's versions URL"
        )
        parser.add_argument("--token", help="the token A the platform gave (ocpi_partner_add)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=0, help="0: a free port")
        parser.add_argument("--party-id", default="SIM")
        parser.add_argument("--country-code", default="NL")
        parser.add_argument("--state", type=Path, help="write what it learnt to this JSON file")
        parser.add_argument("--exit", action="store_true", help="stop after registering")
        parser.add_argument(
            "--pull-tokens", action="store_true", help="after registering, pull the token list"
        )
        parser.add_argument(
            "--authorize",
            action="append",
            default=[],
            metavar="UID[:TYPE]",
            help="after registering, authorise this token in real time (repeatable)",
        )
        parser.add_argument(
            "--charge",
            action="append",
            default=[],
            metavar="UID[:TYPE]",
            help=(
                "after registering, charge with this token: authorise it, push the location, "
                "the session (started, completed) and its CDR (repeatable)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["register"]) != bool(options["token"]):
            raise CommandError("--register and --token go together")
        cpo = SimulatedCpo(
            host=options["host"],
            port=options["port"],
            party_id=options["party_id"],
            country_code=options["country_code"],
        ).start()
        try:
            if options["register"]:
                try:
                    token_c = cpo.register_with(options["register"], options["token"])
                except PeerError as exc:
                    raise CommandError(f"Registration refused: {exc}") from None
                self.stdout.write(f"registered; token C: {token_c}")
                self._tokens(cpo, options)
                self._charges(cpo, options)
            else:
                self.stdout.write(f"versions URL: {cpo.versions_url}")
                self.stdout.write(f"token A: {cpo.issue_token_a()}")
            self.stdout.flush()
            if options["state"]:
                options["state"].write_text(json.dumps(cpo.summary(), indent=2))
            if options["exit"] and options["register"]:
                return
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            cpo.stop()

    def _tokens(self, cpo: SimulatedCpo, options: dict[str, Any]) -> None:
        """Pull the platform's token list and authorise tokens, as a CPO's start-up and
        its charge points would."""
        try:
            if options["pull_tokens"]:
                tokens = cpo.pull_tokens()
                valid = sum(1 for t in tokens if t.get("valid"))
                self.stdout.write(
                    f"pulled {len(tokens)} tokens ({valid} valid) in {len(cpo.pages)} page(s)"
                )
            for wanted in options["authorize"]:
                uid, _, kind = wanted.partition(":")
                try:
                    info = cpo.authorize(uid, kind or "RFID")
                except PeerError as exc:
                    self.stdout.write(f"authorize {uid}: refused ({exc})")
                    continue
                self.stdout.write(
                    f"authorize {uid}: {info['allowed']} "
                    f"(reference {info.get('authorization_reference', '-')})"
                )
        except PeerError as exc:
            raise CommandError(f"Tokens: {exc}") from None

    def _charges(self, cpo: SimulatedCpo, options: dict[str, Any]) -> None:
        for wanted in options["charge"]:
            uid, _, kind = wanted.partition(":")
            try:
                done = charge(cpo, uid, kind=kind or "APP_USER")
            except PeerError as exc:
                self.stdout.write(f"charge {uid}: refused ({exc})")
                continue
            self.stdout.write(
                f"charge {uid}: session {done.session_id} and CDR {done.cdr_id} "
                f"accepted (CDR at {done.cdr_location})"
            )
