from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema


class ConnectionIn(Schema):
    """Loosely typed on purpose: every value is checked by the same rules as the form, so
    a program and a person get the same messages for the same mistake."""

    organisation: int | None = None
    name_for_drivers: str | None = None
    name: str | None = None
    connection_type: str | None = "leasing_company"
    customer_id: str | None = None
    enabled: bool | None = True
    verification_1_label: str | None = None
    verification_2_label: str | None = None
    support_email: str | None = None
    provide_home_charger: bool | None = False
    home_warranty_and_labour: bool | None = False
    installation_warranty_months: int | str | None = None
    installation_handled_by: str | None = None
    installation_payment_model: str | None = None
    installation_standard_price: Decimal | str | None = None
    installation_budget: Decimal | str | None = None
    reimburse_home_charging: bool | None = False
    max_price_per_kwh: Decimal | str | None = None
    home_charging_data_sharing: bool | None = False
    pay_for_public_charging: bool | None = False
    payment_via: str | None = None
    approval_type: str | None = "manual"
    notify_on_connect: bool | None = False
    web_only: bool | None = False
    custom_terms_enabled: bool | None = False
    signed_terms_recipients: list[str] | str | None = None
    terms_text: str | None = None


class ConnectionPatch(ConnectionIn):
    """Only the fields sent are changed; the rest keep their values."""

    confirm_benefit_change: bool = False


class OrganisationRef(Schema):
    id: int
    name: str


class ConnectionOut(Schema):
    id: int
    organisation: OrganisationRef
    name_for_drivers: str
    name: str
    connection_type: str
    customer_id: str
    enabled: bool
    has_logo: bool
    logo_url: str | None
    verification_1_label: str
    verification_2_label: str
    support_email: str
    provide_home_charger: bool
    home_warranty_and_labour: bool
    installation_warranty_months: int | None
    installation_handled_by: str
    installation_payment_model: str
    installation_standard_price: Decimal | None
    installation_budget: Decimal | None
    reimburse_home_charging: bool
    max_price_per_kwh: Decimal | None
    currency: str
    home_charging_data_sharing: bool
    pay_for_public_charging: bool
    payment_via: str
    approval_type: str
    notify_on_connect: bool
    web_only: bool
    custom_terms_enabled: bool
    signed_terms_recipients: list[str]
    terms_text: str
    benefits: list[str]
    connected_drivers: int
    # None for a caller who may see the connection but not invite drivers to it.
    invite_url: str | None
    created_at: datetime
    updated_at: datetime


class ConnectionPage(Schema):
    count: int
    items: list[ConnectionOut]
