"""Issue #19: what is wrong with an e-mail address is said in our own words, in the
reader's language, never in the address checker's (English) explanation."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import translation

from evdms.connections.rules import email_problem, email_problem_english
from evdms.testing.fixtures import VALID_CONNECTION, client_for

pytestmark = pytest.mark.django_db


def test_a_german_admin_is_told_in_german_what_is_wrong_with_an_address(world):
    assert world.nadia.user is not None
    world.nadia.user.language = "de"
    world.nadia.user.save(update_fields=["language"])
    data = {
        **VALID_CONNECTION,
        "organisation": world.org_a.pk,
        "support_email": "nope",
    }
    response = client_for(world.nadia).post(reverse("connections:new"), data)
    page = html.unescape(response.content.decode())
    assert response.status_code == 422
    assert "„nope“ ist keine gültige E-Mail-Adresse: Eine E-Mail-Adresse braucht ein @." in page
    assert "An email address must have an @-sign" not in page


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("nope", "An e-mail address needs an @."),
        ("@abc.example", "Something must come before the @."),
        ("a@", "Something must come after the @."),
        ("a" * 250 + "@abc.example", "This e-mail address is too long."),
        ("a@abc", "The part after the @ is not a valid domain name."),
        ("a b@abc.example", "It is not written the way an e-mail address is."),
    ],
)
def test_each_kind_of_problem_has_its_own_words(address, kind):
    from email_validator import EmailNotValidError, validate_email

    with pytest.raises(EmailNotValidError) as refused:
        validate_email(address, check_deliverability=False)
    assert email_problem_english(refused.value) == kind
    with translation.override("fr"):
        assert email_problem(refused.value) != kind  # and it is translated


def test_the_checkers_words_about_a_domain_that_takes_no_mail_are_ours_too():
    with translation.override("de"):
        said = email_problem("The domain name abc.example does not accept email.")
    assert said == "Diese Domain existiert nicht oder nimmt keine E-Mails an."
