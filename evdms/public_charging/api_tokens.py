"""The REST API of charging tokens (``/api/v1/charging-tokens``)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Charging tokens"])
