"""OCPI partners for platform operators: status and last traffic at a glance, tokens
never shown (only whether each is set), suspend and reactivate as actions. Partners are
added by command (``ocpi_partner_add`` / ``ocpi_partner_connect``): token A is shown once."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from evdms.ocpi.cdrs import cdr_resolve
from evdms.ocpi.models import (
    Cdr,
    Partner,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    PushState,
    TokenPush,
)
from evdms.ocpi.services import partner_reactivate, partner_suspend


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "status", "last_traffic_at", "registered_at", "created_at")
    list_filter = ("status", "role")
    search_fields = ("name",)
    fields = (
        "name",
        "role",
        "status",
        "parties",
        "versions_url",
        "version",
        "endpoints",
        "token_a",
        "token_b",
        "token_c",
        "last_traffic_at",
        "created_at",
        "registered_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ("suspend", "reactivate")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Parties (country code, party id)")
    def parties(self, obj: Partner) -> str:
        return (
            ", ".join(
                f"{r.get('role')} {c}*{p}"
                for r, (c, p) in zip(obj.public_roles(), obj.parties(), strict=False)
            )
            or "—"
        )

    @admin.display(description="Token A (ours, to register with)")
    def token_a(self, obj: Partner) -> str:
        return "set (stored as a keyed hash)" if obj.token_a_hash else "none"

    @admin.display(description="Token B (theirs, we call them with)")
    def token_b(self, obj: Partner) -> str:
        return "set (stored encrypted)" if obj.token_b_encrypted else "none"

    @admin.display(description="Token C (ours, they call us with)")
    def token_c(self, obj: Partner) -> str:
        return "set (stored as a keyed hash)" if obj.token_c_hash else "none"

    @admin.action(description="Suspend the selected partners (their tokens stop working)")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        done = sum(partner_suspend(p, by_user=request.user) for p in queryset)
        self.message_user(request, f"{done} partner(s) suspended.", messages.SUCCESS)

    @admin.action(description="Reactivate the selected partners")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        done = sum(partner_reactivate(p, by_user=request.user) for p in queryset)
        self.message_user(request, f"{done} partner(s) reactivated.", messages.SUCCESS)


@admin.register(TokenPush)
class TokenPushAdmin(admin.ModelAdmin):
    """The token outbox: what each partner has heard, what waits and why (its last
    error), read-only. "Send again now" makes failed pushes due at once; the worker
    still sends only the newest revision of each token."""

    list_display = (
        "token",
        "partner",
        "revision",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    )
    list_filter = ("state", "partner")
    search_fields = ("token__uid", "token__visual_number", "last_error")
    list_select_related = ("token", "partner")
    readonly_fields = (
        "partner",
        "token",
        "revision",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    fields = readonly_fields
    actions = ("send_again_now",)
    show_full_result_count = False  # no COUNT(*) of a large outbox on every page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send again now (pending pushes of the selection)")
    def send_again_now(self, request: HttpRequest, queryset: QuerySet[TokenPush]) -> None:
        from evdms.ocpi.pushes import enqueue_send

        pending = queryset.filter(state=PushState.PENDING)
        partner_ids = sorted(set(pending.values_list("partner_id", flat=True)))
        done = pending.update(next_attempt_at=timezone.now())
        for partner_id in partner_ids:
            enqueue_send(partner_id)
        self.message_user(request, f"{done} push(es) due now.", messages.SUCCESS)


@admin.register(Cdr)
class CdrAdmin(admin.ModelAdmin):
    """CDRs as partners sent them: read-only (a CDR is never changed), those that need
    attention (unknown token, no membership, a credit waiting for its original) one
    filter away, and an action to mark them resolved (audited)."""

    list_display = (
        "__str__",
        "partner",
        "token_uid",
        "credit",
        "needs_attention",
        "flag_list",
        "received_at",
    )
    list_filter = ("needs_attention", "credit", "partner")
    search_fields = ("object_id", "token_uid", "credit_reference_id")
    fields = (
        "partner",
        "country_code",
        "party_id",
        "object_id",
        "token_uid",
        "charging_session",
        "credit",
        "credit_reference_id",
        "credits",
        "needs_attention",
        "flags",
        "last_updated",
        "received_at",
        "matched_at",  # empty: stored, the worker has not matched it yet
        "body",
    )
    readonly_fields = fields
    actions = ("resolve",)
    list_select_related = ("partner",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Flags")
    def flag_list(self, obj: Cdr) -> str:
        return "; ".join(obj.flags) or "—"

    @admin.action(description="Mark the selected CDRs resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Cdr]) -> None:
        done = sum(cdr_resolve(c, by_user=request.user) for c in queryset)
        self.message_user(request, f"{done} CDR(s) marked resolved.", messages.SUCCESS)


# --- what CPOs pushed: read-only (the partner owns these objects; we only keep them) --


class PushedObjectAdmin(admin.ModelAdmin):
    """A partner's pushed objects, as received: nobody here edits or removes them."""

    list_select_related = ("partner",)
    ordering = ("-received_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Owner (country code*party id)")
    def owner(self, obj: PartnerLocation | PartnerTariff | PartnerSession) -> str:
        return f"{obj.country_code}*{obj.party_id}"


@admin.register(PartnerLocation)
class PartnerLocationAdmin(PushedObjectAdmin):
    list_display = (
        "object_id",
        "owner",
        "name",
        "address",
        "operator_name",
        "partner",
        "last_updated",
    )
    list_filter = ("partner",)
    search_fields = ("object_id", "country_code", "party_id", "name", "address")


@admin.register(PartnerTariff)
class PartnerTariffAdmin(PushedObjectAdmin):
    list_display = ("object_id", "owner", "currency", "partner", "last_updated")
    list_filter = ("currency", "partner")
    search_fields = ("object_id", "country_code", "party_id")


@admin.register(PartnerSession)
class PartnerSessionAdmin(PushedObjectAdmin):
    """``shown`` says whether the session is a driver's (our token); one that is not
    (another eMSP's or an unknown token) is kept here and shown to no driver."""

    list_display = ("object_id", "owner", "status", "shown", "partner", "last_updated")
    # "Empty" driver session: kept, shown to no driver (not our token).
    list_filter = ("status", ("charging_session", admin.EmptyFieldListFilter), "partner")
    search_fields = ("object_id", "country_code", "party_id")

    @admin.display(description="Shown to a driver", boolean=True)
    def shown(self, obj: PartnerSession) -> bool:
        return obj.charging_session_id is not None
