"""The organisation's invoices over the API: /api/v1/invoices (Network Manager, Analyst)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["invoicing"])
