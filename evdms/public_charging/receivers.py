"""Tokens follow the driver's membership and its connection: enrolment and connections
send signals (they never import this app), and the token services answer here, inside
the sender's transaction, so a membership and its tokens change together."""

from __future__ import annotations

from typing import Any

from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.public_charging.services import tokens


def on_membership_connected(sender: Any, membership: Membership, **kwargs: Any) -> None:
    tokens.app_token_ensure(membership)


def on_membership_moved(sender: Any, old: Membership, new: Membership, **kwargs: Any) -> None:
    # Revise Benefits moves a driver within one organisation, so the tokens there follow
    # the new membership: kept valid if the new connection pays, else no longer valid.
    tokens.app_token_ensure(new)


def on_membership_ended(sender: Any, membership: Membership, **kwargs: Any) -> None:
    tokens.tokens_refresh(
        driver_id=membership.driver_id, organisation_id=membership.organisation_id
    )


def on_connection_changed(sender: Any, connection: Connection, **kwargs: Any) -> None:
    tokens.connection_tokens_sync(connection=connection)
