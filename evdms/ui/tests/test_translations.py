"""Issue #19: every string a person reads is marked for translation, and every message
file is complete, compiles and matches its sources.

``NOT_YET_MARKED`` (below) lists the files still holding unmarked English while the
product is being translated, app by app. It only shrinks: a listed file that is clean
fails the test until it is taken off the list, and any other file with unmarked English
fails at once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from evdms.testing.untranslated import ROOT, findings_by_file, is_english, template_findings
from evdms.ui.translations import message_files, problems, read_catalog, translated_languages

NOT_YET_MARKED = {
    "accounts/forms.py",
    "accounts/middleware.py",
    "accounts/services/__init__.py",
    "accounts/services/billing.py",
    "accounts/templates/accounts/admin_accept.html",
    "accounts/templates/accounts/admin_detail.html",
    "accounts/templates/accounts/admin_setup.html",
    "accounts/templates/accounts/admin_setup_invalid.html",
    "accounts/templates/accounts/admins.html",
    "accounts/templates/accounts/grant_scope.html",
    "accounts/templates/accounts/grants.html",
    "accounts/templates/accounts/locked_out.html",
    "accounts/templates/accounts/login.html",
    "accounts/templates/accounts/login_code.html",
    "accounts/templates/accounts/password_reset.html",
    "accounts/templates/accounts/password_reset_complete.html",
    "accounts/templates/accounts/password_reset_confirm.html",
    "accounts/templates/accounts/password_reset_done.html",
    "accounts/templates/accounts/recovery_codes.html",
    "accounts/templates/accounts/settings.html",
    "accounts/templates/accounts/two_factor.html",
    "accounts/templates/admin/base_site.html",
    "accounts/views.py",
    "audit/models.py",
    "audit/templates/audit/history.html",
    "installations/documents.py",
    "installations/forms_portal.py",
    "installations/templates/admin/installations/assign_to.html",
    "installations/templates/installations/_export.html",
    "installations/templates/installations/_quote.html",
    "installations/templates/installations/_quote_decision_form.html",
    "installations/templates/installations/driver_quote.html",
    "installations/templates/installations/job.html",
    "installations/templates/installations/my_installation.html",
    "installations/templates/installations/organisation_quote.html",
    "installations/templates/installations/portal_home.html",
    "installations/templates/installations/portal_job.html",
    "installations/templates/installations/portal_jobs.html",
    "installations/templates/installations/quote_approval.html",
    "installations/templates/installations/quote_link_done.html",
    "installations/templates/installations/quote_link_invalid.html",
    "installations/templates/installations/report.html",
    "installations/templates/notifications/email/installation_appointment.html",
    "installations/templates/notifications/email/installation_appointment.subject.txt",
    "installations/templates/notifications/email/installation_appointment.txt",
    "installations/templates/notifications/email/installation_cancelled.html",
    "installations/templates/notifications/email/installation_cancelled.subject.txt",
    "installations/templates/notifications/email/installation_cancelled.txt",
    "installations/templates/notifications/email/installation_declaration.html",
    "installations/templates/notifications/email/installation_declaration.subject.txt",
    "installations/templates/notifications/email/installation_declaration.txt",
    "installations/templates/notifications/email/installation_driver_contact.html",
    "installations/templates/notifications/email/installation_driver_contact.subject.txt",
    "installations/templates/notifications/email/installation_driver_contact.txt",
    "installations/templates/notifications/email/installation_installed.html",
    "installations/templates/notifications/email/installation_installed.subject.txt",
    "installations/templates/notifications/email/installation_installed.txt",
    "installations/templates/notifications/email/installation_job_created.html",
    "installations/templates/notifications/email/installation_job_created.subject.txt",
    "installations/templates/notifications/email/installation_job_created.txt",
    "installations/templates/notifications/email/installation_move_request.html",
    "installations/templates/notifications/email/installation_move_request.subject.txt",
    "installations/templates/notifications/email/installation_move_request.txt",
    "installations/templates/notifications/email/installation_new_job.html",
    "installations/templates/notifications/email/installation_new_job.subject.txt",
    "installations/templates/notifications/email/installation_new_job.txt",
    "installations/templates/notifications/email/quote_approved.html",
    "installations/templates/notifications/email/quote_approved.subject.txt",
    "installations/templates/notifications/email/quote_approved.txt",
    "installations/templates/notifications/email/quote_declined.html",
    "installations/templates/notifications/email/quote_declined.subject.txt",
    "installations/templates/notifications/email/quote_declined.txt",
    "installations/templates/notifications/email/quote_driver_part.html",
    "installations/templates/notifications/email/quote_driver_part.subject.txt",
    "installations/templates/notifications/email/quote_driver_part.txt",
    "installations/templates/notifications/email/quote_for_approval.html",
    "installations/templates/notifications/email/quote_for_approval.subject.txt",
    "installations/templates/notifications/email/quote_for_approval.txt",
    "installations/views_organisation.py",
    "installations/views_portal.py",
    "installations/views_quotes.py",
    "invoicing/admin_invoices.py",
    "invoicing/models.py",
    "invoicing/services/fees.py",
    "invoicing/templates/admin/invoicing/invoice/change_list.html",
    "invoicing/templates/admin/invoicing/invoice/payments.html",
    "invoicing/templates/invoicing/_party.html",
    "invoicing/templates/invoicing/invoice_detail.html",
    "invoicing/templates/invoicing/invoices.html",
    "notifications/models.py",
    "notifications/templates/notifications/email/admin_invitation.html",
    "notifications/templates/notifications/email/admin_invitation.subject.txt",
    "notifications/templates/notifications/email/admin_invitation.txt",
    "notifications/templates/notifications/email/bank_account_changed.html",
    "notifications/templates/notifications/email/bank_account_changed.subject.txt",
    "notifications/templates/notifications/email/bank_account_changed.txt",
    "notifications/templates/notifications/email/base.html",
    "notifications/templates/notifications/email/connection_request_alert.html",
    "notifications/templates/notifications/email/connection_request_alert.subject.txt",
    "notifications/templates/notifications/email/connection_request_alert.txt",
    "notifications/templates/notifications/email/connection_requests_digest.html",
    "notifications/templates/notifications/email/connection_requests_digest.subject.txt",
    "notifications/templates/notifications/email/connection_requests_digest.txt",
    "notifications/templates/notifications/email/driver_account_exists.html",
    "notifications/templates/notifications/email/driver_account_exists.subject.txt",
    "notifications/templates/notifications/email/driver_account_exists.txt",
    "notifications/templates/notifications/email/driver_confirm_email.html",
    "notifications/templates/notifications/email/driver_confirm_email.subject.txt",
    "notifications/templates/notifications/email/driver_confirm_email.txt",
    "notifications/templates/notifications/email/driver_connected.html",
    "notifications/templates/notifications/email/driver_connected.subject.txt",
    "notifications/templates/notifications/email/driver_connected.txt",
    "notifications/templates/notifications/email/driver_denied.html",
    "notifications/templates/notifications/email/driver_denied.subject.txt",
    "notifications/templates/notifications/email/driver_denied.txt",
    "notifications/templates/notifications/email/driver_invitation.html",
    "notifications/templates/notifications/email/driver_invitation.subject.txt",
    "notifications/templates/notifications/email/driver_invitation.txt",
    "notifications/templates/notifications/email/driver_moved.html",
    "notifications/templates/notifications/email/driver_moved.subject.txt",
    "notifications/templates/notifications/email/driver_moved.txt",
    "notifications/templates/notifications/email/driver_removed.html",
    "notifications/templates/notifications/email/driver_removed.subject.txt",
    "notifications/templates/notifications/email/driver_removed.txt",
    "notifications/templates/notifications/email/driver_request_received.html",
    "notifications/templates/notifications/email/driver_request_received.subject.txt",
    "notifications/templates/notifications/email/driver_request_received.txt",
    "notifications/templates/notifications/email/grant_created.html",
    "notifications/templates/notifications/email/grant_created.subject.txt",
    "notifications/templates/notifications/email/grant_created.txt",
    "notifications/templates/notifications/email/grant_revoked.html",
    "notifications/templates/notifications/email/grant_revoked.subject.txt",
    "notifications/templates/notifications/email/grant_revoked.txt",
    "notifications/templates/notifications/email/invoice.html",
    "notifications/templates/notifications/email/invoice.subject.txt",
    "notifications/templates/notifications/email/invoice.txt",
    "notifications/templates/notifications/email/invoice_reminder.html",
    "notifications/templates/notifications/email/invoice_reminder.subject.txt",
    "notifications/templates/notifications/email/invoice_reminder.txt",
    "notifications/templates/notifications/email/organisation_driver_connected.html",
    "notifications/templates/notifications/email/organisation_driver_connected.subject.txt",
    "notifications/templates/notifications/email/organisation_driver_connected.txt",
    "notifications/templates/notifications/email/password_reset.html",
    "notifications/templates/notifications/email/password_reset.subject.txt",
    "notifications/templates/notifications/email/password_reset.txt",
    "notifications/templates/notifications/email/payout_failed.html",
    "notifications/templates/notifications/email/payout_failed.subject.txt",
    "notifications/templates/notifications/email/payout_failed.txt",
    "notifications/templates/notifications/email/reimbursement_statement.html",
    "notifications/templates/notifications/email/reimbursement_statement.subject.txt",
    "notifications/templates/notifications/email/reimbursement_statement.txt",
    "notifications/templates/notifications/email/signed_terms.html",
    "notifications/templates/notifications/email/signed_terms.subject.txt",
    "notifications/templates/notifications/email/signed_terms.txt",
    "public_charging/forms.py",
    "public_charging/models.py",
    "public_charging/templates/notifications/email/charging_card_lost.html",
    "public_charging/templates/notifications/email/charging_card_lost.subject.txt",
    "public_charging/templates/notifications/email/charging_card_lost.txt",
    "public_charging/templates/public_charging/sessions/_table.html",
    "public_charging/templates/public_charging/sessions/mine.html",
    "public_charging/templates/public_charging/tokens/issue.html",
    "public_charging/templates/public_charging/tokens/list.html",
    "public_charging/templates/public_charging/tokens/my_tokens.html",
    "public_charging/templates/public_charging/tokens/report_lost.html",
    "public_charging/views_sessions.py",
    "public_charging/views_tokens.py",
    "reimbursements/forms.py",
    "reimbursements/models.py",
    "reimbursements/services/__init__.py",
    "reimbursements/services/payouts.py",
    "reimbursements/templates/admin/reimbursements/payoutbatch/change_form.html",
    "reimbursements/templates/admin/reimbursements/payoutbatch/change_list.html",
    "reimbursements/templates/admin/reimbursements/payoutbatch/create.html",
    "reimbursements/templates/admin/reimbursements/payoutbatch/returns.html",
    "reimbursements/templates/admin/reimbursements/payoutline/fail.html",
    "reimbursements/templates/reimbursements/my_reimbursement.html",
    "reimbursements/templates/reimbursements/statement_detail.html",
    "reimbursements/templates/reimbursements/statements.html",
    "reimbursements/views.py",
    "reports/models.py",
    "reports/templates/reports/_export.html",
    "reports/templates/reports/transactions.html",
    "reports/views.py",
    "ui/templates/400.html",
    "ui/templates/403.html",
    "ui/templates/404.html",
    "ui/templates/500.html",
    "ui/templates/ui/base.html",
    "ui/templates/ui/breadcrumbs.html",
    "ui/templates/ui/form_field.html",
    "web/templates/web/dashboard.html",
    "web/templates/web/outbox.html",
    "web/templates/web/outbox_message.html",
}

# Apps whose message files are still being translated (entries may be empty).
NOT_YET_TRANSLATED = {
    "accounts",
    "audit",
    "installations",
    "invoicing",
    "notifications",
    "public_charging",
    "reimbursements",
    "reports",
    "ui",
    "web",
}


def test_no_english_is_left_unmarked_for_translation():
    found = findings_by_file()
    unmarked = [
        str(f)
        for path, fs in found.items()
        if str(path.relative_to(ROOT)) not in NOT_YET_MARKED
        for f in fs
    ]
    assert not unmarked, "English not marked for translation:\n" + "\n".join(unmarked)


def test_the_list_of_files_still_to_mark_only_shrinks():
    found = {str(path.relative_to(ROOT)) for path in findings_by_file()}
    clean = sorted(NOT_YET_MARKED - found)
    assert not clean, f"these files are marked now: take them off NOT_YET_MARKED: {clean}"


def test_every_message_file_is_complete_and_its_placeholders_match():
    issues = [
        str(problem)
        for path in message_files()
        if path.relative_to(ROOT).parts[0] not in NOT_YET_TRANSLATED
        for problem in problems(path)
    ]
    assert not issues, "\n".join(issues)


def test_every_app_with_strings_speaks_every_language():
    apps = {path.relative_to(ROOT).parts[0] for path in message_files()}
    missing = [
        f"{app}: {language}"
        for app in sorted(apps)
        for language in translated_languages()
        if not (ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po").exists()
    ]
    assert apps and not missing


def _msgids(path: Path) -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in read_catalog(path)
        if message.id
    }


def test_the_message_files_hold_exactly_the_strings_of_the_sources(tmp_path):
    """Extract afresh (Django's makemessages) from a copy of the sources and compare:
    a string added to a page without ``make messages`` fails here."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT, copy / "evdms", ignore=shutil.ignore_patterns("*.mo", "__pycache__", "tests")
    )
    shutil.copy(ROOT.parent / "manage.py", copy / "manage.py")
    stale = []
    for po in (p for p in message_files() if p.parts[-3] == "nl"):
        app = po.relative_to(ROOT).parts[0]
        subprocess.run(
            [
                sys.executable,
                "../../manage.py",
                "makemessages",
                "-l",
                "nl",
                "--no-obsolete",
                "--add-location",
                "never",
                "-i",
                "tests",
                "-i",
                "migrations",
            ],
            cwd=copy / "evdms" / app,
            check=True,
            capture_output=True,
        )
        fresh = _msgids(copy / "evdms" / app / "locale" / "nl" / "LC_MESSAGES" / "django.po")
        for language in translated_languages():
            kept = _msgids(po.parents[2] / language / "LC_MESSAGES" / "django.po")
            if fresh != kept:
                new, gone = sorted(fresh - kept)[:5], sorted(kept - fresh)[:5]
                stale.append(f"{app} {language}: new {new}, gone {gone}")
    assert not stale, "run `make messages` and translate:\n" + "\n".join(stale)


def test_the_reader_finds_english_in_text_attributes_and_filters_but_not_in_marked_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Drivers" %}</h1>'
        "<p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}</p>"
        '<button title="Remove the driver">×</button>'
        '<td>{{ when|date:"j M Y"|default:"never" }}</td>'
        '<td>{{ when|default:_("never") }}</td>'
        "<p>EUR · kWh · IBAN</p>{% comment %}Not shown{% endcomment %}"
        "<p>Save</p>"
    )
    texts = [finding.text for finding in template_findings(page)]
    assert texts == ["Remove the driver", "never", "Save"]
    assert not is_english("EUR 12.50 · 3 kWh") and is_english("3 kWh charged")
