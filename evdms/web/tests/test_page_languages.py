"""Issue #19: an admin who chose French sees the dashboard and the top bar in French."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db


def test_a_french_network_manager_sees_the_dashboard_and_the_top_bar_in_french(world):
    User.objects.filter(pk=world.nadia.user_id).update(language="fr")
    make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    response = client_for(world.nadia).get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and '<html lang="fr">' in page
    for french in (
        "<title>Tableau de bord · evdms</title>",
        "<h1>Tableau de bord</h1>",
        "vous êtes ",
        "Conducteurs inscrits",  # a figure
        "Bornes de recharge en ligne",
        "0 sur 0",
        "Demandes d'adhésion",  # the navigation
        "Programmes de recharge",
        "Accorder des droits",
        "Paramètres",
        "Se déconnecter",  # the top bar
        "Sécurité",
        "Par programme de recharge",
        "Aucune recharge publique professionnelle au cours des 12 derniers mois.",
    ):
        assert french in page, french
    for english in (
        "Dashboard",
        "you are",
        "Connected drivers",
        "Chargers online",
        "Connection Requests",
        "Grant Rights",
        "Log out",
        "Per connection",
        "Security",
        "The figures",
        "Month",
    ):
        assert english not in page, english


def test_the_energy_chart_names_the_months_in_the_language(world):
    User.objects.filter(pk=world.ana.user_id).update(language="de")
    page = client_for(world.ana).get(reverse("web:dashboard")).content.decode()
    assert "Energie beim Laden zu Hause pro Monat (kWh)" in page
    # Month axis labels of the charts, abbreviated by Django's German formats.
    assert any(f"{month} " in page for month in ("Jan.", "Feb.", "März", "Dez.", "Okt.", "Nov."))
