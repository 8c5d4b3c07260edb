"""The demo data shows the quote side's two cases (README: anna asks, daan does not)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from connections.selectors import connection_choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data(demo_erp):
    call_command("load_demo_data", "--demo-erp-url", demo_erp, stdout=StringIO())


def test_anna_has_two_connections_with_eur_price_lists_and_must_select(demo_data):
    choice = connection_choice(User.objects.get(username="anna"), currency="EUR")
    assert choice.select_required and not choice.none_in_currency
    assert [item.connection.name for item in choice.options] == ["Demo ERP", "Product register"]


def test_daan_has_one_connection_and_it_is_taken(demo_data):
    choice = connection_choice(User.objects.get(username="daan"), currency="EUR")
    assert choice.chosen is not None and choice.chosen.connection.name == "Product register"
