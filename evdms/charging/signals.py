"""Signals other apps listen to without charging knowing them (charging must never
import the apps built on it).

``charger_booted(charger_id=)``: the gateway accepted a charger's
BootNotification. Sent in the gateway's batch transaction, once per boot, so a receiver
must be cheap for the chargers it has nothing to do with (one indexed query), and must
not fail the boot (a receiver that raises refuses the BootNotification).
"""

from __future__ import annotations

from django.dispatch import Signal

charger_booted = Signal()
