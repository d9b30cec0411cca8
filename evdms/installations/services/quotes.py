"""Quotes: the installer submits one for a surveyed job, the split of who pays what is
computed (``installations.payer_split``) and stored, and the parts that need approval
are decided: the organisation's through the signed link e-mailed to the Customer
Support Email or in the app, the driver's on their own pages.

Every decision locks the quote's row first, so two decisions at once (two tabs, the link
and the app, a link used twice) are taken once: the second is refused with a clear
message and changes nothing. A decline sends the job back to the installer (surveyed),
with the reason; the last approval needed moves it to quote approved.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evdms.accounts import who
from evdms.accounts.keyed_hash import keyed_hash
from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.scope import reach
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.installations import payer_split
from evdms.installations.access import installer_company_of
from evdms.installations.models import (
    InstallationJob,
    JobStatus,
    LineKind,
    PartApproval,
    Quote,
    QuoteApprovalLink,
    QuoteLine,
    QuoteStatus,
    TransitionNote,
)
from evdms.installations.payer_split import LineInput
from evdms.installations.services.jobs import installer_mailings
from evdms.installations.services.transitions import Party, job_transition, wrong_step_message
from evdms.notifications.services import email_send
from evdms.ui.language import user_language

LINK_PURPOSE = "installations.quote-approval"
LINK_DAYS = 14

MAX_LINES = 50
MAX_QUANTITY = Decimal("1000")
MAX_UNIT_PRICE = Decimal("100000.00")
MAX_DESCRIPTION = 200
MAX_REASON = 500


def token_hash(token: str) -> str:
    """What is stored of a link's token: its keyed hash (HMAC-SHA256 with a key from
    ``SECRET_KEY``), as the 64 hex digits the column holds, looked up by equality."""
    return keyed_hash(token, purpose=LINK_PURPOSE).partition("$")[2]


ALREADY_DECIDED = gettext_lazy("This quote was already decided; nothing was changed.")
NOT_AWAITING = gettext_lazy("This quote no longer awaits a decision; nothing was changed.")


# --- validation ------------------------------------------------------------------------


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        parsed = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return parsed if parsed.is_finite() else None


def validate_lines(lines: Sequence[LineInput]) -> list[LineInput]:
    """The lines, checked one field at a time; ValidationError keyed
    ``lines-<index>-<field>`` (0-based, as a formset with prefix ``lines`` names its
    fields) and ``lines`` for the whole list."""
    errors: dict[str, list[str]] = {}
    if not lines:
        raise ValidationError({"lines": [_("Add at least one line to the quote.")]})
    if len(lines) > MAX_LINES:
        raise ValidationError(
            {"lines": [_("A quote has at most %(limit)s lines.") % {"limit": MAX_LINES}]}
        )
    clean: list[LineInput] = []
    for index, line in enumerate(lines):
        key = f"lines-{index}-"
        kind = line.kind
        if kind not in LineKind.values:
            errors[key + "kind"] = [_("Choose the kind of line.")]
        description = (line.description or "").strip()
        if not description:
            errors[key + "description"] = [_("Describe the line.")]
        elif len(description) > MAX_DESCRIPTION:
            errors[key + "description"] = [
                _("Keep the description to %(limit)s characters or fewer.")
                % {"limit": MAX_DESCRIPTION}
            ]
        quantity = _decimal(line.quantity)
        if quantity is None:
            errors[key + "quantity"] = [_("Enter the quantity as a number.")]
        elif quantity <= 0:
            errors[key + "quantity"] = [_("The quantity must be more than 0.")]
        elif quantity > MAX_QUANTITY:
            errors[key + "quantity"] = [
                _("The quantity must be %(limit)s or less.")
                % {"limit": number_format(MAX_QUANTITY, force_grouping=True)}
            ]
        elif _places(quantity) > 2:
            errors[key + "quantity"] = [_("Give the quantity with at most 2 decimals.")]
        price = _decimal(line.unit_price)
        if price is None:
            errors[key + "unit_price"] = [_("Enter the unit price as a number.")]
        elif price < 0:
            errors[key + "unit_price"] = [_("The unit price cannot be negative.")]
        elif price > MAX_UNIT_PRICE:
            errors[key + "unit_price"] = [
                _("The unit price must be %(limit)s or less.")
                % {"limit": number_format(MAX_UNIT_PRICE, 2, force_grouping=True)}
            ]
        elif _places(price) > 2:
            errors[key + "unit_price"] = [_("Give the unit price with at most 2 decimals.")]
        vat = _decimal(line.vat_rate)
        if vat is None:
            errors[key + "vat_rate"] = [_("Enter the VAT rate as a number (percent).")]
        elif vat < 0 or vat > 100:
            errors[key + "vat_rate"] = [_("The VAT rate must be between 0 and 100 percent.")]
        elif _places(vat) > 2:
            errors[key + "vat_rate"] = [_("Give the VAT rate with at most 2 decimals.")]
        if not any(k.startswith(key) for k in errors):
            assert quantity is not None and price is not None and vat is not None
            clean.append(
                LineInput(
                    kind=kind,
                    description=description,
                    quantity=quantity.quantize(payer_split.CENT),
                    unit_price=price.quantize(payer_split.CENT),
                    vat_rate=vat.quantize(payer_split.CENT),
                )
            )
    if errors:
        raise ValidationError(errors)
    return clean


def _reason(approve: bool, reason: str) -> str:
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": [_("Say why the quote is declined.")]})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {
                "reason": [
                    _("Keep the reason to %(limit)s characters or fewer.") % {"limit": MAX_REASON}
                ]
            }
        )
    return reason


# --- e-mail addresses --------------------------------------------------------------------


def installer_addresses(job: InstallationJob) -> list[tuple[list[str], str | None]]:
    """Where the installer hears of a job, by language (see ``jobs.installer_mailings``)."""
    return installer_mailings(job.installer) if job.installer is not None else []


def approval_url(token: str) -> str:
    return settings.SITE_URL + reverse("installations:quote_approval", args=[token])


def driver_quote_url(job: InstallationJob) -> str:
    return settings.SITE_URL + reverse("installations:driver_quote", args=[job.pk])


def organisation_quote_url(job: InstallationJob) -> str:
    return settings.SITE_URL + reverse("installations:organisation_quote", args=[job.pk])


# --- submission ---------------------------------------------------------------------------


def quote_submit(
    *, actor: Actor, job: InstallationJob, lines: Sequence[LineInput], notes: str = ""
) -> Quote:
    """The installer's quote for a surveyed job; the job becomes quoted (or quote
    approved at once when nobody needs to approve). An earlier quote still awaiting a
    decision is withdrawn."""
    require(actor, Permission.QUOTE_INSTALLATION_JOBS)
    company = installer_company_of(actor)
    clean = validate_lines(lines)
    notes = (notes or "").strip()
    if len(notes) > 2000:
        raise ValidationError(
            {
                "notes": [
                    _("Keep the notes to %(limit)s characters or fewer.")
                    % {"limit": number_format(2000, force_grouping=True)}
                ]
            }
        )
    with transaction.atomic():
        locked = (
            InstallationJob.objects.select_for_update(of=("self",))
            .select_related("connection", "organisation", "installer", "driver")
            .get(pk=job.pk)
        )
        if locked.installer_id != company.pk:
            raise PermissionDenied("This job is not assigned to your company.")
        if locked.status != JobStatus.SURVEYED:
            raise ValidationError({"status": [wrong_step_message(locked, JobStatus.QUOTED)]})
        connection = locked.connection
        try:
            split = payer_split.split_quote(
                lines=clean,
                payment_model=connection.installation_payment_model,
                standard_price=connection.installation_standard_price,
                budget=connection.installation_budget,
            )
        except ValueError:
            raise ValidationError(
                {
                    "__all__": [
                        _(
                            "The connection's installation terms are incomplete (payment "
                            "model, standard package price or budget); the organisation must "
                            "complete them before a quote can be submitted."
                        )
                    ]
                }
            ) from None
        organisation_needed, driver_needed = payer_split.approvals_needed(
            payment_model=connection.installation_payment_model, split=split
        )
        withdrawn = list(
            Quote.objects.filter(job=locked, status=QuoteStatus.AWAITING_APPROVAL).values_list(
                "number", flat=True
            )
        )
        Quote.objects.filter(job=locked, status=QuoteStatus.AWAITING_APPROVAL).update(
            status=QuoteStatus.WITHDRAWN
        )
        number = (Quote.objects.filter(job=locked).aggregate(n=Max("number"))["n"] or 0) + 1
        now = timezone.now()
        quote = Quote.objects.create(
            job=locked,
            number=number,
            status=QuoteStatus.AWAITING_APPROVAL,
            payment_model=connection.installation_payment_model,
            currency=connection.currency,
            total_excl_vat=split.total_excl_vat,
            total_vat=split.total_vat,
            total_incl_vat=split.total_incl_vat,
            organisation_share=split.organisation_share,
            driver_share=split.driver_share,
            organisation_approval=PartApproval.PENDING
            if organisation_needed
            else PartApproval.NOT_NEEDED,
            driver_approval=PartApproval.PENDING if driver_needed else PartApproval.NOT_NEEDED,
            notes=notes,
            submitted_at=now,
            submitted_by=actor.user,
        )
        QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=quote,
                position=position,
                kind=x.kind,
                description=x.description,
                quantity=x.quantity,
                unit_price=x.unit_price,
                vat_rate=x.vat_rate,
                total_excl_vat=x.total_excl_vat,
                vat=x.vat,
                total_incl_vat=x.total_incl_vat,
                organisation_part=x.organisation_part,
                driver_part=x.driver_part,
            )
            for position, x in enumerate(split.lines, start=1)
        )
        locked = job_transition(
            job_id=locked.pk, to=JobStatus.QUOTED, party=Party.INSTALLER, actor=actor
        )
        audit_record(
            actor=actor,
            action=AuditAction.QUOTE_SUBMIT,
            target=quote,
            organisation=locked.organisation,
            changes={
                "number": number,
                "total_incl_vat": split.total_incl_vat,
                "organisation_share": split.organisation_share,
                "driver_share": split.driver_share,
                "organisation_approval": quote.organisation_approval,
                "driver_approval": quote.driver_approval,
                **({"withdrawn": withdrawn} if withdrawn else {}),
            },
        )
        if not organisation_needed and not driver_needed:
            quote.status = QuoteStatus.APPROVED
            quote.save(update_fields=["status"])
            job_transition(
                job_id=locked.pk,
                to=JobStatus.QUOTE_APPROVED,
                party=Party.SYSTEM,
                note_code=TransitionNote.NO_APPROVAL_NEEDED,
            )
        context = _email_context(locked, quote)
        if organisation_needed:
            token = secrets.token_urlsafe(32)
            link = QuoteApprovalLink.objects.create(
                quote=quote,
                token_hash=token_hash(token),
                recipient=connection.support_email,
                created_at=now,
                expires_at=now + datetime.timedelta(days=LINK_DAYS),
            )
            email_send(
                to=[link.recipient],
                template="quote_for_approval",
                context={
                    **context,
                    "link": approval_url(token),
                    "expires_at": link.expires_at,
                    "in_app": organisation_quote_url(locked),
                },
                organisation=locked.organisation,
            )
        if driver_needed:
            email_send(
                to=[locked.driver.email],
                template="quote_driver_part",
                context={**context, "link": driver_quote_url(locked)},
                organisation=locked.organisation,
                language=user_language(locked.driver, locked.organisation),
            )
    return quote


def _email_context(job: InstallationJob, quote: Quote) -> dict[str, Any]:
    return {
        "job": job,
        "quote": quote,
        "lines": list(quote.lines.all()),
        "connection": job.connection,
        "driver": job.driver,
        "installer": job.installer,
    }


# --- decisions ---------------------------------------------------------------------------


def _decide(
    *,
    quote_id: int,
    part: Party,
    approve: bool,
    reason: str,
    label: str,  # who decides, as records keep it (evdms.accounts.who)
    actor: Actor | None = None,
    by_user: User | None = None,
    check: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> Quote:
    """Decide one payer's part; inside the caller's transaction, with the quote locked."""
    quote = Quote.objects.select_for_update(of=("self",)).get(pk=quote_id)
    if check is not None:
        check(quote)
    field = "organisation" if part == Party.ORGANISATION else "driver"
    if quote.status != QuoteStatus.AWAITING_APPROVAL:
        raise ValidationError(
            {
                "__all__": [
                    ALREADY_DECIDED if quote.status != QuoteStatus.WITHDRAWN else NOT_AWAITING
                ]
            }
        )
    state = getattr(quote, f"{field}_approval")
    if state != PartApproval.PENDING:
        raise ValidationError(
            {
                "__all__": [
                    ALREADY_DECIDED
                    if state in (PartApproval.APPROVED, PartApproval.DECLINED)
                    else _("This part of the quote needs no approval.")
                ]
            }
        )
    job = (
        InstallationJob.objects.select_related("connection", "organisation", "installer", "driver")
        .select_for_update(of=("self",))
        .get(pk=quote.job_id)
    )
    if job.status != JobStatus.QUOTED:
        raise ValidationError({"__all__": [NOT_AWAITING]})
    now = timezone.now()
    decision = PartApproval.APPROVED if approve else PartApproval.DECLINED
    setattr(quote, f"{field}_approval", decision)
    setattr(quote, f"{field}_decided_at", now)
    fields = [f"{field}_approval", f"{field}_decided_at"]
    if part == Party.ORGANISATION:
        quote.organisation_decided_by = label[:300]
        fields.append("organisation_decided_by")
    if not approve:
        quote.status = QuoteStatus.DECLINED
        quote.decline_reason = reason
        fields += ["status", "decline_reason"]
    elif PartApproval.PENDING not in (quote.organisation_approval, quote.driver_approval):
        quote.status = QuoteStatus.APPROVED
        fields.append("status")
    quote.save(update_fields=fields)
    event = audit_record(
        actor=actor,
        action=AuditAction.QUOTE_DECIDE,
        target=quote,
        organisation=job.organisation,
        changes={
            "part": field,
            "decision": str(decision),
            "by": label,
            **({"reason": reason} if reason else {}),
            **(extra or {}),
        },
        by_user=by_user,
    )
    if actor is None and by_user is None:
        # No one logged in (the approval link): the history names the link's recipient.
        event.actor_label = label[:300]
        event.save(update_fields=["actor_label"])
    if not approve:
        job_transition(
            job_id=job.pk,
            to=JobStatus.SURVEYED,
            party=part,
            actor=actor,
            by_user=by_user,
            by_label=label,
            note=reason,
            note_code=TransitionNote.QUOTE_DECLINED,
            note_params={"by": field, "number": quote.number},
        )
        for to, language in installer_addresses(job):
            email_send(
                to=to,
                template="quote_declined",
                context={**_email_context(job, quote), "declined_by": str(part), "reason": reason},
                organisation=job.organisation,
                language=language,
            )
    elif quote.status == QuoteStatus.APPROVED:
        job_transition(
            job_id=job.pk,
            to=JobStatus.QUOTE_APPROVED,
            party=part,
            actor=actor,
            by_user=by_user,
            by_label=label,
        )
        for to, language in installer_addresses(job):
            email_send(
                to=to,
                template="quote_approved",
                context=_email_context(job, quote),
                organisation=job.organisation,
                language=language,
            )
    return quote


def quote_decide_by_organisation(
    *, actor: Actor, quote: Quote, approve: bool, reason: str = ""
) -> Quote:
    """A Network Manager or Connections Officer decides the organisation's part in the
    app."""
    require(actor, Permission.APPROVE_QUOTES)
    reason = _reason(approve, reason)
    scope = reach(actor, Permission.APPROVE_QUOTES)

    def check(locked: Quote) -> None:
        if not InstallationJob.objects.filter(scope.q(), pk=locked.job_id).only("pk").exists():
            raise PermissionDenied("This quote is not for your organisation.")

    with transaction.atomic():
        decided = _decide(
            quote_id=quote.pk,
            part=Party.ORGANISATION,
            approve=approve,
            reason=reason,
            label=actor.label_code,
            actor=actor,
            check=check,
        )
        # The link e-mailed for this quote is of no further use.
        QuoteApprovalLink.objects.filter(quote=decided, used_at__isnull=True).update(
            used_at=timezone.now(), decision=decided.organisation_approval
        )
    return decided


def _find_link(token: str) -> QuoteApprovalLink | None:
    if not token or len(token) > 200:
        return None
    return (
        QuoteApprovalLink.objects.select_related(
            "quote", "quote__job", "quote__job__connection", "quote__job__organisation"
        )
        .filter(token_hash=token_hash(token))
        .first()
    )


def link_problem(link: QuoteApprovalLink, now: datetime.datetime | None = None) -> str | None:
    """Why a link cannot be used: ``used`` (a decision was taken through it, or in the
    app), ``expired``, ``closed`` (the quote was replaced, withdrawn or decided), or None
    when it can."""
    now = now or timezone.now()
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    quote = link.quote
    if (
        quote.status != QuoteStatus.AWAITING_APPROVAL
        or quote.organisation_approval != PartApproval.PENDING
        or quote.job.status != JobStatus.QUOTED  # e.g. the job was cancelled meanwhile
    ):
        return "closed"
    return None


def may_decide(quote: Quote | None, part: str) -> bool:
    """Whether ``part`` ("organisation" or "driver") of the quote awaits its decision."""
    return (
        quote is not None
        and quote.status == QuoteStatus.AWAITING_APPROVAL
        and getattr(quote, f"{part}_approval") == PartApproval.PENDING
        and quote.job.status == JobStatus.QUOTED
    )


def approval_link_for(*, token: str) -> QuoteApprovalLink | None:
    """The link of this token, whatever its state (``link_problem`` says whether it can
    be used), or None when no link has this token."""
    return _find_link(token)


LINK_MESSAGES = {
    "used": gettext_lazy("This approval link was already used. Each link can be used once."),
    "expired": gettext_lazy("This approval link has expired."),
    "closed": gettext_lazy("This approval link is no longer valid."),
}


def quote_decide_by_link(*, token: str, approve: bool, reason: str = "") -> Quote:
    """The organisation's decision through the link e-mailed to the Customer Support
    Email (no log-in); audited with the link's recipient."""
    reason = _reason(approve, reason)
    found = _find_link(token)
    if found is None:
        raise ValidationError({"__all__": [_("This approval link is not known.")]})
    with transaction.atomic():
        link = QuoteApprovalLink.objects.select_for_update(of=("self",)).get(pk=found.pk)
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("job")
            .get(pk=link.quote_id)
        )
        link.quote = quote
        problem = link_problem(link)
        if problem is not None:
            raise ValidationError({"__all__": [LINK_MESSAGES[problem]]})
        label = who.approval_link(link.recipient)
        decided = _decide(
            quote_id=quote.pk,
            part=Party.ORGANISATION,
            approve=approve,
            reason=reason,
            label=label,
            extra={"recipient": link.recipient},
        )
        link.used_at = timezone.now()
        link.decision = decided.organisation_approval
        link.save(update_fields=["used_at", "decision"])
    return decided


def quote_decide_by_driver(*, driver: User, quote: Quote, approve: bool, reason: str = "") -> Quote:
    """The driver decides their part on their own pages."""
    reason = _reason(approve, reason)

    def check(locked: Quote) -> None:
        if not InstallationJob.objects.filter(pk=locked.job_id, driver=driver).exists():
            raise PermissionDenied("This quote is not for you.")

    with transaction.atomic():
        return _decide(
            quote_id=quote.pk,
            part=Party.DRIVER,
            approve=approve,
            reason=reason,
            label=driver.email,
            by_user=driver,
            check=check,
        )


def quotes_withdraw_open(*, job: InstallationJob) -> int:
    """Withdraw the job's quotes still awaiting a decision (for the service that cancels
    a job, inside its transaction); their approval links stop working. Returns how many."""
    return Quote.objects.filter(job=job, status=QuoteStatus.AWAITING_APPROVAL).update(
        status=QuoteStatus.WITHDRAWN
    )


def open_quote(job: InstallationJob) -> Quote | None:
    """The job's latest quote (awaiting a decision or decided), None before any."""
    return job.quotes.order_by("-number").first()
