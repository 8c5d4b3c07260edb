"""connections_for_user: the scope matrix, usability, the selection rule, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from connections import quoting, services
from connections.models import ERPConnection
from connections.selectors import (
    ConnectionSummary,
    connection_choice,
    connection_for_user,
    connections_for_user,
    currencies_for_user,
    with_price_lists,
)

pytestmark = pytest.mark.django_db


def names(user: Any, **kwargs: Any) -> list[str]:
    return [item.connection.name for item in connections_for_user(user, **kwargs)]


@pytest.fixture
def scoped(register_connection, make_user):
    """A connection for all, one listing sam, one listing sam's group, one for nobody else."""
    sam = make_user("sam")
    other = make_user("olga")
    team = Group.objects.create(name="Sales North")
    sam.groups.add(team)
    return {
        "sam": sam,
        "other": other,
        "all": register_connection("For all"),
        "user": register_connection("For sam", users=[sam]),
        "group": register_connection("For the team", groups=[team]),
        "nobody": register_connection("For olga", users=[other]),
    }


def test_scope_all_user_listed_and_group_listed_are_included(scoped):
    assert names(scoped["sam"]) == ["For all", "For sam", "For the team"]


def test_a_connection_listing_someone_else_is_not_included(scoped):
    assert names(scoped["other"]) == ["For all", "For olga"]


def test_a_user_in_no_scope_gets_only_the_all_connections(scoped, make_user):
    assert names(make_user("nina")) == ["For all"]


def test_nobody_gets_anything_without_connections_in_scope(make_user, register_connection):
    nina = make_user("nina")
    register_connection("Only olga", users=[make_user("olga")])
    assert connections_for_user(nina) == []


def test_superusers_follow_the_scope_too(scoped, make_user):
    boss = make_user("boss", is_superuser=True)
    assert names(boss) == ["For all"]


def test_inactive_and_anonymous_users_get_nothing(scoped):
    from django.contrib.auth.models import AnonymousUser

    scoped["sam"].is_active = False
    assert connections_for_user(scoped["sam"]) == []
    assert connections_for_user(AnonymousUser()) == []


def test_deleted_connections_are_never_included_and_restored_ones_come_back(scoped, manager):
    services.connection_delete(actor=manager, connection=scoped["user"])
    assert names(scoped["sam"]) == ["For all", "For the team"]
    services.connection_restore(actor=manager, connection=scoped["user"])
    assert names(scoped["sam"]) == ["For all", "For sam", "For the team"]


def test_leaving_the_group_takes_its_connections_away(scoped):
    scoped["sam"].groups.clear()
    assert names(scoped["sam"]) == ["For all", "For sam"]


def test_a_connection_whose_connector_is_not_installed_is_included_but_not_usable(
    scoped, register_connection
):
    ERPConnection.objects.filter(pk=scoped["all"].pk).update(connector_key="uninstalled")
    found = {item.connection.name: item.usable for item in connections_for_user(scoped["sam"])}
    assert found == {"For all": False, "For sam": True, "For the team": True}


def test_with_a_currency_each_usable_connection_carries_its_price_lists(scoped, register_lists):
    found = connections_for_user(scoped["sam"], currency="usd")
    assert [[pl.name for pl in item.price_lists] for item in found] == [["Export"]] * 3


@pytest.mark.parametrize("count", [10, 1000])
def test_a_constant_number_of_queries(count, make_user, register_lists):
    sam = make_user("sam")
    team = Group.objects.create(name="Team")
    sam.groups.add(team)
    rows = ERPConnection.objects.bulk_create(
        ERPConnection(
            name=f"C{i:04d}",
            connector_key="product_register",
            scope="all" if i % 3 == 0 else "specific",
        )
        for i in range(count)
    )
    for i, row in enumerate(rows):
        if i % 3 == 1:
            row.users.add(sam)
        elif i % 3 == 2:
            row.groups.add(team)
    with CaptureQueriesContext(db) as plain:
        found = connections_for_user(sam)
    assert len(found) == count
    assert len(plain.captured_queries) == 1
    with CaptureQueriesContext(db) as priced:
        found = connections_for_user(sam, currency="EUR")
    assert all(item.price_list_count == 1 for item in found)
    # the connections, then the register's EUR price lists once for all of them
    assert len(priced.captured_queries) == 2
    listed = connections_for_user(sam)
    with CaptureQueriesContext(db) as later:
        found = with_price_lists(listed, currency="EUR")
    assert all(item.price_list_count == 1 for item in found)
    # the listed connections' configurations in one query, then the register once
    assert len(later.captured_queries) == 2


def test_each_branch_of_the_scope_lookup_has_an_index_holding_the_connection():
    """Migration 0010: the lookups of the UNION read only indexes (no table rows)."""
    tables = {
        ERPConnection._meta.db_table: ["scope", "id"],
        ERPConnection.users.through._meta.db_table: ["user_id", "erpconnection_id"],
        ERPConnection.groups.through._meta.db_table: ["group_id", "erpconnection_id"],
    }
    with db.cursor() as cursor:
        for table, columns in tables.items():
            indexes = db.introspection.get_constraints(cursor, table).values()
            assert any(index["index"] and index["columns"] == columns for index in indexes)


# --- what an item holds ---------------------------------------------------------------------


def test_listed_connections_are_summaries_that_read_and_compare_like_the_connections(
    scoped,
):
    ERPConnection.objects.filter(pk=scoped["user"].pk).update(
        description="Sam's own", available=False, availability_message="HTTP 503"
    )
    found = {item.connection.name: item.connection for item in connections_for_user(scoped["sam"])}
    mine = found["For sam"]
    assert isinstance(mine, ConnectionSummary)
    assert mine == ERPConnection.objects.get(pk=scoped["user"].pk) and mine != scoped["all"]
    assert (mine.pk, mine.description, mine.connector_key) == (
        scoped["user"].pk,
        "Sam's own",
        "product_register",
    )
    assert mine.connector_label == scoped["user"].connector_label
    assert mine.unavailable_message == "HTTP 503" and found["For all"].unavailable_message == ""


def test_a_listed_connection_can_be_used_and_its_configuration_is_read_then(scoped, register_lists):
    [summary] = [
        item.connection
        for item in connections_for_user(scoped["sam"])
        if item.connection.name == "For sam"
    ]
    with CaptureQueriesContext(db) as queries:
        handle = quoting.handle_for(summary)
    assert len(queries.captured_queries) == 1
    assert handle.connection == scoped["user"] and handle.rules.price_decimals == 2


def test_a_listed_connection_deleted_before_it_is_used_says_so(scoped, manager, register_lists):
    listed = connections_for_user(scoped["sam"])
    services.connection_delete(actor=manager, connection=scoped["user"])
    [summary] = [item.connection for item in listed if item.connection.name == "For sam"]
    with pytest.raises(quoting.UseError) as raised:
        quoting.handle_for(summary)
    assert raised.value.code == "not_found"
    # price lists are read for the connections still there; the deleted one is left out
    assert [item.connection.name for item in with_price_lists(listed, currency=None)] == [
        "For all",
        "For the team",
    ]


# --- the selection rule ------------------------------------------------------------------


@pytest.fixture
def two_currencies(register_connection, rest_connection, demo_erp, register_lists, sales):
    """The register (EUR, USD) for all; the demo ERP (EUR, USD) for sam only."""
    return {
        "register": register_connection("Register"),
        "demo": rest_connection("Demo ERP", demo_erp, users=[sales]),
    }


def test_exactly_one_connection_in_the_currency_is_taken_without_asking(
    register_connection, register_lists, sales
):
    register_connection("Register")
    choice = connection_choice(sales, currency="EUR")
    assert choice.chosen is not None and choice.chosen.connection.name == "Register"
    assert not choice.select_required


def test_several_connections_in_the_currency_ask_the_user(two_currencies, sales):
    choice = connection_choice(sales, currency="EUR")
    assert choice.select_required and not choice.none_in_currency
    assert [item.connection.name for item in choice.options] == ["Demo ERP", "Register"]


def test_one_of_two_connections_in_the_currency_is_taken(two_currencies, sales, register_lists):
    register_lists["USD"].delete()
    choice = connection_choice(sales, currency="USD")
    assert choice.chosen is not None and choice.chosen.connection.name == "Demo ERP"


def test_no_connection_in_the_currency_asks_with_all_connections(two_currencies, sales):
    choice = connection_choice(sales, currency="GBP")
    assert choice.select_required and choice.none_in_currency
    assert [item.connection.name for item in choice.options] == ["Demo ERP", "Register"]


def test_no_connection_at_all_leaves_nothing_to_choose(make_user):
    choice = connection_choice(make_user("nina"), currency="EUR")
    assert choice.select_required and choice.options == []


def test_an_unreachable_erp_has_no_price_lists_and_says_why(
    rest_connection, sales, silent_server_url
):
    rest_connection("Down", silent_server_url, users=[sales])
    [item] = connections_for_user(sales, currency="EUR")
    assert item.price_list_count == 0
    assert item.error is not None and item.error.code


def test_currencies_put_eur_first(two_currencies, sales):
    assert currencies_for_user(sales) == ["EUR", "USD"]


@pytest.fixture
def silent_server_url(settings: Any) -> str:
    from tests.connectors.fake_erp import closed_port

    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    return f"http://127.0.0.1:{closed_port()}/"


def test_connection_for_user_finds_one_of_the_users_connections_in_one_query(scoped):
    with CaptureQueriesContext(db) as queries:
        found = connection_for_user(scoped["sam"], pk=scoped["group"].pk)
    assert found is not None and found.usable and len(queries.captured_queries) == 1
    assert connection_for_user(scoped["sam"], pk=scoped["nobody"].pk) is None
    assert connection_for_user(scoped["sam"], pk=999999) is None
