"""The New / Edit Connection and Revise Benefits pages as an admin meets them: a chosen
logo survives a round with other errors, every mistake is said in one round, sections,
marks of required fields, prices as typed, sort links that do not pile up."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.urls import reverse
from PIL import Image

from evdms.accounts.models import User
from evdms.connections.logo import clean_logo
from evdms.connections.logo_keep import LOST, Scope, keep
from evdms.connections.models import Connection
from evdms.connections.tests.test_pages import field_errors, form_data
from evdms.testing.fixtures import client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db


def driver_user(email: str) -> User:
    return User.objects.create_user(email, "a long passphrase 1", full_name="Dora Driver")


def logo_file(colour=(0, 90, 50)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (60, 30), colour).save(out, format="PNG")
    out.seek(0)
    out.name = "logo.png"
    return out


def stored_hash(colour=(0, 90, 50)) -> str:
    return clean_logo(logo_file(colour).getvalue())[1]


def kept_token(page: str) -> str:
    found = re.search(r'name="kept_logo" value="([^"]+)"', page)
    assert found, "the page carries no kept logo"
    return html.unescape(found.group(1))


# --- 1. a valid logo is kept across a round that failed elsewhere --------------------


def test_a_valid_logo_survives_a_round_with_another_error_and_is_saved(world):
    nadia = client_for(world.nadia)
    failed = nadia.post(
        reverse("connections:new"), form_data(world, support_email="", logo=logo_file())
    )
    assert failed.status_code == 422
    page = failed.content.decode()
    assert field_errors(failed) == {"support_email": ["This field is required."]}
    # Shown back with the choice to keep it or choose another.
    assert 'src="data:image/png;base64,' in page
    assert "Keep this logo" in page and "Choose another" in page
    token = kept_token(page)

    saved = nadia.post(
        reverse("connections:new"),
        form_data(world, kept_logo=token, kept_logo_choice="keep"),
    )
    assert saved.status_code == 302
    connection = Connection.objects.get()
    assert connection.has_logo and connection.logo_sha256 == stored_hash()


def test_choose_another_drops_the_kept_logo_and_a_new_file_replaces_it(world):
    nadia = client_for(world.nadia)
    token = kept_token(
        nadia.post(
            reverse("connections:new"), form_data(world, support_email="", logo=logo_file())
        ).content.decode()
    )
    replaced = nadia.post(
        reverse("connections:new"),
        form_data(world, kept_logo=token, kept_logo_choice="keep", logo=logo_file((200, 0, 0))),
    )
    assert replaced.status_code == 302
    assert Connection.objects.get().logo_sha256 == stored_hash((200, 0, 0))

    none = nadia.post(
        reverse("connections:new"),
        form_data(world, name="Other", kept_logo=token, kept_logo_choice="replace"),
    )
    assert none.status_code == 302
    assert not Connection.objects.get(name="Other").has_logo


def test_a_wrong_logo_is_not_kept(world):
    failed = client_for(world.nadia).post(
        reverse("connections:new"), form_data(world, support_email="", logo=io.BytesIO(b"GIF8"))
    )
    assert "logo" in field_errors(failed)
    assert 'name="kept_logo"' not in failed.content.decode()


def test_another_organisations_kept_logo_is_refused_and_said_so(world):
    """Bob (Rival Lease) sends a logo reference made on Voltlease's page."""
    nadia_token = kept_token(
        client_for(world.nadia)
        .post(reverse("connections:new"), form_data(world, support_email="", logo=logo_file()))
        .content.decode()
    )
    response = client_for(world.bob).post(
        reverse("connections:new"),
        {**form_data(world), "organisation": world.org_b.pk, "kept_logo": nadia_token},
    )
    assert response.status_code == 422
    assert field_errors(response)["logo"] == [html.escape(str(LOST))]
    assert not Connection.objects.exists()


def test_a_forged_or_expired_reference_is_refused(world, monkeypatch):
    scope = Scope.of(world.actor(world.nadia))
    genuine = keep(clean_logo(logo_file().getvalue())[0], scope).token
    forged = signing.dumps({"o": world.org_a.pk, "u": world.nadia.user.pk, "png": "AA=="})
    nadia = client_for(world.nadia)
    for token in (forged, genuine[:-2] + "xx"):
        response = nadia.post(reverse("connections:new"), form_data(world, kept_logo=token))
        assert field_errors(response)["logo"] == [html.escape(str(LOST))]
    monkeypatch.setattr("evdms.connections.logo_keep.MAX_AGE_SECONDS", -1)  # now too old
    response = nadia.post(reverse("connections:new"), form_data(world, kept_logo=genuine))
    assert field_errors(response)["logo"] == [html.escape(str(LOST))]
    assert Connection.objects.count() == 0


def test_the_edit_page_keeps_a_new_logo_across_a_failed_round(world):
    connection = make_connection(world.org_a)
    nadia = client_for(world.nadia)
    url = reverse("connections:edit", args=[connection.pk])
    failed = nadia.post(url, form_data(world, name="", logo=logo_file()))
    assert failed.status_code == 422
    token = kept_token(failed.content.decode())
    assert nadia.post(url, form_data(world, kept_logo=token)).status_code == 302
    connection.refresh_from_db()
    assert connection.logo_sha256 == stored_hash()


# --- 2. messages: the logo's size, and a taken name with every other error -----------


def test_a_taken_name_is_said_in_the_same_round_as_the_other_errors(world):
    make_connection(world.org_a, name="ABC_Public")
    nadia = client_for(world.nadia)
    response = nadia.post(
        reverse("connections:new"),
        form_data(world, name="abc_public", support_email="", max_price_per_kwh="lots"),
    )
    errors = field_errors(response)
    assert errors["name"] == ["A connection with this name exists in this organisation."]
    assert errors["support_email"] == ["This field is required."]
    assert errors["max_price_per_kwh"] == ["Enter a number, e.g. 0.29."]

    other = make_connection(world.org_a, name="Other")
    edited = nadia.post(
        reverse("connections:edit", args=[other.pk]),
        form_data(world, name="ABC_PUBLIC", support_email="nope"),
    )
    errors = field_errors(edited)
    assert errors["name"] == ["A connection with this name exists in this organisation."]
    assert errors["support_email"][0].startswith("“nope” is not a valid e-mail address")


# --- 3. Edit's warning links Revise Benefits; Revise keeps the logo and the price ----


def test_the_edit_warning_links_to_revise_benefits(world):
    connection = make_connection(world.org_a)
    make_membership(connection, driver_user("dora@example.com"))
    page = client_for(world.nadia).get(reverse("connections:edit", args=[connection.pk]))
    revise = reverse("enrolment:revise", args=[connection.pk])
    assert re.search(rf'<a href="{revise}">Revise Benefits</a> instead', page.content.decode())


def test_prices_are_prefilled_as_typed_on_edit_and_revise(world):
    connection = make_connection(world.org_a, max_price_per_kwh="0.32")
    nadia = client_for(world.nadia)
    for url in (
        reverse("connections:edit", args=[connection.pk]),
        reverse("enrolment:revise", args=[connection.pk]),
    ):
        page = nadia.get(url).content.decode()
        assert re.search(r'name="max_price_per_kwh" value="0\.32"', page), url
        assert "0.3200" not in page
    connection = make_connection(world.org_a, name="Precise", max_price_per_kwh="0.3275")
    page = nadia.get(reverse("connections:edit", args=[connection.pk])).content.decode()
    assert 'value="0.3275"' in page


def test_revise_benefits_carries_the_logo_over_unless_told_not_to(world):
    old = make_connection(world.org_a)
    Connection.objects.filter(pk=old.pk).update(
        logo_png=clean_logo(logo_file().getvalue())[0], logo_sha256=stored_hash()
    )
    make_membership(old, driver_user("dora@example.com"))
    nadia = client_for(world.nadia)
    url = reverse("enrolment:revise", args=[old.pk])
    page = nadia.get(url).content.decode()
    assert "Current logo" in page and reverse("connections:logo", args=[stored_hash()]) in page
    assert nadia.post(url, form_data(world, name="Revised")).status_code == 302
    assert Connection.objects.get(name="Revised").logo_sha256 == stored_hash()
    assert nadia.post(url, form_data(world, name="Plain", remove_logo="on")).status_code == 302
    assert not Connection.objects.get(name="Plain").has_logo


def test_revise_benefits_keeps_a_new_logo_across_a_failed_round(world):
    old = make_connection(world.org_a)
    nadia = client_for(world.nadia)
    url = reverse("enrolment:revise", args=[old.pk])
    failed = nadia.post(url, form_data(world, name="", logo=logo_file((1, 2, 3))))
    assert failed.status_code == 422
    token = kept_token(failed.content.decode())
    assert nadia.post(url, form_data(world, name="New", kept_logo=token)).status_code == 302
    assert Connection.objects.get(name="New").logo_sha256 == stored_hash((1, 2, 3))


# --- 4. required marks and the single-option select ------------------------------------


def label_of(page: str, name: str) -> str:
    found = re.search(rf'<label for="id_{name}">(.*?)</label>', page, re.S)
    assert found, name
    return found.group(1)


def test_fields_required_when_shown_are_marked_and_payment_via_is_preselected(world):
    page = client_for(world.nadia).get(reverse("connections:new")).content.decode()
    for name in (
        "installation_payment_model",
        "installation_standard_price",
        "installation_budget",
        "max_price_per_kwh",
        "payment_via",
        "terms_text",
        "name",
    ):
        assert 'class="required"' in label_of(page, name), name
    for name in ("customer_id", "installation_warranty_months", "signed_terms_recipients"):
        assert 'class="required"' not in label_of(page, name), name
    # One real option: it is chosen already. Two (or an empty real one): not.
    assert re.search(r'<option value="direct_invoice_service" selected>', page)
    assert not re.search(r'<option value="certified_installer" selected>', page)


# --- 6. titled sections in the reference page's order ---------------------------------


def test_the_form_is_in_titled_sections_with_dependent_fields_inside(world):
    page = client_for(world.nadia).get(reverse("connections:new")).content.decode()
    legends = re.findall(r'<fieldset class="form-section"[^>]*>\s*<legend>([^<]+)</legend>', page)
    assert legends == [
        "Organisation",
        "Driver verification",
        "Home charger",
        "Reimbursement",
        "Public charging",
        "Approval and notifications",
        "Terms and conditions",
    ]
    sections = dict(
        re.findall(
            r'<fieldset class="form-section" id="section-([\w-]+)">(.*?)</fieldset>', page, re.S
        )
    )
    assert 'id="field-installation_budget"' in sections["home-charger"]
    assert 'id="field-max_price_per_kwh"' in sections["reimbursement"]
    assert 'id="field-payment_via"' in sections["public-charging"]
    assert 'id="field-terms_text"' in sections["terms-and-conditions"]
    assert 'id="field-logo"' in sections["organisation"]


# --- 7. sort links replace the sort and keep the filters ------------------------------


def sort_links(page: str) -> list[dict[str, list[str]]]:
    hrefs = re.findall(r'<th scope="col"[^>]*><a href="([^"]+)"', page)
    return [parse_qs(urlsplit(html.unescape(h)).query) for h in hrefs]


def test_connection_list_sort_links_replace_the_sort_and_keep_filters(world):
    make_connection(world.org_a)
    url = reverse("connections:list") + "?f0_col=name&f0_op=contains&f0_val=Volt&sort=-name&page=1"
    links = sort_links(client_for(world.nadia).get(url).content.decode())
    assert links
    for query in links:
        assert len(query["sort"]) == 1
        assert query["f0_val"] == ["Volt"] and "page" not in query
    assert {"sort": ["name"], "f0_col": ["name"], "f0_op": ["contains"], "f0_val": ["Volt"]} in [
        {k: v for k, v in q.items()} for q in links
    ]


def test_driver_list_sort_links_replace_the_sort_and_keep_filters(world):
    connection = make_connection(world.org_a)
    make_membership(connection, driver_user("dora@example.com"))
    url = reverse("enrolment:drivers") + "?status=connected&sort=name&sort=name"
    links = sort_links(client_for(world.nadia).get(url).content.decode())
    assert len(links) == 6
    for query in links:
        assert len(query["sort"]) == 1 and query["status"] == ["connected"]
    assert links[0]["sort"] == ["-name"]  # sorted by name already: the link reverses it
    assert links[1]["sort"] == ["connection"]
