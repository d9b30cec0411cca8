"""Two-factor authentication as admins and operators meet it: setting it up with an
authenticator app, logging in with a code or a recovery code, an organisation that
requires it, operators in production, and the API untouched."""

from __future__ import annotations

import re
import time
from base64 import b32encode

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from evdms.accounts import services
from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.testing.fixtures import PASSWORD, client_for

pytestmark = pytest.mark.django_db

TWO_FACTOR = reverse("accounts:two_factor")
LOGIN = reverse("accounts:login")
LOGIN_CODE = reverse("accounts:login_code")


def code_of(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for the device, ``steps_ahead`` periods from
    now (a code is accepted once: the next log-in needs a later one)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def set_up_two_factor(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Through the pages, as a person does; returns the app's device and the codes shown."""
    client.post(reverse("accounts:two_factor_begin"), {"begin-proof": PASSWORD})
    device = TOTPDevice.objects.get(confirmed=False)
    page = client.post(reverse("accounts:two_factor_enable"), {"code": code_of(device)})
    assert page.status_code == 200, page.content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    device.refresh_from_db()
    return device, codes


def enrolled(user: User) -> tuple[TOTPDevice, list[str]]:
    """Two-factor set up through the services, for tests about logging in."""
    services.two_factor_begin(user=user)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    check, codes = services.two_factor_enable(user=user, code=code_of(device))
    assert check.device is not None
    device.refresh_from_db()
    return device, codes


def log_in(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- setting it up ------------------------------------------------------------------


def test_an_admin_sets_up_two_factor_with_the_app_and_gets_ten_recovery_codes_once(world):
    client = client_for(world.ana)  # an Analyst: any admin may
    page = client.get(TWO_FACTOR)
    assert page.status_code == 200
    assert "Set up two-factor authentication" in page.content.decode()

    client.post(reverse("accounts:two_factor_begin"), {"begin-proof": PASSWORD})
    setup = client.get(TWO_FACTOR)
    html = setup.content.decode()
    device = TOTPDevice.objects.get(user=world.ana.user, confirmed=False)
    assert "<svg" in html and "QR code to scan with your authenticator app" in html
    assert setup["Cache-Control"] == "no-store"
    # The key to type in by hand is the device's, in the base32 the apps expect.
    shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
    assert shown is not None
    assert shown.group(1).replace(" ", "") == b32encode(device.bin_key).decode()
    assert "unsafe-inline" not in setup["Content-Security-Policy"]

    done = client.post(reverse("accounts:two_factor_enable"), {"code": code_of(device)})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == 10 == len(set(codes))
    assert done["Cache-Control"] == "no-store"
    device.refresh_from_db()
    assert device.confirmed
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    assert AuditEvent.objects.filter(action="two_factor.enable", actor_user=world.ana.user).exists()
    # Shown once: the page afterwards tells how many are left, not the codes.
    after = client.get(TWO_FACTOR).content.decode()
    assert "<strong>10</strong> unused recovery codes" in after
    assert codes[0] not in after
    # The session that set it up has shown a code: it goes on working.
    assert client.get(reverse("web:dashboard")).status_code == 200


def test_a_wrong_code_does_not_turn_it_on(world):
    client = client_for(world.nadia)
    client.post(reverse("accounts:two_factor_begin"), {"begin-proof": PASSWORD})
    device = TOTPDevice.objects.get(confirmed=False)
    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
    page = client.post(reverse("accounts:two_factor_enable"), {"code": wrong})
    assert page.status_code == 422
    assert "That code is not right" in page.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert StaticToken.objects.count() == 0
    bad = client.post(reverse("accounts:two_factor_enable"), {"code": "12ab"})
    assert "Enter the 6 digits the app shows." in bad.content.decode()


def test_drivers_do_not_get_two_factor(world):
    driver = User.objects.create_user("dan@example.com", "dan's passphrase 2026")
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    assert client.get(TWO_FACTOR).status_code == 403
    page = client.get(reverse("enrolment:my_connections")).content.decode()
    assert TWO_FACTOR not in page
    assert TWO_FACTOR in client_for(world.otto).get(reverse("web:dashboard")).content.decode()


# --- logging in ---------------------------------------------------------------------


def test_after_the_password_the_code_is_asked_and_nothing_opens_before_it(world):
    device, _ = enrolled(world.nadia.user)
    client = Client()
    response = log_in(client, "nadia@voltlease.example", next_url="/connections/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN_CODE
    assert not logged_in(client)
    for page in ("/", reverse("web:dashboard"), reverse("accounts:settings"), "/platform-admin/"):
        assert client.get(page).status_code == 302, page
        assert not logged_in(client)
    assert "Log-in code" in client.get(LOGIN_CODE).content.decode()

    done = client.post(LOGIN_CODE, {"code": code_of(device, steps_ahead=1)})
    assert done.status_code == 302
    assert done["Location"] == "/connections/"
    assert logged_in(client)
    assert client.get(reverse("web:dashboard")).status_code == 200


def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_used_again(world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # this test is about the codes, not the waits
    device, _ = enrolled(world.nadia.user)
    client = Client()
    log_in(client, "nadia@voltlease.example")
    wrong = f"{(int(code_of(device, 1)) + 1) % 1_000_000:06d}"
    refused = client.post(LOGIN_CODE, {"code": wrong})
    assert refused.status_code == 422
    assert "That code is not right" in refused.content.decode()
    assert not logged_in(client)

    code = code_of(device, steps_ahead=1)
    assert client.post(LOGIN_CODE, {"code": code}).status_code == 302
    again = Client()
    log_in(again, "nadia@voltlease.example")
    assert again.post(LOGIN_CODE, {"code": code}).status_code == 422
    assert not logged_in(again)


def test_right_after_a_wrong_code_the_next_try_must_wait(world):
    device, _ = enrolled(world.nadia.user)
    client = Client()
    log_in(client, "nadia@voltlease.example")
    client.post(LOGIN_CODE, {"code": f"{(int(code_of(device, 1)) + 1) % 1_000_000:06d}"})
    page = client.post(LOGIN_CODE, {"code": code_of(device, 1)})
    assert page.status_code == 422
    assert "Too many wrong codes in a row: wait" in page.content.decode()
    assert not logged_in(client)


def test_wrong_codes_count_towards_the_lockout(world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _ = enrolled(world.nadia.user)
    client = Client()
    log_in(client, "nadia@voltlease.example")
    wrong = f"{(int(code_of(device, 1)) + 1) % 1_000_000:06d}"
    answers = [client.post(LOGIN_CODE, {"code": wrong}) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [a.status_code for a in answers[:-1]] == [422] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1].status_code == 429
    assert "temporarily locked" in answers[-1].content.decode()
    # Locked whatever is given next, and whatever the spelling of the address.
    fresh = Client()
    assert log_in(fresh, "NADIA@voltlease.example").status_code == 429
    assert not logged_in(fresh)


def test_password_failures_and_code_failures_add_up(world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _ = enrolled(world.nadia.user)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(Client(), "nadia@voltlease.example", "wrong password")
    client = Client()
    assert log_in(client, "nadia@voltlease.example").status_code == 302  # no reset yet
    wrong = f"{(int(code_of(device, 1)) + 1) % 1_000_000:06d}"
    assert client.post(LOGIN_CODE, {"code": wrong}).status_code == 429
    assert client.post(LOGIN_CODE, {"code": code_of(device, 1)}).status_code in (302, 429)
    assert not logged_in(client)


def test_a_recovery_code_logs_in_once(world):
    _, codes = enrolled(world.otto.user)
    client = Client()
    log_in(client, "otto@voltlease.example")
    done = client.post(LOGIN_CODE, {"code": codes[3].upper()}, follow=True)
    assert logged_in(client)
    assert "You logged in with a recovery code; 9 left" in done.content.decode()

    again = Client()
    log_in(again, "otto@voltlease.example")
    refused = again.post(LOGIN_CODE, {"code": codes[3]})
    assert refused.status_code == 422
    assert not logged_in(again)
    assert StaticToken.objects.count() == 9


def test_the_code_step_expires(world, settings):
    device, _ = enrolled(world.nadia.user)
    client = Client()
    log_in(client, "nadia@voltlease.example")
    session = client.session
    session["two_factor_pending_login"]["at"] -= settings.TWO_FACTOR_LOGIN_MINUTES * 60 + 1
    session.save()
    response = client.post(LOGIN_CODE, {"code": code_of(device, 1)}, follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "That took too long: log in again." in response.content.decode()
    assert not logged_in(client)


def test_the_code_step_without_a_password_first_is_the_log_in_page(world):
    assert Client().get(LOGIN_CODE)["Location"] == LOGIN


def test_a_session_opened_before_two_factor_was_set_up_must_log_in_again(world):
    old_session = client_for(world.nadia)
    enrolled(world.nadia.user)
    response = old_session.get(reverse("web:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not logged_in(old_session)


# --- recovery codes and turning it off ----------------------------------------------


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(world, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # no wait after trying an old code
    client = client_for(world.nadia)
    device, old_codes = set_up_two_factor(client)
    url = reverse("accounts:recovery_codes_renew")
    refused = client.post(url, {"renew-proof": "not my password at all"})
    assert refused.status_code == 422
    assert "neither your password nor a current code" in refused.content.decode()
    page = client.post(url, {"renew-proof": code_of(device, steps_ahead=1)})
    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    other = Client()
    log_in(other, "nadia@voltlease.example")
    assert other.post(LOGIN_CODE, {"code": old_codes[0]}).status_code == 422
    assert other.post(LOGIN_CODE, {"code": new_codes[0]}).status_code == 302
    assert AuditEvent.objects.filter(action="two_factor.recovery_codes_renew").count() == 1


def test_turning_it_off_needs_the_password(world):
    client = client_for(world.nadia)
    set_up_two_factor(client)
    url = reverse("accounts:two_factor_disable")
    assert client.post(url, {"disable-proof": "a wrong password 123"}).status_code == 422
    assert TOTPDevice.objects.filter(confirmed=True).exists()
    assert client.post(url, {"disable-proof": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.exists() and StaticToken.objects.count() == 0
    assert AuditEvent.objects.filter(action="two_factor.disable").exists()
    fresh = Client()
    assert log_in(fresh, "nadia@voltlease.example")["Location"] != LOGIN_CODE
    assert logged_in(fresh)


def test_wrong_passwords_when_turning_it_off_count_towards_the_lockout(world, settings):
    client = client_for(world.nadia)
    set_up_two_factor(client)
    url = reverse("accounts:two_factor_disable")
    answers = [
        client.post(url, {"disable-proof": "a wrong password 123"})
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers[-1].status_code == 429
    assert client.post(url, {"disable-proof": PASSWORD}).status_code == 429
    assert TOTPDevice.objects.filter(confirmed=True).exists()


# --- organisations that require it ----------------------------------------------------


def _require_two_factor(client: Client) -> None:
    response = client.post(
        reverse("accounts:settings"),
        {"name": "Voltlease", "currency": "EUR", "require_two_factor": "on"},
    )
    assert response.status_code == 302


def test_a_network_manager_requires_it_and_admins_without_it_must_set_it_up_first(world):
    manager = client_for(world.nadia)
    _require_two_factor(manager)
    world.org_a.refresh_from_db()
    assert world.org_a.require_two_factor
    event = AuditEvent.objects.get(action="organisation.update")
    assert event.changes["require_two_factor"] == [False, True]
    assert event.actor_user == world.nadia.user

    otto = client_for(world.otto)
    for page in (reverse("web:dashboard"), reverse("connections:list")):
        response = otto.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == TWO_FACTOR
    setup = otto.get(TWO_FACTOR).content.decode()
    assert "Voltlease requires two-factor authentication for its admins" in setup
    assert reverse("connections:list") not in setup  # no menu to pages that are closed
    set_up_two_factor(otto)
    assert otto.get(reverse("connections:list")).status_code == 200
    # Another organisation is not affected.
    assert client_for(world.bob).get(reverse("web:dashboard")).status_code == 200


def test_an_admin_of_such_an_organisation_logs_in_with_the_password_then_sets_it_up(world):
    world.org_a.require_two_factor = True
    world.org_a.save()
    client = Client()
    response = log_in(client, "ana@voltlease.example")
    landing = client.get(response["Location"], follow=True)
    assert landing.redirect_chain[-1][0] == TWO_FACTOR


def test_the_api_is_unaffected_by_two_factor(world, api_key_for):
    world.org_a.require_two_factor = True
    world.org_a.save()
    enrolled(world.nadia.user)
    headers = api_key_for(world.org_a)
    assert Client().get("/api/v1/connections", headers=headers).status_code == 200
    # Even from a browser whose session still owes its second factor.
    otto = client_for(world.otto)
    assert otto.get("/api/v1/connections", headers=headers).status_code == 200


# --- platform operators -----------------------------------------------------------


@pytest.fixture
def petra(db) -> User:
    return User.objects.create_user(
        "petra@platform.example", PASSWORD, full_name="Petra Operator", is_staff=True
    )


def test_operators_must_set_it_up_where_required_and_the_admin_stays_closed_till_then(
    petra, settings
):
    settings.OPERATORS_NEED_TWO_FACTOR = True  # as in production
    client = Client()
    log_in(client, "petra@platform.example", next_url="/platform-admin/")
    response = client.get("/platform-admin/")
    assert response.status_code == 302
    assert response["Location"] == TWO_FACTOR
    assert client.get("/platform-admin/accounts/user/").status_code == 302
    setup = client.get(TWO_FACTOR).content.decode()
    assert "Platform operators must use two-factor authentication" in setup
    set_up_two_factor(client)
    assert client.get("/platform-admin/").status_code == 200


def test_the_admins_own_log_in_form_does_not_skip_the_code(petra):
    device, _ = enrolled(petra)
    client = Client()
    response = client.post(
        "/platform-admin/login/?next=/platform-admin/",
        {"username": "petra@platform.example", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not logged_in(client)
    log_in(client, "petra@platform.example", next_url="/platform-admin/")
    assert client.get("/platform-admin/").status_code == 302  # the code is still owed
    done = client.post(LOGIN_CODE, {"code": code_of(device, 1)})
    assert done["Location"] == "/platform-admin/"
    assert client.get("/platform-admin/").status_code == 200


def test_in_development_the_demo_operator_reaches_the_admin_with_the_password(petra, settings):
    settings.OPERATORS_NEED_TWO_FACTOR = False
    client = Client()
    response = log_in(client, "petra@platform.example")
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == "/platform-admin/"
    assert client.get("/platform-admin/").status_code == 200


def test_the_admins_list_tells_the_network_manager_who_uses_two_factor(world):
    enrolled(world.otto.user)
    page = client_for(world.nadia).get(reverse("accounts:admins")).content.decode()
    rows = {
        email: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for email in re.findall(r"<td[^>]*>([\w.]+@voltlease\.example)</td>", row)
    }
    assert "<td>On</td>" in rows["otto@voltlease.example"]
    assert "Off" in rows["ana@voltlease.example"]


def test_operators_can_remove_a_device_in_the_admin_but_never_read_its_secrets(world, settings):
    """A lost phone and lost codes: an operator removes the device; the secret key and
    the recovery codes (each a log-in as that admin) are never shown to them."""
    settings.OPERATORS_NEED_TWO_FACTOR = False
    device, codes = enrolled(world.otto.user)
    operator = User.objects.create_superuser("root@platform.example", PASSWORD)
    client = Client()
    client.force_login(operator)
    static = StaticToken.objects.filter(device__user=world.otto.user).first()
    assert static is not None
    pages = [
        f"/platform-admin/otp_totp/totpdevice/{device.pk}/change/",
        "/platform-admin/otp_totp/totpdevice/",
        f"/platform-admin/otp_static/staticdevice/{static.device_id}/change/",
    ]
    # django-otp's own set-up views in the admin show the key as a link and a QR code
    for view in ("config", "qrcode"):
        url = f"/platform-admin/otp_totp/totpdevice/{device.pk}/{view}/"
        assert client.get(url).status_code in (403, 404), url
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        content = page.content.decode()
        assert device.key not in content, url
        assert b32encode(device.bin_key).decode().rstrip("=") not in content, url
        assert not [code for code in codes if code in content], url
    client.post(f"/platform-admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_setting_it_up_needs_the_password_so_a_borrowed_session_cannot_take_the_account(world):
    client = client_for(world.nadia)
    refused = client.post(reverse("accounts:two_factor_begin"))
    assert refused.status_code == 422
    assert not TOTPDevice.objects.filter(user=world.nadia.user).exists()
    wrong = client.post(reverse("accounts:two_factor_begin"), {"begin-proof": "a guess at it"})
    assert wrong.status_code == 422
    assert "neither your password nor a current code" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=world.nadia.user).exists()
    client.post(reverse("accounts:two_factor_begin"), {"begin-proof": PASSWORD})
    assert TOTPDevice.objects.filter(user=world.nadia.user, confirmed=False).exists()


def test_a_session_logged_in_with_a_recovery_code_stays_in_after_making_new_codes(world):
    _, codes = enrolled(world.otto.user)
    client = Client()
    log_in(client, "otto@voltlease.example")
    client.post(LOGIN_CODE, {"code": codes[0]})
    assert logged_in(client)
    page = client.post(reverse("accounts:recovery_codes_renew"), {"renew-proof": PASSWORD})
    assert page.status_code == 200
    assert client.get(TWO_FACTOR).status_code == 200
    assert logged_in(client)
    assert StaticToken.objects.filter(device__user=world.otto.user).count() == 10
