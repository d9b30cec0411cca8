"""Signals other apps listen to without connections knowing them (connections must never
import the apps built on it). Sent inside the connection service's transaction, so what
a receiver writes is committed, or undone, with the change.

``connection_changed(connection=)``: a connection was updated (its benefits may differ)
or enabled or disabled; ``connection`` is the saved row.
"""

from __future__ import annotations

from django.dispatch import Signal

connection_changed = Signal()
