from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from connections import selectors, services
from connections.models import ERPConnection
from connections.selectors import ListQuery

pytestmark = pytest.mark.django_db


def names(page):
    return [c.name for c in page.object_list]


def test_list_searches_by_name_case_insensitively(make_connection):
    make_connection("North ERP")
    make_connection("South ERP")
    page = selectors.connection_list(query=ListQuery(q="north"))
    assert names(page) == ["North ERP"]


def test_list_sorts_by_column_both_ways(make_connection):
    make_connection("b", connector_key="rest_json")
    make_connection("a", connector_key="tryton")
    make_connection("c", connector_key="product_register")
    assert names(selectors.connection_list(query=ListQuery(sort="connector"))) == ["c", "b", "a"]
    assert names(selectors.connection_list(query=ListQuery(sort="name", descending=True))) == [
        "c",
        "b",
        "a",
    ]


def test_list_shows_live_or_deleted_only(make_connection, manager):
    make_connection("Alive")
    services.connection_delete(actor=manager, connection=make_connection("Gone"))
    assert names(selectors.connection_list(query=ListQuery())) == ["Alive"]
    assert names(selectors.connection_list(query=ListQuery(deleted=True))) == ["Gone"]


def test_list_paginates(make_connection):
    for index in range(selectors.PAGE_SIZE + 3):
        make_connection(f"Connection {index:03d}")
    second = selectors.connection_list(query=ListQuery(page=2))
    assert len(second.object_list) == 3
    assert second.paginator.num_pages == 2


def test_list_counts_scope_members_in_a_constant_number_of_queries(
    make_connection, make_user, django_assert_num_queries
):
    group = Group.objects.create(name="G")
    for index in range(5):
        connection = make_connection(f"C{index}", scope=ERPConnection.Scope.SPECIFIC)
        connection.groups.add(group)
        connection.users.add(make_user(f"user{index}"), make_user(f"other{index}"))
    with django_assert_num_queries(2):  # count + page
        page = selectors.connection_list(query=ListQuery())
    assert [c.scope_summary for c in page.object_list] == ["3 users and groups"] * 5


def test_list_query_ignores_bad_parameters():
    query = ListQuery.from_params({"sort": "password", "page": "x", "deleted": "maybe"})
    assert query == ListQuery()


def test_list_query_round_trips_through_parameters():
    query = ListQuery(q="erp", sort="tested", descending=True, deleted=True, page=3)
    assert ListQuery.from_params(query.params()) == query


def test_the_shared_row_query_is_only_ever_cloned(manager_client, make_connection):
    """The list's query is built once per process; evaluating it would cache its rows."""
    make_connection("Main ERP")
    manager_client.get("/settings/quote-sync/erp-connections/")
    manager_client.get("/settings/quote-sync/erp-connections/?deleted=1&q=main")
    for deleted in (False, True):
        assert selectors._row_values(deleted=deleted)._result_cache is None


def test_a_row_is_worked_out_from_values(make_connection, make_user):
    connection = make_connection("Main ERP", scope=ERPConnection.Scope.SPECIFIC)
    connection.users.add(make_user("anna"))
    row = selectors.connection_row(pk=connection.pk)
    assert row is not None
    assert (row.id, row.select_label, row.scope_summary) == (
        str(connection.pk),
        "Select Main ERP",
        "1 user or group",
    )
    assert (row.last_tested, row.needs_attention, row.available) == ("", False, True)
