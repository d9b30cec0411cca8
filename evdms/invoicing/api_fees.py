"""Platform operators' API for fee schedules (operator keys)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["invoicing (operators)"])
