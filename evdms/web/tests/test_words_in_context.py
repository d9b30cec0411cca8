"""Issue #19: an English word that means two things reads as each meaning on its own
page. The apps' message files are merged into one catalogue, so before each such word
had a context one app's translation won everywhere: a German admin's date filter ended
"An" (to a person) instead of "Bis", a job's history went "Von … An", a quote's lines
were file lines ("Zeile"), an invoice's VAT note read "Notiz" (an installer's note)
and a sent invoice "Gesendet" (an e-mail's word). The trail above a page starts at
"Start", never at the home-charging "Zu Hause".
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.accounts.models import Admin
from evdms.installations.tests.report_fixtures import Jobs, jobs_fixture  # noqa: F401
from evdms.invoicing.tests.invoice_fixtures import Invoices, invoices_fixture  # noqa: F401
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


def _german(admin: Admin):
    assert admin.user is not None
    admin.user.language = "de"
    admin.user.save(update_fields=["language"])
    return client_for(admin)


def _first_crumb(html: str) -> str:
    """The first step of the trail above the page: the start page, by its link."""
    trail = html.split('<nav class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    start = reverse("web:home")
    return trail.split(f'<a href="{start}">', 1)[1].split("</a>", 1)[0]


def test_a_german_invoice_page_starts_its_trail_at_start_and_says_the_invoice_was_sent(
    invoices: Invoices,
):
    services = invoices.services  # sent
    html = (
        _german(invoices.world.nadia)
        .get(reverse("invoicing:detail", args=[services.pk]))
        .content.decode()
    )

    assert _first_crumb(html) == "Start"
    assert '<span class="badge badge-sent">Versendet</span>' in html
    assert "<dt>Versendet</dt>" in html
    assert '<th scope="col">Hinweis</th>' in html  # the VAT summary's note
    for elsewhere in ("Zu Hause", "Gesendet", "Notiz"):
        assert elsewhere not in html, elsewhere


def test_a_german_sessions_filter_runs_von_bis_and_a_job_history_von_nach(world, jobs: Jobs):
    sessions = _german(world.nadia).get(reverse("charging:sessions")).content.decode()
    assert '<label for="start">Von</label>' in sessions
    assert '<label for="end">Bis</label>' in sessions

    job = _german(jobs.world.ana).get(reverse("installations:job", args=[jobs.dan.pk]))
    html = job.content.decode()
    assert _first_crumb(html) == "Start"
    assert (
        '<th scope="col">Von</th><th scope="col">Nach</th><th scope="col">Notiz</th>' in html
    )  # a change of status, from one to the next, and the note of who made it
    assert '<th scope="col">Position</th>' in html  # a quote's line, not a file's
    for elsewhere in ("Zu Hause", '<th scope="col">An</th>', '<th scope="col">Zeile</th>'):
        assert elsewhere not in html, elsewhere
