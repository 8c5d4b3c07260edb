"""The list page's links, rows and query counts (the parts ``make bench`` measures)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from connections import selectors, services
from connections.models import ERPConnection
from connections.selectors import ListQuery

pytestmark = pytest.mark.django_db

LIST_URL = "/settings/quote-sync/erp-connections/"
HTMX = {"HX-Request": "true"}


def links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]*)"', html)]


def make_many(make_connection, make_user, manager, count: int) -> None:
    for index in range(count):
        connection = make_connection(
            f"Connection {index:03d}",
            scope=ERPConnection.Scope.SPECIFIC if index % 2 else ERPConnection.Scope.ALL,
            last_test_at=timezone.now(),
            last_test_by=manager,
            last_test_status="ok",
        )
        if index % 2:
            connection.users.add(make_user(f"user{index}"))
        if index % 5 == 0:
            services.connection_delete(actor=manager, connection=connection)


@pytest.mark.parametrize("params", [{}, {"q": "connection"}, {"deleted": "1"}, {"sort": "-tested"}])
def test_list_page_queries_stay_constant_as_connections_grow(
    manager_client, make_connection, make_user, manager, django_assert_num_queries, params
):
    make_many(make_connection, make_user, manager, 3)
    # user, its two permission lookups, count, page (the session is read from the cache)
    with django_assert_num_queries(5):
        manager_client.get(LIST_URL, params)
    make_many_more = [make_connection(f"More {i:03d}", description="x" * 300) for i in range(40)]
    assert make_many_more
    with django_assert_num_queries(5):
        html = manager_client.get(LIST_URL, params, headers=HTMX).content.decode()
    assert html.count('class="connection-row"') > 0


def test_the_name_link_opens_the_edit_dialog_with_the_list_state(manager_client, make_connection):
    connection = make_connection("Main ERP")
    html = manager_client.get(LIST_URL, {"q": "main", "sort": "-connector"}).content.decode()
    expected = f"{reverse('connections:edit', args=[connection.pk])}?q=main&sort=-connector"
    assert expected in links(html)
    assert '<tbody hx-boost="true" hx-target="#dialog-container"' in html


def test_a_deleted_row_opens_its_history(manager_client, make_connection, manager):
    connection = make_connection("Old ERP")
    services.connection_delete(actor=manager, connection=connection)
    html = manager_client.get(LIST_URL, {"deleted": "1"}).content.decode()
    assert f'hx-get="{reverse("connections:history", args=[connection.pk])}"' in html


def test_sort_and_page_links_carry_only_what_is_set(manager_client, make_connection):
    for index in range(30):
        make_connection(f"Connection {index:03d}")
    html = manager_client.get(LIST_URL, {"q": "", "sort": "", "deleted": ""}).content.decode()
    list_links = [link for link in links(html) if link.startswith(LIST_URL + "?")]
    assert f"{LIST_URL}?sort=connector" in list_links
    assert f"{LIST_URL}?sort=-name" in list_links  # Name is the current sort: toggles
    assert f"{LIST_URL}?page=2" in list_links
    assert not [link for link in list_links if re.search(r"=(&|$)", link)]


def test_sort_links_keep_the_search_and_drop_the_page(manager_client, make_connection):
    for index in range(30):
        make_connection(f"Connection {index:03d}")
    html = manager_client.get(LIST_URL, {"q": "conn", "page": "2"}).content.decode()
    assert f"{LIST_URL}?q=conn&sort=scope" in links(html)
    assert f"{LIST_URL}?q=conn" in links(html)  # Previous: page 1 is the default


def test_links_and_forms_inherit_their_htmx_target_from_one_container(manager_client):
    html = manager_client.get(LIST_URL, headers=HTMX).content.decode()
    assert html.count('hx-target="#results"') == 1
    assert html.count('hx-swap="outerHTML"') == 1
    assert 'id="results" aria-live="polite" hx-target="#results"' in html


def test_the_search_form_pushes_only_the_set_parameters(manager_client):
    response = manager_client.get(LIST_URL, {"q": "north", "sort": "", "deleted": ""}, headers=HTMX)
    assert response["HX-Push-Url"] == f"{LIST_URL}?q=north"
    clean = manager_client.get(LIST_URL, {"q": "north"}, headers=HTMX)
    assert "HX-Push-Url" not in clean


def test_rows_show_labels_counts_and_a_cut_description(
    manager_client, make_connection, make_user, manager
):
    connection = make_connection(
        "Main ERP", scope=ERPConnection.Scope.SPECIFIC, description="word " * 40
    )
    connection.users.add(make_user("anna"), make_user("bram"))
    html = manager_client.get(LIST_URL).content.decode()
    assert 'aria-label="Select Main ERP"' in html
    assert "2 users and groups" in html and "REST/JSON ERP" in html
    cut = re.search(r'<td class="description">([^<]*)</td>', html).group(1)
    assert len(cut) == 120 and cut.endswith("…")


def test_rows_are_translated(manager_client, make_connection):
    make_connection("Main ERP")
    manager_client.cookies.load({"django_language": "nl"})
    with translation.override("en"):  # the middleware's activation ends with the test
        html = manager_client.get(LIST_URL).content.decode()
    assert 'aria-label="Main ERP selecteren"' in html and ">Alles<" in html


def test_sorting_by_name_says_nothing_of_nulls_so_the_index_serves_it(make_connection):
    """``name`` is never NULL; NULLS FIRST would keep PostgreSQL from walking lower(name)."""
    make_connection("Main ERP")
    for descending in (False, True):
        rows = selectors.connection_list_query(query=ListQuery(descending=descending))
        assert "NULLS" not in str(rows.query).upper()
    tested = selectors.connection_list_query(query=ListQuery(sort="tested"))
    assert "NULLS FIRST" in str(tested.query).upper()  # never-tested first


def test_search_matches_names_case_insensitively_through_lower(make_connection):
    make_connection("North ERP")
    make_connection("NORTHERN lights")
    make_connection("South ERP")
    page = selectors.connection_list(query=ListQuery(q="NoRtH"))
    assert [c.name for c in page.object_list] == ["North ERP", "NORTHERN lights"]


def test_a_kept_row_is_kept_per_language(manager_client, make_connection):
    """Rows are rendered once per content, list state and language (list_rows.row_html)."""
    make_connection("Main ERP")
    with translation.override("en"):
        english = manager_client.get(LIST_URL).content.decode()
    manager_client.cookies.load({"django_language": "nl"})
    with translation.override("en"):  # the middleware's activation ends with the test
        dutch = manager_client.get(LIST_URL).content.decode()
    assert ">Not tested<" in english and ">Niet getest<" in dutch


def test_a_row_shows_what_changed_since_the_last_page(manager_client, make_connection, manager):
    connection = make_connection("Main ERP")
    assert ">Not tested<" in manager_client.get(LIST_URL).content.decode()
    ERPConnection.objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_by=manager, last_test_status="error"
    )
    html = manager_client.get(LIST_URL).content.decode()
    assert ">Not tested<" not in html and 'class="status status-error">Error<' in html


def test_a_row_link_carries_the_list_state_of_its_page(manager_client, make_connection):
    connection = make_connection("Main ERP")
    edit = reverse("connections:edit", args=[connection.pk])
    assert edit in links(manager_client.get(LIST_URL).content.decode())
    html = manager_client.get(LIST_URL, {"sort": "-connector"}).content.decode()
    assert f"{edit}?sort=-connector" in links(html)


def test_the_edit_dialog_opens_over_the_list_as_a_whole_page(manager_client, make_connection):
    """A reload of the dialog's URL draws the list under it and marks its row as on the page."""
    connection = make_connection("Main ERP")
    response = manager_client.get(reverse("connections:edit", args=[connection.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="connection-{connection.pk}"' in html and 'name="row_on_page"' in html
