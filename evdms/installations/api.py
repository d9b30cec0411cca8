"""The Home Charger Installation Report over the API: paginated JSON with the report's
filters, one job with its history, and the whole filtered report as CSV (streamed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from ninja import Query, Router, Schema

from evdms.accounts.permissions import Actor, Permission
from evdms.installations.access import get_job_for_organisation
from evdms.installations.exports import csv_chunks
from evdms.installations.report import (
    InstallationQuery,
    InstallationRows,
    check_in_view,
    installation_row,
    installations_for,
    parse_installation_query,
)
from evdms.installations.report_row import InstallationRow
from evdms.reports.downloads import CSV_TYPE
from evdms.reports.exports import stamp
from evdms.ui.api import check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["installations"])


class InstallationFilters(Schema):
    status: str = ""
    installer: str = ""
    connection: str = ""
    customer_id: str = ""
    start: str = ""
    end: str = ""
    overdue: str = ""
    overdue_days: str = ""
    sort: str = ""


class InstallationPage(Schema):
    count: int
    offset: int
    limit: int
    items: list[InstallationRow]  # the page's own row type: one definition of a row


class TransitionOut(Schema):
    at: datetime
    from_status: str
    to_status: str
    by: str
    note: str


class InstallationDetail(Schema):
    job: InstallationRow
    history: list[TransitionOut]


def _query(actor: Actor, filters: InstallationFilters) -> InstallationQuery:
    """The API is strict where the page is forgiving: a bad filter is a 422 naming it."""
    query = check_in_view(actor, parse_installation_query(filters.dict()))
    errors = {name: [message] for name, message in query.errors.items()}
    errors.pop("customer_id", None)  # an unknown Customer ID is an empty report, not an error
    if errors:
        raise ValidationError(errors)
    return query


@router.get(
    "/installations", response=InstallationPage, auth=requires(Permission.VIEW_INSTALLATIONS)
)
def installations_list(
    request: ApiRequest,
    filters: Query[InstallationFilters],
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """One row per installation job. ``status`` is a status code; ``start``/``end`` are
    days of creation (YYYY-MM-DD, inclusive) in the organisation's time zone;
    ``overdue=1`` keeps open jobs more than ``overdue_days`` (default 14) in their
    status; ``sort`` is a column key, ``-`` first for descending."""
    actor: Actor = request.auth
    check_page(offset, limit)
    rows = InstallationRows(actor, _query(actor, filters))
    return {
        **page_of(rows, offset, limit, InstallationRow.from_values),
        "offset": offset,
        "limit": limit,
    }


@router.get("/installations.csv", auth=requires(Permission.VIEW_INSTALLATIONS))
def installations_csv(
    request: ApiRequest, filters: Query[InstallationFilters]
) -> StreamingHttpResponse:
    """The whole filtered report as CSV, streamed (any size, flat memory)."""
    actor: Actor = request.auth
    rows = installations_for(actor, _query(actor, filters))
    response = StreamingHttpResponse(csv_chunks(rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="installations-{stamp()}.csv"'
    return response


@router.get(
    "/installations/{job_id}",
    response=InstallationDetail,
    auth=requires(Permission.VIEW_INSTALLATIONS),
)
def installations_read(request: ApiRequest, job_id: int) -> dict[str, Any]:
    """One job's row with its history (who, when, from → to, note)."""
    actor: Actor = request.auth
    job = get_job_for_organisation(actor, job_id)
    row = installation_row(actor, job.pk)
    if row is None:  # pragma: no cover - scoped by the look-up above
        raise Http404
    return {
        "job": row,
        "history": [
            {
                "at": t.at,
                "from_status": t.from_status,
                "to_status": t.to_status,
                "by": t.by_shown,  # English: the API answers in English
                "note": t.note_shown,
            }
            for t in job.history.all()
        ],
    }
