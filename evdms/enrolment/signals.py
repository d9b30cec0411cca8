"""Signals other apps listen to without enrolment knowing them (enrolment must never
import the apps built on it). Sent inside the enrolment service's transaction, so what
a receiver writes is committed, or undone, with the membership.

``membership_connected(membership=, actor=)``: a driver's request became connected (auto
or manual approval). ``actor`` is the admin who approved, None for auto approval.

``membership_ended(membership=, actor=, by_user=)``: a connected driver left
(``by_user`` the driver) or was removed by an admin (``actor``).

``membership_moved(old=, new=, actor=)``: Revise Benefits moved a connected driver from
``old`` to ``new`` (a new, connected membership of the revised connection).
"""

from __future__ import annotations

from django.dispatch import Signal

membership_connected = Signal()
membership_ended = Signal()
membership_moved = Signal()
