"""Platform operators' invoicing API (operator keys): credit notes and payment status."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["invoicing (operators)"])
