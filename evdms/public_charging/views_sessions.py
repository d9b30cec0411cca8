"""The driver's public charging pages: live and past sessions, and the purpose mark."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.charging.models import SessionPurpose, SessionStatus
from evdms.public_charging.selectors_sessions import (
    PublicSessionRow,
    get_own_public_session,
    in_month,
    own_public_months,
    own_public_sessions,
)
from evdms.public_charging.services.purpose import session_purpose_set
from evdms.ui.decorators import login_required
from evdms.ui.http import AuthenticatedRequest

PAGE_SIZE = 50


def _month(raw: str) -> tuple[date | None, str]:
    """The month filter (YYYY-MM) and, when it is not one, what to say."""
    raw = raw.strip()[:20]
    if not raw:
        return None, ""
    try:
        year, month = raw.split("-")
        return date(int(year), int(month), 1), ""
    except ValueError:
        message = _("“%(value)s” is not a month (YYYY-MM): showing every month.")
        return None, message % {"value": raw}


def _page(
    request: AuthenticatedRequest, errors: dict[int, str] | None = None, status: int = 200
) -> HttpResponse:
    month, month_error = _month(request.GET.get("month", ""))
    rows = own_public_sessions(request.user)
    if month is not None:
        rows = in_month(rows, month)
    live = [PublicSessionRow(s) for s in rows.filter(status=SessionStatus.ACTIVE)]
    page = Paginator(rows.exclude(status=SessionStatus.ACTIVE), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "public_charging/sessions/mine.html",
        {
            "live": live,
            "page": page,
            "past": [PublicSessionRow(s) for s in page],
            "months": own_public_months(request.user),
            "month": month,
            "month_error": month_error,
            "purposes": SessionPurpose.choices,
            "errors": errors or {},
        },
        status=status,
    )


@login_required
def my_public_sessions(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request)


@require_POST
@login_required
def my_public_session_purpose(request: AuthenticatedRequest, session_id: int) -> HttpResponse:
    session = get_own_public_session(request.user, session_id)
    try:
        session = session_purpose_set(
            driver=request.user, session=session, purpose=request.POST.get("purpose", "")[:20]
        )
    except ValidationError as exc:
        # The page again, with the reason next to this session's form.
        message = "; ".join(exc.message_dict.get("purpose", exc.messages))
        return _page(request, errors={session.pk: message}, status=400)
    purpose = _("business") if session.purpose == SessionPurpose.BUSINESS else _("personal")
    messages.success(request, _("The session is marked %(purpose)s.") % {"purpose": purpose})
    back = reverse("public_charging_sessions:mine")
    month = request.POST.get("month", "").strip()
    if month and _month(month)[0] is not None:
        back += f"?month={month}"
    return redirect(back)
