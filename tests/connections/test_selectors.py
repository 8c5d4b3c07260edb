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


def principal_labels(q, page=1, **kwargs):
    return [p.label for p in selectors.principal_search(q=q, page=page, **kwargs)]


def test_principal_search_finds_a_word_in_any_user_column_in_any_case(make_user):
    make_user("ivisser", first_name="Iris", last_name="Jansen", email="iris@noord.example")
    make_user("jan.smit", first_name="Bram", last_name="Smit", email="b@example.com")
    make_user("other", first_name="Eva", last_name="Bos", email="eva@zuid.example")
    assert principal_labels("JANSEN") == ["Iris Jansen"]  # last name
    assert principal_labels("noord") == ["Iris Jansen"]  # e-mail
    assert principal_labels("Jan") == ["Iris Jansen", "Bram Smit"]  # username too
    assert principal_labels("eva") == ["Eva Bos"]  # first name


def test_principal_search_needs_every_word_and_no_word_spans_two_columns(make_user):
    make_user("u1", first_name="Jan", last_name="Sen")
    make_user("u2", first_name="Jan", last_name="Jansen")
    assert principal_labels("jan sen") == ["Jan Sen", "Jan Jansen"]
    assert principal_labels("jansen") == ["Jan Jansen"]  # not "Jan" + "Sen"
    assert principal_labels("jan bos") == []


def test_principal_search_orders_users_by_username_across_pages(make_user):
    for i in reversed(range(45)):
        make_user(f"User{i:02d}", first_name="Anna")
    page = selectors.principal_search(q="anna", page=3, users_only=True)
    assert [p.detail for p in page] == [f"User{i:02d}" for i in range(40, 45)]
    assert page.paginator.count == 45


def test_principal_search_reads_a_page_in_three_queries(make_user, django_assert_num_queries):
    Group.objects.create(name="Jansen family")
    for i in range(25):
        make_user(f"user{i:02d}", last_name="Jansen")
    with django_assert_num_queries(2):  # both counts in one; the second page is users only
        page = selectors.principal_search(q="jansen", page=2)
        assert page.paginator.count == 26 and page.paginator.num_pages == 2
        assert len(list(page)) == 6
    with django_assert_num_queries(3):  # both counts, a page of groups, a page of users
        found = list(selectors.principal_search(q="jansen"))
    assert [p.kind for p in found] == ["group"] + ["user"] * 19
    with django_assert_num_queries(2):  # users only: their count and their page
        assert len(list(selectors.principal_search(q="jansen", users_only=True))) == 20


def test_the_user_search_indexes_exist(django_db_setup):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'auth_user'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'auth_user'")
        names = {row[0] for row in cursor.fetchall()}
    assert "auth_user_username_lower" in names
    if connection.vendor == "postgresql":
        assert "auth_user_search_trgm" in names
        with connection.cursor() as cursor:  # migration 0012 is SQLite's
            cursor.execute("SELECT to_regclass('user_search')")
            assert cursor.fetchone() == (None,)
    else:  # the FTS table's triggers (migration 0012)
        assert {"user_search_insert", "user_search_update", "user_search_delete"} <= names


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


def test_connection_principals_are_its_groups_then_its_users_in_the_order_they_were_picked(
    make_connection, make_user, django_assert_num_queries
):
    connection = make_connection("Branch ERP", scope="specific")
    other = make_connection("Other ERP", scope="specific")
    zoe = make_user("zoe", first_name="Zoë", last_name="de Vries")
    bare = make_user("bare")  # no name: shown by its username
    late = make_user("late", first_name="Late")
    sales, admins = Group.objects.create(name="Sales"), Group.objects.create(name="Admins")
    connection.users.add(zoe)
    connection.users.add(bare)
    connection.users.add(late)
    connection.groups.add(sales)
    connection.groups.add(admins)
    other.users.add(make_user("elsewhere"))
    other.groups.add(Group.objects.create(name="Elsewhere"))

    with django_assert_num_queries(1):
        principals = selectors.connection_principals(connection=connection)
    assert [(p.kind, p.id, p.label, p.detail) for p in principals] == [
        ("group", sales.pk, "Sales", ""),
        ("group", admins.pk, "Admins", ""),
        ("user", zoe.pk, "Zoë de Vries", ""),
        ("user", bare.pk, "bare", ""),
        ("user", late.pk, "Late", ""),
    ]
    assert selectors.connection_principals(connection=make_connection("Empty ERP")) == []


def test_by_pk_reads_what_get_reads_with_the_managers_filters(
    make_connection, manager, django_assert_num_queries
):
    connection = make_connection("North ERP", config={"base_url": "https://erp.example"})
    with django_assert_num_queries(1) as captured:
        read = selectors.by_pk(ERPConnection.objects, connection.pk)
    assert "LIMIT" not in captured.captured_queries[0]["sql"]  # not get()'s query
    expected = ERPConnection.objects.get(pk=connection.pk)
    assert read is not None and read.pk == connection.pk
    fields = [f.attname for f in ERPConnection._meta.concrete_fields]
    assert [getattr(read, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert read.config == {"base_url": "https://erp.example"}  # JSON decoded
    assert read.created_at.tzinfo is not None  # converted as the ORM converts it

    services.connection_delete(actor=manager, connection=connection)
    assert selectors.by_pk(ERPConnection.objects, connection.pk) is None  # live only
    assert selectors.by_pk(ERPConnection.all_objects, connection.pk) is not None
    assert selectors.by_pk(ERPConnection.objects, connection.pk + 1000) is None
    assert selectors.by_pk(ERPConnection.all_objects, 2**63) is None  # beyond the column
