"""The quote pages: the organisation's decision (in the app), the driver's decision on
their part, and the signed approval link (no log-in). Thin: the look-ups are scoped in
``access``, the decisions are the services in ``services.quotes``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Permission
from evdms.installations.access import get_job_for_driver, get_job_for_organisation
from evdms.installations.models import InstallationJob, Quote
from evdms.installations.services.quotes import (
    LINK_MESSAGES,
    approval_link_for,
    link_problem,
    may_decide,
    quote_decide_by_driver,
    quote_decide_by_link,
    quote_decide_by_organisation,
)
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required, login_required, public
from evdms.ui.http import AdminRequest, AuthenticatedRequest

REASON_MAX = 500


def latest_quote(job: InstallationJob) -> Quote | None:
    quote = job.quotes.prefetch_related("lines").order_by("-number").first()
    if quote is not None:
        quote.job = job  # the job already loaded, with its connection and driver
    return quote


def _decision(request: HttpRequest) -> tuple[bool | None, str]:
    choice = request.POST.get("decision", "")
    approve = {"approve": True, "decline": False}.get(choice)
    return approve, request.POST.get("reason", "")[: REASON_MAX + 1]


def _errors(error: ValidationError) -> dict[str, list[str]]:
    """Messages by field; ``general`` for those of no field (a template cannot read
    ``__all__``)."""
    if hasattr(error, "error_dict"):
        return {
            ("general" if k == "__all__" else k): [str(m) for e in v for m in e.messages]
            for k, v in error.error_dict.items()
        }
    return {"general": [str(m) for m in error.messages]}


def _the_quote(job: InstallationJob, request: HttpRequest) -> Quote | None:
    """The quote the form was for: the job's latest, if the form names it."""
    quote = latest_quote(job)
    if quote is None or request.POST.get("quote") != str(quote.number):
        return None
    return quote


# --- the organisation, in the app -----------------------------------------------------


@admin_required(Permission.VIEW_INSTALLATIONS)
def organisation_quote(request: AdminRequest, job_id: int) -> HttpResponseBase:
    """The job's latest quote; Network Managers and Connections Officers decide the
    organisation's part here, Analysts read it."""
    job = get_job_for_organisation(request.actor, job_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    quote = latest_quote(job)
    awaiting = may_decide(quote, "organisation")
    return render(
        request,
        "installations/organisation_quote.html",
        {
            "job": job,
            "quote": quote,
            "awaiting": awaiting,
            "may_decide": awaiting and request.actor.can(Permission.APPROVE_QUOTES),
            "earlier": _earlier(job, quote),
            "breadcrumbs": breadcrumbs(
                (_("Installations"), "installations:report"),
                (
                    _("Installation for %(driver)s")
                    % {"driver": job.driver.full_name or job.driver.email},
                    reverse("installations:job", args=[job.pk]),
                ),
                current=_("Quote"),
            ),
        },
    )


def _earlier(job: InstallationJob, quote: Quote | None) -> list[Quote]:
    if quote is None:
        return []
    return list(job.quotes.exclude(pk=quote.pk).order_by("-number"))


@require_POST
@admin_required(Permission.APPROVE_QUOTES)
def organisation_quote_decide(request: AdminRequest, job_id: int) -> HttpResponse:
    job = get_job_for_organisation(request.actor, job_id)
    approve, reason = _decision(request)
    quote = _the_quote(job, request)
    if quote is None:
        messages.error(request, _("This quote was replaced by a newer one; nothing was changed."))
    elif approve is None:
        messages.error(request, _("Choose Approve or Decline."))
    else:
        try:
            quote_decide_by_organisation(
                actor=request.actor, quote=quote, approve=approve, reason=reason
            )
        except ValidationError as error:
            for texts in _errors(error).values():
                for text in texts:
                    messages.error(request, text)
        except PermissionDenied:  # the job moved out of reach between look-up and lock
            messages.error(request, _("This quote is not for your organisation."))
        else:
            messages.success(
                request,
                (
                    _("You approved quote %(number)s.")
                    if approve
                    else _("You declined quote %(number)s.")
                )
                % {"number": quote.number},
            )
    return redirect("installations:organisation_quote", job_id=job.pk)


# --- the driver, on their own pages ---------------------------------------------------


@login_required
def driver_quote(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    """The driver's view of their installation's quote, and their decision on their part."""
    job = get_job_for_driver(request.user, job_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        approve, reason = _decision(request)
        quote = _the_quote(job, request)
        if quote is None:
            errors = {
                "general": [_("This quote was replaced by a newer one; nothing was changed.")]
            }
        elif approve is None:
            errors = {"general": [_("Choose Approve or Decline.")]}
        else:
            try:
                quote_decide_by_driver(
                    driver=request.user, quote=quote, approve=approve, reason=reason
                )
            except ValidationError as error:
                errors = _errors(error)
            else:
                messages.success(
                    request,
                    _("You approved your part of the quote.")
                    if approve
                    else _("You declined your part of the quote."),
                )
                return redirect("installations:driver_quote", job_id=job.pk)
    quote = latest_quote(job)
    return render(
        request,
        "installations/driver_quote.html",
        {
            "job": job,
            "quote": quote,
            "may_decide": may_decide(quote, "driver"),
            "errors": errors,
            "reason": request.POST.get("reason", "") if errors else "",
        },
        status=400 if errors else 200,
    )


# --- the signed link (no log-in) ------------------------------------------------------


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: a link followed from this page must not carry it along.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_invalid(request: HttpRequest, problem: str) -> HttpResponse:
    status = 404 if problem == "unknown" else 410
    message = (
        _("This approval link is not known. Check that you copied the whole link from the e-mail.")
        if problem == "unknown"
        else str(LINK_MESSAGES[problem])
    )
    return _no_referrer(
        render(
            request,
            "installations/quote_link_invalid.html",
            {"problem": problem, "message": message},
            status=status,
        )
    )


# Exempt from Django's CSRF check, on purpose. The page is sent with
# ``Referrer-Policy: no-referrer`` so the token in its URL never leaves in a Referer; a
# browser then posts its form with ``Origin: null`` and no Referer, which Django's check
# refuses (over HTTPS always). Nor would the check protect anything here: the page uses
# no session or cookie, its only credential is the token in the URL, and whoever holds
# the token can post without a victim's browser. The form keeps its CSRF field, harmless.
@public
@csrf_exempt
@never_cache
def quote_approval(request: HttpRequest, token: str) -> HttpResponse:
    """The organisation's part of a quote, decided through the link e-mailed to the
    Customer Support Email."""
    link = approval_link_for(token=token)
    if link is None:
        return _link_invalid(request, "unknown")
    problem = link_problem(link)
    if problem is not None:
        return _link_invalid(request, problem)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        approve, reason = _decision(request)
        if approve is None:
            errors = {"general": [_("Choose Approve or Decline.")]}
        else:
            try:
                decided = quote_decide_by_link(token=token, approve=approve, reason=reason)
            except ValidationError as error:
                errors = _errors(error)
                fresh = approval_link_for(token=token)
                problem = link_problem(fresh) if fresh is not None else "unknown"
                if problem is not None:  # used or closed meanwhile (another tab, the app)
                    return _link_invalid(request, problem)
            else:
                return _no_referrer(
                    render(
                        request,
                        "installations/quote_link_done.html",
                        {"quote": decided, "approved": approve, "job": decided.job},
                    )
                )
    quote = link.quote
    job = quote.job
    context: dict[str, Any] = {
        "link": link,
        "quote": quote,
        "job": job,
        "errors": errors,
        "reason": request.POST.get("reason", "") if errors else "",
    }
    return _no_referrer(
        render(
            request,
            "installations/quote_approval.html",
            context,
            status=400 if errors else 200,
        )
    )
