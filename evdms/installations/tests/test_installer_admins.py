"""An installer company has installer admins only, every other organisation only the
organisation roles: the invite form, the role form, the API key form and the
provisioning command offer and accept the roles of the organisation's kind."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from evdms.accounts.models import Admin, ApiKey, Role
from evdms.testing.fixtures import client_for
from evdms.testing.installations import make_installer

pytestmark = pytest.mark.django_db


def _options(html: str) -> set[str]:
    import re

    select = re.search(r'<select name="role".*?</select>', html, re.S)
    assert select is not None
    return set(re.findall(r'<option value="([a-z_]+)"', select.group(0)))


def test_an_installer_manager_invites_only_installer_roles(world):
    sparkfit = make_installer()
    ivan = client_for(sparkfit.manager)
    page = ivan.get(reverse("accounts:admins"))
    assert page.status_code == 200
    assert _options(page.content.decode()) == {"installer_manager", "installer_technician"}
    assert "Installer technician: the jobs" in page.content.decode()

    refused = ivan.post(
        reverse("accounts:admins"),
        {"full_name": "Nora", "email": "nora@sparkfit.example", "role": Role.NETWORK_MANAGER},
    )
    assert refused.status_code == 422
    assert "Select a valid choice" in refused.content.decode()
    assert not Admin.objects.filter(email="nora@sparkfit.example").exists()

    done = ivan.post(
        reverse("accounts:admins"),
        {"full_name": "Tom", "email": "tom@sparkfit.example", "role": Role.INSTALLER_TECHNICIAN},
    )
    assert done.status_code == 302
    tom = Admin.objects.get(email="tom@sparkfit.example")
    assert (tom.organisation, tom.role) == (sparkfit.organisation, Role.INSTALLER_TECHNICIAN)


def test_a_network_manager_invites_only_organisation_roles(world):
    nadia = client_for(world.nadia)
    page = nadia.get(reverse("accounts:admins"))
    assert _options(page.content.decode()) == {"network_manager", "connections_officer", "analyst"}
    refused = nadia.post(
        reverse("accounts:admins"),
        {"full_name": "Ian", "email": "ian@voltlease.example", "role": Role.INSTALLER_MANAGER},
    )
    assert refused.status_code == 422
    assert not Admin.objects.filter(email="ian@voltlease.example").exists()


def test_the_invite_service_refuses_a_role_of_another_kind(world):
    from django.core.exceptions import ValidationError

    from evdms.accounts.services import admin_invite

    sparkfit = make_installer()
    with pytest.raises(ValidationError) as raised:
        admin_invite(
            actor=world.actor(sparkfit.manager),
            email="x@sparkfit.example",
            full_name="X",
            role=Role.ANALYST,
        )
    assert "Installer manager, Installer technician" in raised.value.message_dict["role"][0]


def test_role_change_offers_the_kinds_roles_and_keeps_one_installer_manager(world):
    sparkfit = make_installer()
    ivan = client_for(sparkfit.manager)
    url = reverse("accounts:admin_detail", args=[sparkfit.technician.pk])
    assert _options(ivan.get(url).content.decode()) == {
        "installer_manager",
        "installer_technician",
    }
    assert ivan.post(url, {"role": Role.NETWORK_MANAGER}).status_code == 422
    sparkfit.technician.refresh_from_db()
    assert sparkfit.technician.role == Role.INSTALLER_TECHNICIAN
    assert ivan.post(url, {"role": Role.INSTALLER_MANAGER}).status_code == 302
    sparkfit.technician.refresh_from_db()
    assert sparkfit.technician.role == Role.INSTALLER_MANAGER

    # Back to one manager: Ivan; he may not make himself a technician.
    ivan.post(url, {"role": Role.INSTALLER_TECHNICIAN})
    own = ivan.post(
        reverse("accounts:admin_detail", args=[sparkfit.manager.pk]),
        {"role": Role.INSTALLER_TECHNICIAN},
    )
    assert own.status_code == 422
    assert "last active Installer manager" in own.content.decode()


def test_a_technician_cannot_manage_admins_or_settings(world):
    sparkfit = make_installer()
    tess = client_for(sparkfit.technician)
    assert tess.get(reverse("accounts:admins")).status_code == 403
    assert tess.get(reverse("accounts:settings")).status_code == 403


def test_an_installer_manager_makes_installer_api_keys_only(world):
    sparkfit = make_installer()
    ivan = client_for(sparkfit.manager)
    page = ivan.get(reverse("accounts:settings"))
    assert _options(page.content.decode()) == {"installer_manager", "installer_technician"}
    refused = ivan.post(
        reverse("accounts:api_key_create"), {"name": "CRM", "role": Role.NETWORK_MANAGER}
    )
    assert refused.status_code == 422
    assert not ApiKey.objects.filter(organisation=sparkfit.organisation).exists()
    made = ivan.post(
        reverse("accounts:api_key_create"), {"name": "Planner", "role": Role.INSTALLER_TECHNICIAN}
    )
    assert made.status_code == 200
    key = ApiKey.objects.get(organisation=sparkfit.organisation)
    assert key.role == Role.INSTALLER_TECHNICIAN
    assert f"evdms_{key.prefix}_" in made.content.decode()


def test_create_api_key_command_takes_the_roles_of_the_organisations_kind(world, capsys):
    sparkfit = make_installer()
    with pytest.raises(CommandError, match="Installer manager, Installer technician"):
        call_command(
            "create_api_key", "--organisation", "sparkfit", "--name", "x", "--role", "analyst"
        )
    with pytest.raises(CommandError, match="Network Manager, Connections Officer, Analyst"):
        call_command(
            "create_api_key",
            "--organisation",
            "voltlease",
            "--name",
            "x",
            "--role",
            "installer_technician",
        )
    assert not ApiKey.objects.exists()
    call_command("create_api_key", "--organisation", "sparkfit", "--name", "planner")
    key = ApiKey.objects.get()
    assert (key.organisation, key.role) == (sparkfit.organisation, Role.INSTALLER_MANAGER)
    assert capsys.readouterr().out.startswith(f"evdms_{key.prefix}_")
